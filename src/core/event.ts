/**
 * The one canonical provisioning event every source (Graph, Event Hub / Azure Monitor, the admin
 * center's JSON and CSV downloads) is normalised into. Enum values are the Graph v1.0 spellings.
 */
export const ACTIONS = ["create", "update", "delete", "disable", "stagedDelete", "other", "unknownFutureValue"] as const;
export type ProvisioningAction = (typeof ACTIONS)[number];

export const STATUSES = ["success", "failure", "skipped", "warning", "unknownFutureValue"] as const;
export type ProvisioningStatus = (typeof STATUSES)[number];

export const STEP_TYPES = ["import", "scoping", "matching", "processing", "referenceResolution", "export", "unknownFutureValue"] as const;
export type StepType = (typeof STEP_TYPES)[number];

export const ERROR_CATEGORIES = ["failure", "nonServiceFailure", "success", "unknownFutureValue"] as const;
export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

export interface Identity {
  id: string;
  displayName: string;
  identityType: string;
  details: Record<string, string>;
}

export interface ProvisioningSystem {
  id: string;
  displayName: string;
  details: Record<string, string>;
}

export interface ProvisioningStep {
  name: string;
  type: StepType;
  status: ProvisioningStatus;
  description: string;
  details: Record<string, string>;
}

export interface ModifiedProperty {
  displayName: string;
  oldValue: string | null;
  newValue: string | null;
}

export interface ProvisioningError {
  code: string;
  reason: string;
  category: ErrorCategory | null;
  additionalDetails: string | null;
  recommendedAction: string | null;
  /** Mined from the reason text ("StatusCode: Conflict"). */
  httpStatus: string | null;
  /** "This operation was retried N times" */
  retryCount: number | null;
  /** "It will be retried again after this date: <ISO> UTC", normalised to ISO UTC. */
  nextRetryAt: string | null;
}

export type EventSource = "graph" | "eventHub" | "logAnalytics" | "download-json" | "download-csv" | "demo";

export interface ProvisioningEvent {
  /** Dedupe key: Graph `id`, else the changeId. */
  id: string;
  changeId: string;
  cycleId: string;
  jobId: string;
  tenantId: string;
  /** ISO 8601 UTC with milliseconds. */
  activityDateTime: string;
  /** The time exactly as the source wrote it. */
  activityDateTimeRaw: string;
  action: ProvisioningAction;
  status: ProvisioningStatus;
  durationMs: number | null;
  initiatedBy: { id: string; displayName: string; initiatorType: string };
  servicePrincipal: { id: string; displayName: string };
  sourceSystem: ProvisioningSystem;
  targetSystem: ProvisioningSystem;
  sourceIdentity: Identity;
  targetIdentity: Identity;
  error: ProvisioningError | null;
  steps: ProvisioningStep[];
  modifiedProperties: ModifiedProperty[];
  source: EventSource;
  /** What was clipped to fit the field limits (src/core/ingest/limits.ts), for the card to say. */
  trimmed?: string[];
}

/** The name admins know the app by: the service principal, not `customappsso`. */
export function appName(e: Pick<ProvisioningEvent, "servicePrincipal" | "targetSystem">): string {
  return e.servicePrincipal.displayName || e.targetSystem.details["ServicePrincipalDisplayName"] || e.targetSystem.displayName || "(unknown app)";
}

/** The most human identifier of the person or group: UPN, then ReportableIdentifier, then name. */
export function identityLabel(e: Pick<ProvisioningEvent, "sourceIdentity" | "steps" | "targetIdentity">): string {
  const upn = e.sourceIdentity.details["UserPrincipalName"] ?? e.sourceIdentity.details["userPrincipalName"];
  if (upn) return upn;
  for (const step of e.steps) {
    const reportable = step.details["ReportableIdentifier"];
    if (reportable) return reportable;
  }
  return e.sourceIdentity.displayName || e.targetIdentity.displayName || e.sourceIdentity.id || e.targetIdentity.id || "(unknown)";
}

export function skipReason(e: Pick<ProvisioningEvent, "steps">): string | null {
  for (const step of e.steps) {
    const reason = step.details["SkipReason"];
    if (reason) return reason;
  }
  return null;
}

/** Identity kind in plain words: "User", "Group", or the raw type for SCIM URNs and others. */
export function identityKind(identityType: string): string {
  const t = identityType.toLowerCase();
  if (t === "user" || t.endsWith(":user")) return "User";
  if (t === "group" || t.endsWith(":group")) return "Group";
  return identityType || "Unknown";
}
