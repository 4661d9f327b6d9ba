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
