import { decideAccess, type Access, type AccessMode, type DirectoryFacts } from "../core/access";
import { mayManage } from "../core/actions";
import { isGuid } from "../core/text";
import type { Clock } from "./ports";

/**
 * Who may ask, decided the way the Microsoft Entra admin center decides who may read provisioning
 * logs (src/core/access.ts has the rule), from what Microsoft Graph says about the person. A
 * decision is cached for `cacheMs` (5 minutes by default): a role removed in Entra takes effect in
 * provbot within that time. A directory that cannot be read refuses for now and is not cached; a
 * person the directory does not hold (404: another tenant's user) is refused, and that is cached.
 */
export interface DirectoryLookup {
  /** Directory role template ids, transitively (roles assigned through groups count). */
  roleTemplateIds(userObjectId: string): Promise<string[]>;
  /** A custom role assigned to the user allows reading provisioning logs. */
  customRoleAllows(userObjectId: string): Promise<boolean>;
  ownedServicePrincipalIds(userObjectId: string): Promise<string[]>;
  /** Group ids, transitively. */
  groupIds(userObjectId: string): Promise<string[]>;
}

export interface AccessDeps {
  mode: AccessMode;
  directory: DirectoryLookup | null;
  /** PROVBOT_ALLOWED_PRINCIPALS: user and group object ids, lowercase. */
  principals: ReadonlySet<string>;
  clock: Clock;
  cacheMs?: number;
}


export class AccessControl {
  private readonly cache = new Map<string, { at: number; access: Access }>();
  constructor(private readonly deps: AccessDeps) {}

  async decide(userObjectId: string): Promise<Access> {
    if (this.deps.mode === "tenant") return decideAccess("tenant", userObjectId, null, this.deps.principals);
    const id = userObjectId.trim().toLowerCase();
    // An object id reaches Graph in a path: only a GUID is looked up.
    if (!isGuid(id)) return { kind: "refused", reason: "the message carries no Entra object id" };
    const now = this.deps.clock.now().getTime();
    const cached = this.cache.get(id);
    if (cached && now - cached.at < (this.deps.cacheMs ?? 5 * 60_000)) return cached.access;
    let facts: DirectoryFacts | null = null;
    let unknown = false;
    try {
      facts = await this.facts(id);
    } catch (err) {
      // Graph answers 404 for an object id its directory does not hold (a user of another tenant):
      // that is an answer, not an outage: refused, and cached like any decision.
      unknown = (err as { statusCode?: unknown } | null)?.statusCode === 404;
      facts = null;
    }
    const access: Access = unknown ? { kind: "refused", reason: "not found in this directory" } : decideAccess(this.deps.mode, id, facts, this.deps.principals);
    if (access.kind !== "unavailable") this.cache.set(id, { at: now, access });
    return access;
  }

  private readonly managers = new Map<string, { at: number; roles: string[]; owned: string[] }>();

  /**
   * Whether this person may manage an app's provisioning (job actions, issue 26): an Application,
   * Cloud Application or Global Administrator, or an owner of that app (core/actions.ts mayManage),
   * from the same directory reads as the access rule, cached as long. "" asks for any app (by role).
   * The local host's tenant mode lets everyone act (the demo).
   */
  async mayManage(userObjectId: string, servicePrincipalId: string): Promise<"yes" | "no" | "unavailable"> {
    if (this.deps.mode === "tenant") return "yes";
    const id = userObjectId.trim().toLowerCase();
    if (!isGuid(id) || !this.deps.directory) return "no";
    const now = this.deps.clock.now().getTime();
    let facts = this.managers.get(id);
    if (!facts || now - facts.at >= (this.deps.cacheMs ?? 5 * 60_000)) {
      try {
        const [roles, owned] = await Promise.all([this.deps.directory.roleTemplateIds(id), this.deps.directory.ownedServicePrincipalIds(id)]);
        facts = { at: now, roles, owned };
      } catch (err) {
        if ((err as { statusCode?: unknown } | null)?.statusCode === 404) facts = { at: now, roles: [], owned: [] };
        else return "unavailable";
      }
      this.managers.set(id, facts);
    }
    return mayManage({ roleTemplateIds: facts.roles, ownedServicePrincipalIds: facts.owned }, servicePrincipalId).ok ? "yes" : "no";
  }

  private async facts(id: string): Promise<DirectoryFacts> {
    const d = this.deps.directory;
    if (!d) throw new Error("no directory configured");
    if (this.deps.mode === "allowlist") {
      if (this.deps.principals.has(id)) return { roleTemplateIds: [], customRoleAllows: false, ownedServicePrincipalIds: [], groupIds: [] };
      return { roleTemplateIds: [], customRoleAllows: false, ownedServicePrincipalIds: [], groupIds: await d.groupIds(id) };
    }
    const [roleTemplateIds, customRoleAllows, ownedServicePrincipalIds] = await Promise.all([d.roleTemplateIds(id), d.customRoleAllows(id), d.ownedServicePrincipalIds(id)]);
    return { roleTemplateIds, customRoleAllows, ownedServicePrincipalIds, groupIds: [] };
  }
}
