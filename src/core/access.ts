/**
 * Who may use provbot, as pure rules (issue 13 grows this into roles and owners). Tenants first:
 * only the tenants provbot was set up for may talk to it, and only their records are stored. A
 * refusal reveals nothing about what provbot holds.
 */
export type TenantList = ReadonlySet<string> | null;

export function tenantList(ids: string[] | null): TenantList {
  return ids ? new Set(ids.map((t) => t.trim().toLowerCase()).filter(Boolean)) : null;
}

/** Null: every tenant (only the unauthenticated local host, for the demo). */
export function tenantAllowed(list: TenantList, tenantId: string): boolean {
  return list === null || list.has(tenantId.trim().toLowerCase());
}

export const REFUSED_TITLE = "provbot is not available here";
export const REFUSED_TEXT =
  "provbot answers only in the organisation it was set up for. If you need it here, ask the administrator who installed it.";

/**
 * The Microsoft Entra roles that may read provisioning logs in the portal (role template ids, from
 * the built-in roles reference), and those of them that may change the tenant-wide alert thresholds.
 */
export const PROVISIONING_LOG_ROLES: Readonly<Record<string, string>> = {
  "4a5d8f65-41da-4de4-8968-e035b65339cf": "Reports Reader",
  "5d6b6bb7-de71-4623-b4af-96380a352509": "Security Reader",
  "5f2222b1-57c3-48ba-8ad5-d4759f1fde6f": "Security Operator",
  "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
  "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
  "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
  "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
  "f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
};

export const THRESHOLD_ROLES: ReadonlySet<string> = new Set([
  "194ae4cb-b126-40b2-bd5b-6091b380977d",
  "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
  "158c047a-c907-4556-b7ef-446551a6b5f7",
  "62e90394-69f5-4237-9190-012177145e10",
]);

/** The permission a custom role needs for the same. */
export const PROVISIONING_LOG_PERMISSION = "microsoft.directory/provisioningLogs/allProperties/read";

export type AccessMode = "roles" | "allowlist" | "tenant";

/** What one person may do: everything (and whether thresholds too), only their own apps, or nothing. */
export type Access =
  | { kind: "all"; thresholds: boolean; why: string }
  | { kind: "owner"; servicePrincipalIds: string[]; why: string }
  | { kind: "refused"; reason: string }
  /** The directory could not be read: refused for now, and not cached. */
  | { kind: "unavailable"; reason: string };

/** What the directory says about a person (Microsoft Graph, through the DirectoryLookup port). */
export interface DirectoryFacts {
  roleTemplateIds: string[];
  customRoleAllows: boolean;
  ownedServicePrincipalIds: string[];
  groupIds: string[];
}

/** The portal's rule, pure. */
export function decideAccess(mode: AccessMode, userObjectId: string, facts: DirectoryFacts | null, principals: ReadonlySet<string>): Access {
  if (mode === "tenant") return { kind: "all", thresholds: true, why: "tenant mode (local host)" };
  if (!userObjectId) return { kind: "refused", reason: "the message carries no Entra object id" };
  if (mode === "allowlist") {
    const id = userObjectId.toLowerCase();
    if (principals.has(id)) return { kind: "all", thresholds: true, why: "allow-listed user" };
    if (facts?.groupIds.some((g) => principals.has(g.toLowerCase()))) return { kind: "all", thresholds: true, why: "member of an allow-listed group" };
    return { kind: "refused", reason: "not on PROVBOT_ALLOWED_PRINCIPALS" };
  }
  if (!facts) return { kind: "unavailable", reason: "the directory could not be read" };
  const roles = facts.roleTemplateIds.map((r) => r.toLowerCase());
  const held = roles.filter((r) => r in PROVISIONING_LOG_ROLES);
  if (held.length > 0) return { kind: "all", thresholds: held.some((r) => THRESHOLD_ROLES.has(r)), why: held.map((r) => PROVISIONING_LOG_ROLES[r]).join(", ") };
  if (facts.customRoleAllows) return { kind: "all", thresholds: false, why: "custom role with provisioningLogs read" };
  if (facts.ownedServicePrincipalIds.length > 0) return { kind: "owner", servicePrincipalIds: facts.ownedServicePrincipalIds.map((s) => s.toLowerCase()), why: "application owner" };
  return { kind: "refused", reason: "no role that may read provisioning logs, and owns no application" };
}

export const NO_ACCESS_TITLE = "You need access to provisioning logs";
export const NO_ACCESS_TEXT = `provbot shows provisioning logs to the same people the Microsoft Entra admin center does: ${[...new Set(Object.values(PROVISIONING_LOG_ROLES))].join(", ")}, a custom role with the provisioning logs permission, or an owner of the application (for that application). Ask an administrator for one of these roles.`;
export const CHECK_FAILED_TEXT = "provbot could not check your access just now. Please try again in a minute.";
