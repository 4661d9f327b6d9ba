import { odata, type TableClient } from "@azure/data-tables";
import type { ProvisioningEvent } from "../../core/event";
import { appIds } from "../../core/portalLinks";
import type { JobInfo } from "../../app/queryPorts";
import { createOnce, mapLimit } from "./batch";
import { jobKey } from "./keys";
import { getOrNull } from "./reads";
import { isConflict, optimistic } from "./optimistic";
import type { TableFactory } from "./client";
import { ChangeMarkers } from "./markers";

/**
 * jobs: PK "job", RK job key -> the app's name and ids, source and target systems, first and last
 * event, the last cycle and the first-seen times of the recent cycles (the usual interval). Read
 * whole (a tenant has tens of jobs) and cached by the query side; updated under ETags.
 */
const PK = "job";
const KEEP_CYCLES = 12;
/** The change marker stamped whenever a job is added: other instances see a new job within MARKER_CHECK_MS. */
const JOBS_MARKER = "jobs";

/** The job's most recent cycles as [cycleId, first seen], newest last: enough for its usual interval. */
export function mergeCycles(raw: unknown, events: Pick<ProvisioningEvent, "cycleId" | "activityDateTime">[]): [string, string][] {
  const cycles = new Map<string, string>();
  try {
    for (const [id, at] of JSON.parse(String(raw ?? "[]")) as [string, string][]) cycles.set(id, at);
  } catch {
    // An unreadable value is rebuilt from new events.
  }
  for (const e of events) {
    if (!e.cycleId) continue;
    const known = cycles.get(e.cycleId);
    if (!known || e.activityDateTime < known) cycles.set(e.cycleId, e.activityDateTime);
  }
  return [...cycles.entries()].sort((a, b) => a[1].localeCompare(b[1])).slice(-KEEP_CYCLES);
}

function parseCycles(raw: unknown): string[] {
  try {
    const v = JSON.parse(String(raw ?? "[]")) as [string, string][];
    return Array.isArray(v) ? v.map((c) => c[1]).filter(Boolean).sort() : [];
  } catch {
    return [];
  }
}

/** The job row after some events: newest wins for names, earliest and latest times are kept. */
export function nextJobRow(job: string, current: Record<string, unknown> | null, events: ProvisioningEvent[]): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  const sorted = [...events].sort((a, b) => a.activityDateTime.localeCompare(b.activityDateTime));
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  const was = (k: string) => (current?.[k] as string | undefined) ?? "";
  const lastAt = current && was("lastAt") > last.activityDateTime ? was("lastAt") : last.activityDateTime;
  const newer = lastAt === last.activityDateTime;
  return {
    partitionKey: PK,
    rowKey: job,
    jobId: first.jobId,
    app: newer || !current ? last.servicePrincipal.displayName || last.targetSystem.details["ServicePrincipalDisplayName"] || last.targetSystem.displayName : was("app"),
    servicePrincipalId: appIds(last).servicePrincipalId || was("servicePrincipalId"),
    appId: appIds(last).appId || was("appId"),
    sourceSystem: last.sourceSystem.displayName || was("sourceSystem"),
    targetSystem: last.targetSystem.displayName || was("targetSystem"),
    tenantId: last.tenantId || was("tenantId"),
    firstAt: current && was("firstAt") < first.activityDateTime ? was("firstAt") : first.activityDateTime,
    lastAt,
    lastCycleId: newer ? last.cycleId : was("lastCycleId"),
    cycles: JSON.stringify(mergeCycles(current?.["cycles"], sorted)),
  };
}

export class JobsTable {
  readonly table: TableClient;
  readonly init: () => Promise<void>;
  /** Bumped by every write of this process (its caches refresh at once). */
  localVersion = 0;
  private readonly markers: ChangeMarkers;
  constructor(factory: TableFactory) {
    this.table = factory.table("jobs");
    this.init = createOnce(this.table);
    this.markers = new ChangeMarkers(factory);
  }

  /** A value of the store's own (partition "meta"), or null. */
  async meta(name: string): Promise<string | null> {
    await this.init();
    const row = await getOrNull<{ value?: string }>(this.table, "meta", `v|${name}`);
    return typeof row?.value === "string" ? row.value : null;
  }

  /** Writes a meta value once: the first writer wins, and every caller gets the value that was kept. */
  async metaCreate(name: string, value: string): Promise<string> {
    await this.init();
    try {
      await this.table.createEntity({ partitionKey: "meta", rowKey: `v|${name}`, value });
      return value;
    } catch (err) {
      if (!isConflict(err)) throw err;
      return (await this.meta(name)) ?? value;
    }
  }

  /** The marker of the newest job added by any instance ("" before the first). */
  marker(): Promise<string> {
    return this.markers.read(JOBS_MARKER);
  }



  async update(events: ProvisioningEvent[], concurrency: number): Promise<void> {
    await this.init();
    const byJob = new Map<string, ProvisioningEvent[]>();
    for (const e of events) {
      const job = jobKey(e.jobId, e.servicePrincipal.id);
      let list = byJob.get(job);
      if (!list) byJob.set(job, (list = []));
      list.push(e);
    }
    let wrote = false;
    let added = false;
    await mapLimit([...byJob.entries()], concurrency, ([job, list]) =>
      optimistic({
        what: `job ${job}`,
        read: () => getOrNull<Record<string, unknown>>(this.table, PK, job),
        write: async (current) => {
          const entity = nextJobRow(job, current, list);
          // A redelivered batch changes nothing: no write.
          if (current && Object.entries(entity).every(([k, v]) => current[k] === v)) return;
          if (current) await this.table.updateEntity(entity, "Replace", { etag: current.etag });
          else await this.table.createEntity(entity);
          wrote = true;
          if (!current || current["app"] !== entity["app"] || current["tenantId"] !== entity["tenantId"]) added = true;
        },
      }),
    );
    if (added) await this.markers.stamp(JOBS_MARKER);
    if (wrote) this.localVersion++;
  }

  async list(): Promise<JobInfo[]> {
    await this.init();
    const out: JobInfo[] = [];
    for await (const j of this.table.listEntities<Record<string, string>>({ queryOptions: { filter: odata`PartitionKey eq ${PK}` } })) {
      out.push({
        jobKey: String(j["rowKey"]),
        jobId: j["jobId"] ?? "",
        servicePrincipalId: j["servicePrincipalId"] ?? "",
        appId: j["appId"] ?? "",
        app: j["app"] ?? "",
        sourceSystem: j["sourceSystem"] ?? "",
        targetSystem: j["targetSystem"] ?? "",
        firstAt: j["firstAt"] ?? "",
        lastAt: j["lastAt"] ?? "",
        lastCycleId: j["lastCycleId"] ?? "",
        cycleStarts: parseCycles(j["cycles"]),
        tenantId: j["tenantId"] ?? "",
      });
    }
    return out;
  }
}
