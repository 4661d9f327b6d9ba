import { tenantAllowed, type Access, type TenantList } from "../core/access";
import type { QueryStore } from "./queryPorts";
import { storeFor } from "./scope";

/**
 * Who may read the tab's data and downloads: the same rule as the bot. In Teams, the page sends a
 * Teams SSO token (checked by the adapter, src/adapters/http/teamsSso.ts); then the tenant must be
 * allowed, and the person must pass the access rule (roles, ownership or the allow list), whose
 * decision also scopes what they read. Without a verifier (no PROVBOT_TAB_CLIENT_ID) the data is
 * open only on the unauthenticated local host, as the bot is; everywhere else it is closed.
 */
export interface TabIdentity {
  tenantId: string;
  objectId: string;
  name: string;
}

export interface TabVerifier {
  verify(token: string): Promise<TabIdentity | { error: string; unavailable?: boolean }>;
}

export interface TabGateDeps {
  store: QueryStore;
  verifier: TabVerifier | null;
  /** The unauthenticated local host on loopback. */
  openLocally: boolean;
  tenants: TenantList;
  tenantScoped: boolean;
  tenantGrants: Readonly<Record<string, string[]>>;
  access?: { decide(userObjectId: string): Promise<Access> };
  refused?: (e: { tenantId: string; userObjectId: string; reason: string }) => void;
}

export type TabGate = { ok: true; store: QueryStore; who: TabIdentity | null } | { ok: false; status: 401 | 403 | 503; error: string };

export async function openTabStore(deps: TabGateDeps, authorization: string | null): Promise<TabGate> {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1] ?? null;
  if (!deps.verifier) {
    if (deps.openLocally) return { ok: true, store: deps.store, who: null };
    return { ok: false, status: 401, error: "the tab's sign-in is not configured (PROVBOT_TAB_CLIENT_ID)" };
  }
  if (!token) return { ok: false, status: 401, error: "a Teams sign-in token is needed" };
  const who = await deps.verifier.verify(token);
  if ("error" in who) return who.unavailable ? { ok: false, status: 503, error: who.error } : { ok: false, status: 401, error: "the sign-in token was not accepted" };
  if (!tenantAllowed(deps.tenants, who.tenantId)) {
    deps.refused?.({ tenantId: who.tenantId, userObjectId: who.objectId, reason: "tenant not allowed" });
    return { ok: false, status: 403, error: "provbot does not serve this tenant" };
  }
  const access: Access = deps.access ? await deps.access.decide(who.objectId) : { kind: "all", thresholds: true, why: "no access rule" };
  if (access.kind === "unavailable") return { ok: false, status: 503, error: "access could not be checked; try again shortly" };
  if (access.kind === "refused") {
    deps.refused?.({ tenantId: who.tenantId, userObjectId: who.objectId, reason: access.reason });
    return { ok: false, status: 403, error: "you need a role that may read provisioning logs" };
  }
  return { ok: true, store: storeFor(deps.store, deps.tenantScoped, who.tenantId, access, deps.tenantGrants), who };
}
