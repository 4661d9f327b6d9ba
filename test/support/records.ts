import { randomUUID } from "node:crypto";
import type { ProvisioningEvent } from "../../src/core/event";
import { normaliseRecord } from "../../src/core/ingest/normalise";

/**
 * Graph provisioningObjectSummary records for alert scenarios: a job, a cycle, a user and an
 * outcome. Shaped like the real records in test/fixtures/samples, so they go through the real normaliser.
 */
export interface RecordSpec {
  jobId: string;
  app: string;
  at: Date | string;
  action?: "create" | "update" | "delete" | "disable" | "stagedDelete";
  status?: "success" | "failure" | "skipped";
  user?: number;
  cycleId?: string;
  errorCode?: string;
  id?: string;
}

export function provisioningRecord(s: RecordSpec): Record<string, unknown> {
  const at = typeof s.at === "string" ? s.at : s.at.toISOString();
  const user = s.user ?? 1;
  const upn = `user${user}@contoso.com`;
  const spId = `sp-${s.jobId}`;
  const status = s.status ?? "success";
  const action = s.action ?? "update";
  return {
    id: s.id ?? randomUUID(),
    activityDateTime: at,
    tenantId: "tenant-1",
    jobId: s.jobId,
    cycleId: s.cycleId ?? "cycle-1",
    changeId: randomUUID(),
    provisioningAction: action,
    durationInMilliseconds: 1200,
    initiatedBy: { id: "", displayName: "Azure AD Provisioning Service", initiatorType: "system" },
    servicePrincipal: { id: spId, displayName: s.app },
    sourceSystem: { id: "src", displayName: "Microsoft Entra ID", details: {} },
    targetSystem: { id: "tgt", displayName: s.app, details: { ServicePrincipalId: spId, ServicePrincipalDisplayName: s.app } },
    sourceIdentity: { id: `obj-${user}`, displayName: `User ${user}`, identityType: "User", details: { UserPrincipalName: upn } },
    targetIdentity: { id: `t-${user}`, displayName: `User ${user}`, identityType: "User", details: {} },
    provisioningStatusInfo: {
      status,
      errorInformation:
        status === "failure"
          ? { errorCode: s.errorCode ?? "SystemForCrossDomainIdentityManagementServiceIncompatible", reason: "StatusCode: BadRequest\r\nMessage: rejected", errorCategory: "nonServiceFailure", additionalDetails: null, recommendedAction: null }
          : status === "skipped" && action === "stagedDelete"
            ? { errorCode: "AccidentalDeletionThresholdReached", reason: "held back", errorCategory: "nonServiceFailure", additionalDetails: null, recommendedAction: null }
            : null,
    },
    provisioningSteps: [
      { name: "EntryImport", provisioningStepType: "import", status: "success", description: "imported", details: {} },
      { name: "EntryExport", provisioningStepType: "export", status, description: `${action} ${upn}`, details: {} },
    ],
    modifiedProperties: [],
  };
}

/** `count` records of one kind, one user each, a few seconds apart ending at `end`. */
export function burst(count: number, spec: Omit<RecordSpec, "at" | "user"> & { end: Date; firstUser?: number }): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => provisioningRecord({ ...spec, user: (spec.firstUser ?? 1) + i, at: new Date(spec.end.getTime() - (count - i) * 5_000) }));
}

/** One normalised event built from a provisioningRecord (for tests of the row mappings). */
export function sampleEvent(spec: Partial<RecordSpec> = {}): ProvisioningEvent {
  const result = normaliseRecord(provisioningRecord({ jobId: "Job.sample", app: "Sample", at: "2026-11-21T10:00:00Z", user: 1, ...spec }));
  if (result.kind !== "event") throw new Error(`sample record did not normalise: ${result.reason}`);
  return result.event;
}
