import type { JobStatus, Transition } from "../core/jobs/status";
import type { ProvisioningAudit } from "../core/jobs/audit";

/**
 * What job health needs from storage (implemented in src/adapters/tables/jobStatusTable.ts and
 * auditTable.ts): the latest status of every job with its history of changes, and the provisioning
 * audit trail per service principal.
 */
export interface StoredJobStatus {
  /** The same key the events' jobs table uses (jobKey(jobId, servicePrincipalId)). */
  jobKey: string;
  jobId: string;
  servicePrincipalId: string;
  appName: string;
  /** The tenant the job runs in ("" when unknown: the deployment's own). */
  tenantId: string;
  status: JobStatus;
  /** When provbot last read this status from Graph. */
  checkedAt: string;
  /** When it last changed. */
  changedAt: string;
}

export interface JobStatusChange {
  at: string;
  code: string;
  reason: string;
  transitions: Transition[];
  /** Failing (escrowed) objects and objects in scope at that reading, for the forecast's trend. */
  failing: number;
  inScope: number;
}

export interface JobStatusStore {
  /** Every job's latest status (one partition read; a tenant has tens of jobs). */
  all(): Promise<StoredJobStatus[]>;
  /** Writes the latest status; with `change`, also appends it to the job's history. */
  save(record: StoredJobStatus, change: JobStatusChange | null): Promise<void>;
  /** Newest first. */
  history(jobKey: string, limit: number): Promise<JobStatusChange[]>;
}

export interface AuditStore {
  /** Idempotent: a record read twice (overlapping polls) is stored once. */
  write(audits: ProvisioningAudit[]): Promise<void>;
  /** One service principal's records in [from, to), newest first. */
  list(servicePrincipalId: string, from: string, to: string, limit: number): Promise<ProvisioningAudit[]>;
}
