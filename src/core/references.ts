import type { ProvisioningEvent, ProvisioningStep } from "./event";

/**
 * A reference that could not be resolved: a group member, or a user's manager, that the target
 * app could not be given (it is not in scope, or not provisioned yet). As the Azure Monitor seed
 * finds them: by the reference-resolution step and its error code, whatever the event's overall
 * status (a group update can succeed with one member's reference skipped). Pure.
 */
const CODE = /UnableToResolveReference/i;
const WORDS = /unable to (?:assign|resolve)|failed to resolve|could not (?:be )?resolve/i;

export function referenceProblemStep(e: Pick<ProvisioningEvent, "steps">): ProvisioningStep | null {
  for (const s of e.steps) {
    const values = Object.values(s.details);
    if (values.some((v) => CODE.test(v)) || CODE.test(s.description)) return s;
    if (s.type === "referenceResolution" && s.status !== "success" && (WORDS.test(s.description) || values.length > 0 || s.status === "failure" || s.status === "skipped")) return s;
  }
  return null;
}

/** What was not assigned: "We were unable to assign <id> as the members of <group>", "…members: A, B", "manager …". */
export function unresolvedWhat(step: ProvisioningStep): string {
  return (
    /unable to assign (.+?) as (?:the )?(?:members?|manager) of/i.exec(step.description)?.[1] ??
    /(?:members?|manager):\s*(.+)$/i.exec(step.description)?.[1] ??
    step.details["ReferenceAttribute"] ??
    step.description
  );
}
