import { normaliseName } from "./names";
import type { ProvisioningEvent } from "./event";

/**
 * Every key an admin might use to name the identity of an event: display name, UPN and its local
 * part, mail nickname, and the object / source / target ids. Prefixed by kind so that a name and
 * an id never collide.
 */
export function identityKeys(e: Pick<ProvisioningEvent, "sourceIdentity" | "targetIdentity" | "steps">): string[] {
  const keys = new Set<string>();
  const add = (kind: string, value: string | undefined) => {
    const v = value?.trim();
    if (v) keys.add(`${kind}:${kind === "n" ? normaliseName(v) : v.toLowerCase()}`);
  };
  add("n", e.sourceIdentity.displayName);
  add("n", e.sourceIdentity.details["DisplayName"]);
  if (e.targetIdentity.displayName !== e.sourceIdentity.displayName) add("n", e.targetIdentity.displayName);
  const upn = e.sourceIdentity.details["UserPrincipalName"] ?? e.sourceIdentity.details["userPrincipalName"];
  add("u", upn);
  if (upn?.includes("@")) add("l", upn.split("@")[0]);
  for (const step of e.steps) {
    add("u", step.details["userPrincipalName"]);
    add("l", step.details["mailNickname"]);
    const reportable = step.details["ReportableIdentifier"];
    if (reportable?.includes("@")) {
      add("u", reportable);
      add("l", reportable.split("@")[0]);
    }
  }
  add("i", e.sourceIdentity.id);
  add("i", e.targetIdentity.id);
  return [...keys];
}
