import { odata, type TableClient } from "@azure/data-tables";
import type { ProvisioningEvent } from "../../core/event";
import { identityKeys } from "../../core/identityKeys";
import { identityLabel } from "../../core/event";
import type { CsvParts, EventStore } from "../../app/ports";
import { ensureTables, entityKey, insertNew, mapLimit, upsertAll, type Entity } from "./batch";
import { fromEventEntity, summaryOf, toEventEntity, type EventEntity } from "./eventEntity";
import { hourBucket, jobKey, keys, prefixUpperBound } from "./keys";
import type { TableFactory } from "./client";

/**
 * Table Storage design (one repository, several tables, keys in keys.ts):
 * - events:      PK job|yyyyMMddHH, RK reverse-time|id      full record; a job's events in a time range
 * - refs:        id|bucket / chg|bucket / cyc|bucket        dedupe marker by id; point lookups by changeId and cycleId
 * - identities:  week|bucket, RK key|reverse-time|id        newest-first events per name / UPN / object id / target id
 * - state:       job|bucket, RK object|reverse-time         every observation; the first row is the last known state
 * - counts:      PK job, RK yyyyMMddHH                      per action/status counts, recomputed from the events partition
 * - jobs:        PK "job", RK job                           app name, systems, first/last event: resolution and silence
 * - csvparts:    PK chg|bucket, RK changeId|kind            CSV steps/properties waiting for their event
 * Every write is an upsert (re-delivery is harmless) except the id marker, whose insert tells new from duplicate.
 */
export const EVENT_TABLES = ["events", "refs", "identities", "state", "counts", "jobs", "csvparts"] as const;

export class TableEventStore implements EventStore {
  readonly events: TableClient;
  readonly refs: TableClient;
  readonly identities: TableClient;
  readonly state: TableClient;
  readonly counts: TableClient;
  readonly jobs: TableClient;
  readonly csvparts: TableClient;
  private ready: Promise<void> | null = null;

  constructor(factory: TableFactory, private readonly concurrency = 8) {
    this.events = factory.table("events");
    this.refs = factory.table("refs");
    this.identities = factory.table("identities");
    this.state = factory.table("state");
    this.counts = factory.table("counts");
    this.jobs = factory.table("jobs");
    this.csvparts = factory.table("csvparts");
  }

  init(): Promise<void> {
    this.ready ??= ensureTables([this.events, this.refs, this.identities, this.state, this.counts, this.jobs, this.csvparts]);
    return this.ready;
  }

  async write(input: ProvisioningEvent[]): Promise<{ newIds: Set<string> }> {
    await this.init();
    const byId = new Map<string, ProvisioningEvent>();
    for (const e of input) byId.set(e.id, e);
    const events = await this.withPendingParts([...byId.values()]);

    const eventEntities: EventEntity[] = [];
    const refEntities: Entity[] = [];
    const identityEntities: Entity[] = [];
    const stateEntities: Entity[] = [];
    const markers: Entity[] = [];
    const markerOwner = new Map<string, { id: string; job: string; hour: string; event: ProvisioningEvent }>();

    for (const e of events) {
      const job = jobKey(e.jobId, e.servicePrincipal.id);
      const k = keys.event(job, e.activityDateTime, e.id);
      const entity = toEventEntity(e, k.partitionKey, k.rowKey, job);
      eventEntities.push(entity);
      const summary = summaryOf(entity);
      refEntities.push({ ...keys.changeRef(e.changeId, e.id), epk: k.partitionKey, erk: k.rowKey, at: e.activityDateTime });
      if (e.cycleId) refEntities.push({ ...keys.cycleRef(e.cycleId, e.activityDateTime, e.id), ...summary });
      for (const key of identityKeys(e)) identityEntities.push({ ...keys.identity(key, e.activityDateTime, e.id), ...summary });
      const objectKey = e.sourceIdentity.id || identityLabel(e);
      stateEntities.push({
        ...keys.state(job, objectKey, e.activityDateTime),
        ...summary,
        targetId: e.targetIdentity.id,
        objectKey,
      });
      const marker = { ...keys.idRef(e.id), epk: k.partitionKey, erk: k.rowKey, at: e.activityDateTime };
      markers.push(marker);
      markerOwner.set(entityKey(marker), { id: e.id, job, hour: hourBucket(e.activityDateTime), event: e });
    }

    // 1. The record and every index: upserts, so a crash midway and a redelivery are both harmless.
    await Promise.all([
      upsertAll(this.events, eventEntities, this.concurrency),
      upsertAll(this.refs, refEntities, this.concurrency),
      upsertAll(this.identities, identityEntities, this.concurrency),
      upsertAll(this.state, stateEntities, this.concurrency),
    ]);
    // 2. Only then the id marker: its insert tells a new event from a redelivered one.
    const existing = await insertNew(this.refs, markers, this.concurrency);
    const newIds = new Set<string>();
    const touched = new Map<string, ProvisioningEvent[]>();
    for (const [key, owner] of markerOwner) {
      if (existing.has(key)) continue;
      newIds.add(owner.id);
      const bucketKey = `${owner.job}\u0000${owner.hour}`;
      if (!touched.has(bucketKey)) touched.set(bucketKey, []);
      touched.get(bucketKey)!.push(owner.event);
    }
    // 3. Aggregates, recomputed from the stored events (idempotent, exact after redelivery).
    await mapLimit([...touched.keys()], this.concurrency, (bucketKey) => {
      const [job, hour] = bucketKey.split("\u0000") as [string, string];
      return this.recount(job, hour);
    });
    await this.updateJobs([...touched.values()].flat());
    return { newIds };
  }

  /** Recomputes the counts row of one job-hour from its events partition. */
  async recount(job: string, hour: string): Promise<void> {
    const counts: Record<string, number> = {};
    const errors: Record<string, number> = {};
    let total = 0;
    const rows = this.events.listEntities<{ action: string; status: string; errorCode: string }>({
      queryOptions: { filter: odata`PartitionKey eq ${keys.eventPartition(job, hour)}`, select: ["action", "status", "errorCode"] },
    });
    for await (const row of rows) {
      total++;
      const key = `n_${row.action}_${row.status}`;
      counts[key] = (counts[key] ?? 0) + 1;
      if (row.status === "failure" && row.errorCode) errors[row.errorCode] = (errors[row.errorCode] ?? 0) + 1;
    }
    const topErrors = Object.fromEntries(Object.entries(errors).sort((a, b) => b[1] - a[1]).slice(0, 25));
    await this.counts.upsertEntity({ ...keys.count(job, hour), total, ...counts, errors: JSON.stringify(topErrors) }, "Replace");
  }

  private async updateJobs(events: ProvisioningEvent[]): Promise<void> {
    const byJob = new Map<string, ProvisioningEvent[]>();
    for (const e of events) {
      const job = jobKey(e.jobId, e.servicePrincipal.id);
      if (!byJob.has(job)) byJob.set(job, []);
      byJob.get(job)!.push(e);
    }
    await mapLimit([...byJob.entries()], this.concurrency, async ([job, list]) => {
      const sorted = [...list].sort((a, b) => a.activityDateTime.localeCompare(b.activityDateTime));
      const first = sorted[0]!;
      const last = sorted[sorted.length - 1]!;
      for (let attempt = 0; attempt < 5; attempt++) {
        const current = await this.jobs.getEntity<Record<string, unknown>>("job", job).catch(() => null);
        const lastAt = current && String(current["lastAt"]) > last.activityDateTime ? String(current["lastAt"]) : last.activityDateTime;
        const newer = lastAt === last.activityDateTime;
        const entity = {
          ...keys.job(job),
          jobId: first.jobId,
          app: newer || !current ? last.servicePrincipal.displayName || last.targetSystem.details["ServicePrincipalDisplayName"] || last.targetSystem.displayName : current["app"],
          servicePrincipalId: last.servicePrincipal.id || (current?.["servicePrincipalId"] as string) || "",
          sourceSystem: last.sourceSystem.displayName || (current?.["sourceSystem"] as string) || "",
          targetSystem: last.targetSystem.displayName || (current?.["targetSystem"] as string) || "",
          tenantId: last.tenantId || (current?.["tenantId"] as string) || "",
          firstAt: current && String(current["firstAt"]) < first.activityDateTime ? String(current["firstAt"]) : first.activityDateTime,
          lastAt,
          lastCycleId: newer ? last.cycleId : String(current?.["lastCycleId"] ?? ""),
        };
        try {
          if (current) await this.jobs.updateEntity(entity, "Replace", { etag: String(current["etag"]) });
          else await this.jobs.createEntity(entity);
          return;
        } catch (err) {
          const status = (err as { statusCode?: number }).statusCode;
          if (status !== 412 && status !== 409) throw err;
        }
      }
    });
  }

  async getByChangeId(changeId: string): Promise<ProvisioningEvent[]> {
    await this.init();
    const range = keys.changeRefRange(changeId);
    const refs = this.refs.listEntities<{ epk: string; erk: string }>({
      queryOptions: { filter: odata`PartitionKey eq ${range.partitionKey} and RowKey ge ${range.prefix} and RowKey lt ${prefixUpperBound(range.prefix)}` },
    });
    const out: ProvisioningEvent[] = [];
    for await (const ref of refs) {
      const entity = await this.events.getEntity<Record<string, unknown>>(ref.epk, ref.erk).catch(() => null);
      if (entity) out.push(fromEventEntity(entity));
    }
    return out;
  }

  async getById(id: string): Promise<ProvisioningEvent | null> {
    await this.init();
    const k = keys.idRef(id);
    const ref = await this.refs.getEntity<{ epk: string; erk: string }>(k.partitionKey, k.rowKey).catch(() => null);
    if (!ref) return null;
    const entity = await this.events.getEntity<Record<string, unknown>>(ref.epk, ref.erk).catch(() => null);
    return entity ? fromEventEntity(entity) : null;
  }

  /** Steps / properties for events already stored are patched in; the rest wait in csvparts. */
  async attachParts(parts: CsvParts): Promise<{ attached: number; pending: number }> {
    await this.init();
    const changeIds = new Set([...parts.steps.keys(), ...parts.modifiedProperties.keys()]);
    let attached = 0;
    const pending: Entity[] = [];
    await mapLimit([...changeIds], this.concurrency, async (changeId) => {
      const stored = await this.getByChangeId(changeId);
      const steps = parts.steps.get(changeId);
      const modified = parts.modifiedProperties.get(changeId);
      const partKey = (kind: string) => ({ partitionKey: keys.changeRefRange(changeId).partitionKey.replace(/^chg/, "part"), rowKey: `${keys.changeRefRange(changeId).prefix}${kind}` });
      if (stored.length === 0) {
        if (steps) pending.push({ ...partKey("steps"), changeId, json: JSON.stringify(steps) });
        if (modified) pending.push({ ...partKey("modifiedProperties"), changeId, json: JSON.stringify(modified) });
        return;
      }
      const patched = stored.map((e) => ({ ...e, steps: steps ?? e.steps, modifiedProperties: modified ?? e.modifiedProperties }));
      const entities = patched.map((e) => {
        const job = jobKey(e.jobId, e.servicePrincipal.id);
        const k = keys.event(job, e.activityDateTime, e.id);
        return toEventEntity(e, k.partitionKey, k.rowKey, job);
      });
      await upsertAll(this.events, entities, 1);
      attached += stored.length;
    });
    if (pending.length > 0) await upsertAll(this.csvparts, pending, this.concurrency);
    return { attached, pending: new Set(pending.map((p) => p["changeId"])).size };
  }

  /** Merges CSV parts that arrived before their events (parts stay until the retention purge). */
  private async withPendingParts(events: ProvisioningEvent[]): Promise<ProvisioningEvent[]> {
    const candidates = events.filter((e) => e.source === "download-csv" && (e.steps.length === 0 || e.modifiedProperties.length === 0));
    if (candidates.length === 0) return events;
    const merged = new Map<string, ProvisioningEvent>();
    await mapLimit(candidates, this.concurrency, async (e) => {
      const base = keys.changeRefRange(e.changeId);
      const pk = base.partitionKey.replace(/^chg/, "part");
      const [steps, modified] = await Promise.all(
        ["steps", "modifiedProperties"].map((kind) => this.csvparts.getEntity<{ json: string }>(pk, `${base.prefix}${kind}`).catch(() => null)),
      );
      if (!steps && !modified) return;
      merged.set(e.id, {
        ...e,
        steps: e.steps.length === 0 && steps ? (JSON.parse(steps.json) as ProvisioningEvent["steps"]) : e.steps,
        modifiedProperties: e.modifiedProperties.length === 0 && modified ? (JSON.parse(modified.json) as ProvisioningEvent["modifiedProperties"]) : e.modifiedProperties,
      });
    });
    return events.map((e) => merged.get(e.id) ?? e);
  }
}
