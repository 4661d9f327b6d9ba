import type { ProvisioningAction, ProvisioningEvent, ProvisioningStatus } from "../core/event";
import type { HourCounts } from "../core/counts";
import type { ProvisioningAudit } from "../core/jobs/audit";
import type { JobStatusChange, StoredJobStatus } from "./jobHealthPorts";

/** What answering questions needs from storage (implemented in src/adapters/tables/queryStore.ts). */
export interface IdentityCandidate {
  identityKey: string;
  /** The same person under other canonical keys (an HR worker id and a directory object id). */
  otherKeys?: string[];
  displayName: string;
  /** UPN or another human identifier. */
  identity: string;
  identityType: string;
  matchedBy: string;
  /** The tenant whose events named this identity (absent: unknown, the deployment's own). */
  tenantId?: string;
}

export interface JobInfo {
  jobKey: string;
  jobId: string;
  /** The service principal's object id (the portal's Application filter takes it). */
  servicePrincipalId?: string;
  /** The application (client) id, for links to the app in the Entra admin center. */
  appId?: string;
  app: string;
  sourceSystem: string;
  targetSystem: string;
  firstAt: string;
  lastAt: string;
  lastCycleId: string;
  /** First-seen times of the job's most recent cycles, oldest first (for its usual interval). */
  cycleStarts: string[];
  /** The tenant the job runs in ("" when its events carried none). */
  tenantId?: string;
  /** Known only from its job status (no event stored yet: new, or quarantined before its first). */
  statusOnly?: boolean;
}

/** One event as a list row (from an index row or the event's summary columns). */
export interface EventRow {
  epk: string;
  erk: string;
  at: string;
  jobKey: string;
  action: ProvisioningAction;
  status: ProvisioningStatus;
  errorCode: string;
  targetId?: string;
  identity?: string;
  identityName?: string;
  identityType?: string;
  changeId?: string;
  cycleId?: string;
  /** A reference (group member, manager) could not be resolved in this event. */
  refIssue?: boolean;
}

/** What a person's events are narrowed to where they are read. */
export interface IdentityFilter {
  statuses?: ProvisioningStatus[];
  jobKeys?: string[];
}

/** Hourly counts per job (typed, see src/core/counts.ts). */
export type CountRow = HourCounts;

export interface ListQuery {
  jobKeys: string[];
  from: string;
  to: string;
  actions?: ProvisioningAction[];
  status?: ProvisioningStatus;
  identityType?: string;
  errorCode?: string;
  /** Only events with a reference that could not be resolved, whatever their status. */
  referenceProblem?: boolean;
  limit: number;
  /** Skip the newest `offset` matches (paging). */
  offset: number;
}

/** What a download holds: the list's filters, and a cycle. */
export type ExportQuery = Omit<ListQuery, "limit" | "offset"> & { cycleId?: string };

export interface QueryStore {
  /** Exact alias matches: display name, first name, UPN, its local part, nickname, any id. */
  findIdentities(phrase: string): Promise<IdentityCandidate[]>;
  /** All display names and first names, for near-match suggestions (cached briefly). */
  allNames(): Promise<IdentityCandidate[]>;
  /** Cached briefly; `fresh` reads the table. */
  jobs(fresh?: boolean): Promise<JobInfo[]>;
  /** One job's events in [from, to), oldest hour first, at most `limit`. */
  windowEvents(jobKey: string, from: string, to: string, limit: number): Promise<EventRow[]>;
  /**
   * Newest-first events of one identity, filtered where they are stored (outcome, jobs) so that the
   * cost of an answer does not grow with the person's history: at most `limit` rows are read.
   */
  identityEvents(identityKey: string, from: string, to: string, limit: number, filter?: IdentityFilter): Promise<EventRow[]>;
  lastKnownState(identityKey: string, jobKey: string, now: string): Promise<EventRow | null>;
  getEvent(epk: string, erk: string): Promise<ProvisioningEvent | null>;
  getByChangeId(changeId: string): Promise<ProvisioningEvent[]>;
  cycle(cycleId: string): Promise<{ jobKey: string; at: string } | null>;
  cycleEvents(jobKey: string, cycleId: string, around: string, limit: number): Promise<EventRow[]>;
  /** A page of matching events, with the total from the hourly counts (`exact` when the range is whole hours). */
  listEvents(query: ListQuery): Promise<{ rows: EventRow[]; more: boolean; total: number; exact: boolean }>;
  counts(jobKeys: string[] | null, from: string, to: string): Promise<CountRow[]>;
  /** How many events match (from the hourly counts; `exact` when the range is whole hours). */
  countEvents(query: Omit<ListQuery, "limit" | "offset">): Promise<{ total: number; exact: boolean }>;
  /** Every matching event, whole, for a download (streamed: one page in memory at a time). */
  exportEvents(query: ExportQuery): AsyncIterable<ProvisioningEvent>;
  /** Every job's latest status from the job-status poller (cached briefly; empty when it does not run). */
  jobStatuses(): Promise<StoredJobStatus[]>;
  /** One job's status changes, newest first. */
  statusHistory(jobKey: string, limit: number): Promise<JobStatusChange[]>;
  /** The provisioning audit trail of one service principal in [from, to), newest first. */
  audits(servicePrincipalId: string, from: string, to: string, limit: number): Promise<ProvisioningAudit[]>;
}
