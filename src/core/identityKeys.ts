import { normaliseName } from "./names";
import type { ProvisioningEvent } from "./event";

/**
 * Identities are indexed under one canonical key (the source object id, else the UPN, else the
 * name), and every name an admin might use for them (display name, first name, UPN, its local
 * part, mail nickname, target id) is an alias in the directory that points at that key.
 */
export function canonicalIdentityKey(e: Pick<ProvisioningEvent, "sourceIdentity" | "targetIdentity" | "steps">): string {
  if (e.sourceIdentity.id) return `i:${e.sourceIdentity.id.toLowerCase()}`;
  const upn = upnOf(e);
  if (upn) return `u:${upn.toLowerCase()}`;
  const name = e.sourceIdentity.displayName || e.targetIdentity.displayName;
  if (name) return `n:${normaliseName(name)}`;
  return e.targetIdentity.id ? `t:${e.targetIdentity.id.toLowerCase()}` : "";
}

export function upnOf(e: Pick<ProvisioningEvent, "sourceIdentity" | "steps">): string | undefined {
  const fromDetails = e.sourceIdentity.details["UserPrincipalName"] ?? e.sourceIdentity.details["userPrincipalName"];
  if (fromDetails) return fromDetails;
  for (const step of e.steps) {
    const v = step.details["userPrincipalName"] ?? step.details["ReportableIdentifier"];
    if (v?.includes("@")) return v;
  }
  return undefined;
}

export type AliasKind = "n" | "g" | "u" | "l" | "i";

export interface Alias {
  kind: AliasKind;
  value: string;
}

/** Every lookup alias of the event's identity, normalised (lower case, accents and extra spaces removed). */
export function identityAliases(e: Pick<ProvisioningEvent, "sourceIdentity" | "targetIdentity" | "steps">): Alias[] {
  const out = new Map<string, Alias>();
  const add = (kind: AliasKind, raw: string | undefined) => {
    const value = raw ? normaliseName(raw) : "";
    if (value) out.set(`${kind}:${value}`, { kind, value });
  };
  const name = e.sourceIdentity.displayName || e.targetIdentity.displayName;
  add("n", name);
  add("n", e.sourceIdentity.details["DisplayName"]);
  if (name.includes(" ")) add("g", name.split(" ")[0]);
  const upn = upnOf(e);
  add("u", upn);
  if (upn?.includes("@")) add("l", upn.split("@")[0]);
  for (const step of e.steps) add("l", step.details["mailNickname"]);
  add("i", e.sourceIdentity.id);
  add("i", e.targetIdentity.id);
  return [...out.values()];
}
