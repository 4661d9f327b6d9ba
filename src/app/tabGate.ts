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

/** Every refusal at the tab's door is logged as the bot's are: who (when known) and why, never the token. */
export async function openTabStore(deps: TabGateDeps, authorization: string | null): Promise<TabGate> {
  const refuse = (status: 401 | 403, error: string, reason: string, who?: TabIdentity): TabGate => {
    deps.refused?.({ tenantId: who?.tenantId ?? "", userObjectId: who?.objectId ?? "", reason });
    return { ok: false, status, error };
  };
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1] ?? null;
  if (!deps.verifier) {
    if (deps.openLocally) return { ok: true, store: deps.store, who: null };
    return refuse(401, "the tab's sign-in is not configured (PROVBOT_TAB_CLIENT_ID)", "the tab's sign-in is not configured");
  }
  if (!token) return refuse(401, "a Teams sign-in token is needed", "no Teams sign-in token");
  const who = await deps.verifier.verify(token);
  if ("error" in who) return who.unavailable ? { ok: false, status: 503, error: who.error } : refuse(401, "the sign-in token was not accepted", `token refused: ${who.error.slice(0, 120)}`);
  if (!tenantAllowed(deps.tenants, who.tenantId)) return refuse(403, "provbot does not serve this tenant", "tenant not allowed", who);
  const access: Access = deps.access ? await deps.access.decide(who.objectId) : { kind: "all", thresholds: true, why: "no access rule" };
  if (access.kind === "unavailable") return { ok: false, status: 503, error: "access could not be checked; try again shortly" };
  if (access.kind === "refused") return refuse(403, "you need a role that may read provisioning logs", access.reason, who);
  return { ok: true, store: storeFor(deps.store, deps.tenantScoped, who.tenantId, access, deps.tenantGrants), who };
}
