import { odata, type TableClient } from "@azure/data-tables";
import { reviveJobStatus, type JobStatus, type Transition } from "../../core/jobs/status";
import type { JobStatusChange, JobStatusStore, StoredJobStatus } from "../../app/jobHealthPorts";
import { createOnce } from "./batch";
import { keyPart, reverseTicks } from "./keys";
import type { TableFactory } from "./client";
import { ChangeMarkers } from "./markers";

/** Stamped whenever a job's status changes: other instances refresh their cached statuses within MARKER_CHECK_MS. */
const STATUS_MARKER = "statuses";

/**
 * jobstatus: the provisioning summary report of every job, as the job-status poller last read it.
 * - PK "latest", RK job key: the status (JSON), the service principal, app name and tenant, when
 *   it was read and when it last changed. Read whole: a tenant has tens of jobs.
 * - PK "h|<job key>", RK reverse time: one row per change (status, quarantine reason, failing
 *   objects), newest first: the job's history and the forecast's trend.
 */
const LATEST = "latest";
const historyPk = (jobKey: string) => `h|${keyPart(jobKey, 300)}`;
/** Well under Table Storage's 32K characters per string property; a status is far smaller. */
const MAX_JSON = 30_000;

export class JobStatusTable implements JobStatusStore {
  readonly table: TableClient;
  private readonly init: () => Promise<void>;
  private readonly markers: ChangeMarkers;
  constructor(factory: TableFactory) {
    this.table = factory.table("jobstatus");
    this.init = createOnce(this.table);
    this.markers = new ChangeMarkers(factory);
  }

  /** Moves whenever any instance stores a changed status ("" before the first). */
  marker(): Promise<string> {
    return this.markers.read(STATUS_MARKER);
  }

  async all(): Promise<StoredJobStatus[]> {
    await this.init();
    const out: StoredJobStatus[] = [];
    for await (const e of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${LATEST}` } })) {
      let status: JobStatus | null;
      try {
        status = reviveJobStatus(JSON.parse(String(e["status"] ?? "")));
      } catch {
        status = null;
      }
      if (!status) continue; // An unreadable row is rewritten by the next poll.
      out.push({
        jobKey: String(e["jobKey"] ?? e.rowKey),
        jobId: String(e["jobId"] ?? ""),
        servicePrincipalId: String(e["servicePrincipalId"] ?? ""),
        appName: String(e["appName"] ?? ""),
        tenantId: String(e["tenantId"] ?? ""),
        status,
        checkedAt: String(e["checkedAt"] ?? ""),
        changedAt: String(e["changedAt"] ?? ""),
      });
    }
    return out;
  }

  /** Bumped by every save of this process (its caches refresh at once). */
  localVersion = 0;

  async save(record: StoredJobStatus, change: JobStatusChange | null): Promise<void> {
    await this.init();
    this.localVersion++;
    const status = JSON.stringify(record.status);
    if (status.length > MAX_JSON) throw new Error(`job ${record.jobKey}: status too large to store (${status.length} characters)`);
    // The history first: a crash between the two writes repeats the change on the next poll
    // (same reverse-time key: one row), never loses it.
    if (change) {
      await this.table.upsertEntity(
        { partitionKey: historyPk(record.jobKey), rowKey: reverseTicks(change.at), at: change.at, code: change.code, reason: change.reason, transitions: change.transitions.join(","), failing: change.failing, inScope: change.inScope },
        "Replace",
      );
    }
    await this.table.upsertEntity(
      {
        partitionKey: LATEST,
        rowKey: keyPart(record.jobKey, 300),
        jobKey: record.jobKey,
        jobId: record.jobId,
        servicePrincipalId: record.servicePrincipalId,
        appName: record.appName.slice(0, 1000),
        tenantId: record.tenantId,
        status,
        checkedAt: record.checkedAt,
        changedAt: record.changedAt,
      },
      "Replace",
    );    // After the row: an instance that reloads on seeing the stamp reads the new status.
    if (change) await this.markers.stamp(STATUS_MARKER);
  }

  async history(jobKey: string, limit: number): Promise<JobStatusChange[]> {
    await this.init();
    const out: JobStatusChange[] = [];
    const pages = this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${historyPk(jobKey)}` } }).byPage({ maxPageSize: Math.min(limit, 1000) });
    for await (const page of pages) {
      for (const e of page) {
        out.push({
          at: String(e["at"] ?? ""),
          code: String(e["code"] ?? ""),
          reason: String(e["reason"] ?? ""),
          transitions: String(e["transitions"] ?? "").split(",").filter(Boolean) as Transition[],
          failing: Number(e["failing"] ?? 0),
          inScope: Number(e["inScope"] ?? 0),
        });
        if (out.length >= limit) return out;
      }
    }
    return out;
  }
}
