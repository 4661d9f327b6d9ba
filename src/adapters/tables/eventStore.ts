import { odata, type TableClient, type TransactionAction } from "@azure/data-tables";
import type { ProvisioningEvent } from "../../core/event";
import { canonicalIdentityKey, identityAliases } from "../../core/identityKeys";
import { identityKind } from "../../core/event";
import { appIds } from "../../core/portalLinks";
import type { CsvParts, EventStore } from "../../app/ports";
import { deleteWhere, ensureTables, entityKey, insertNew, mapLimit, rejectionReason, upsertAll, type Entity } from "./batch";
import { entityProblem } from "./entityLimits";
import { fromEventEntity, indexRow, toEventEntity, type EventEntity } from "./eventEntity";
import { hourBucket, jobKey, keys, prefixUpperBound, weekBucketsBetween } from "./keys";
import type { TableFactory } from "./client";

/**
 * Table Storage design (one repository, several tables, keys in keys.ts):
 * - events:      PK job|yyyyMMddHH, RK reverse-time|id      full record; a job's events in a time range
 * - refs:        chg|bucket, RK changeId|id                point lookup by changeId; inserted last, it is the dedupe marker
 *                cyc|bucket, RK cycleId                     the job and time of a cycle (its events are then one key range)
 * - identities:  week|bucket, RK identity|reverse-time|id   newest-first events per canonical identity (object id, else UPN)
 * - directory:   dir|kind|bucket, RK alias|identity         names, first names, UPNs, nicknames, ids -> canonical identity
 * - state:       job|bucket, RK identity                    last known state of objects whose events aged out (written by the purge)
 * - counts:      PK d|yyyyMMdd, RK job|yyyyMMddHH            per action/status counts and top error codes per job-hour
 * - jobs:        PK "job", RK job                           app name, systems, first/last event: resolution and silence
 * - csvparts:    PK chg|bucket, RK changeId|kind            CSV steps/properties waiting for their event
 * Every write is an upsert (re-delivery is harmless) except the changeId marker, whose insert tells new from
 * duplicate (de-duplication on id within a batch, on changeId + id across batches).
 */
export interface PurgeReport {
  events: number;
  identities: number;
  refs: number;
  counts: number;
  deadLetters: number;
  csvParts: number;
  statesKept: number;
}

/** Identity keys are stored key-escaped (keyPart); state rows use the same escaping. */
function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export interface IdentityRow {
  partitionKey: string;
  rowKey: string;
  epk: string;
  erk: string;
  at: string;
  jobKey: string;
  action: string;
  status: string;
  errorCode: string;
  targetId: string;
}

type Countable = { action: string; status: string; errorCode?: string; error?: { code: string } | null; identityType?: string; sourceIdentity?: { identityType: string } };

/** Adds events to a counts row: total, n_<action>_<status> (g_... for groups alone), and the top failure codes. */
export function mergeCounts(current: Record<string, unknown> | undefined, events: Countable[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(current ?? {})) if (k === "total" || k.startsWith("n_") || k.startsWith("g_")) out[k] = Number(v);
  // Error codes come from data: a null-prototype map keeps "__proto__" or "constructor" as codes.
  const errors = Object.assign(Object.create(null) as Record<string, number>, JSON.parse(String(current?.["errors"] ?? "{}")) as Record<string, number>);
  for (const e of events) {
    out["total"] = Number(out["total"] ?? 0) + 1;
    const key = `n_${e.action}_${e.status}`;
    out[key] = Number(out[key] ?? 0) + 1;
    const kind = e.identityType ?? (e.sourceIdentity ? identityKind(e.sourceIdentity.identityType) : "");
    if (kind === "Group") out[`g_${e.action}_${e.status}`] = Number(out[`g_${e.action}_${e.status}`] ?? 0) + 1;
    const code = e.errorCode ?? e.error?.code ?? "";
    if (e.status === "failure" && code) errors[code] = (errors[code] ?? 0) + 1;
  }
  out["errors"] = JSON.stringify(Object.fromEntries(Object.entries(errors).sort((a, b) => b[1] - a[1]).slice(0, 25)));
  return out;
}

const KEEP_CYCLES = 12;

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

export class TableEventStore implements EventStore {
  readonly events: TableClient;
  readonly refs: TableClient;
  readonly identities: TableClient;
  readonly directory: TableClient;
  readonly state: TableClient;
  readonly counts: TableClient;
  readonly jobs: TableClient;
  readonly csvparts: TableClient;
  private ready: Promise<void> | null = null;

  constructor(factory: TableFactory, private readonly concurrency = 8) {
    this.events = factory.table("events");
    this.refs = factory.table("refs");
    this.identities = factory.table("identities");
    this.directory = factory.table("directory");
    this.state = factory.table("state");
    this.counts = factory.table("counts");
    this.jobs = factory.table("jobs");
    this.csvparts = factory.table("csvparts");
  }

  init(): Promise<void> {
    this.ready ??= ensureTables([this.events, this.refs, this.identities, this.directory, this.state, this.counts, this.jobs, this.csvparts]);
    return this.ready;
  }

  async write(input: ProvisioningEvent[]): Promise<{ newIds: Set<string>; rejected: Map<string, string> }> {
    await this.init();
    const byId = new Map<string, ProvisioningEvent>();
    for (const e of input) byId.set(e.id, e);
    const events = await this.withPendingParts([...byId.values()]);
    const rejected = new Map<string, string>();

    // Every entity of one event is built and checked against the service's limits before any is
    // sent: an event that cannot be stored whole is rejected alone, and its rows never written.
    const eventEntities: EventEntity[] = [];
    const identityEntities: Entity[] = [];
    const cycleRefs = new Map<string, Entity>();
    const aliases = new Map<string, Entity>();
    const markers: Entity[] = [];
    const markerOwner = new Map<string, { id: string; job: string; hour: string; event: ProvisioningEvent }>();
    const owner = new WeakMap<Entity, string>();
    const rowsOf = new Map<string, { table: TableClient; entity: Entity }[]>();
    const markerOf = new Map<string, Entity>();

    for (const [n, e] of events.entries()) {
      // Encoding is CPU work (deflate, size checks): let other requests in every 100 events.
      if (n > 0 && n % 100 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const built = this.entitiesOf(e);
      if ("problem" in built) {
        rejected.set(e.id, built.problem);
        continue;
      }
      const { job, entity, identity, aliasRows, cycleRef, marker } = built;
      eventEntities.push(entity);
      owner.set(entity, e.id);
      const rows: { table: TableClient; entity: Entity }[] = [{ table: this.events, entity }];
      if (identity) {
        identityEntities.push(identity);
        owner.set(identity, e.id);
        rows.push({ table: this.identities, entity: identity });
      }
      for (const a of aliasRows) {
        const cacheKey = entityKey(a);
        if (this.knownAliases.has(cacheKey) || aliases.has(cacheKey)) continue;
        aliases.set(cacheKey, a);
        owner.set(a, e.id);
      }
      if (cycleRef) {
        cycleRefs.set(e.cycleId, cycleRef);
        owner.set(cycleRef, e.id);
      }
      rowsOf.set(e.id, rows);
      owner.set(marker, e.id);
      markerOf.set(e.id, marker);
      markers.push(marker);
      markerOwner.set(entityKey(marker), { id: e.id, job, hour: hourBucket(e.activityDateTime), event: e });
    }
    const refuse = (entity: Entity, reason: string) => {
      const id = owner.get(entity);
      if (id !== undefined && !rejected.has(id)) rejected.set(id, `cannot be stored: ${reason}`);
    };

    // 1. The record and every index: upserts, so a crash midway and a redelivery are both harmless.
    await Promise.all([
      upsertAll(this.events, eventEntities, this.concurrency, refuse),
      upsertAll(this.identities, identityEntities, this.concurrency, refuse),
      upsertAll(this.refs, [...cycleRefs.values()], this.concurrency, refuse),
      upsertAll(this.directory, [...aliases.values()], this.concurrency, refuse),
    ]);
    this.rememberAliases([...aliases.entries()].filter(([, a]) => !rejected.has(owner.get(a) ?? "")).map(([k]) => k));
    // 2. Only then the marker: its insert tells a new event from a redelivered one. Events refused
    // in step 1 get no marker, so nothing of them is ever counted or looked up.
    const existing = await insertNew(this.refs, markers.filter((m) => !rejected.has(owner.get(m) ?? "")), this.concurrency, refuse);
    // Rows of refused events are taken back, so no list shows an event that cannot be opened;
    // unless an earlier delivery stored the event whole (its marker exists): that copy stays.
    await this.rollBack(rejected, rowsOf, markerOf);
    const newIds = new Set<string>();
    const fresh: ProvisioningEvent[] = [];
    for (const [key, o] of markerOwner) {
      if (existing.has(key) || rejected.has(o.id)) continue;
      newIds.add(o.id);
      fresh.push(o.event);
    }
    // 3. Aggregates: the new events are added to the hourly counts under ETag conditions.
    await this.addCounts(fresh);
    await this.updateJobs(fresh);
    return { newIds, rejected };
  }

  /** The entities one event is stored as, or why the service could not hold them. */
  private entitiesOf(e: ProvisioningEvent):
    | { problem: string }
    | { job: string; entity: EventEntity; identity: Entity | null; aliasRows: Entity[]; cycleRef: Entity | null; marker: Entity } {
    try {
      const job = jobKey(e.jobId, e.servicePrincipal.id);
      const k = keys.event(job, e.activityDateTime, e.id);
      const entity = toEventEntity(e, k.partitionKey, k.rowKey, job);
      const identityKey = canonicalIdentityKey(e);
      const identity = identityKey ? { ...keys.identity(identityKey, e.activityDateTime, e.id), ...indexRow(entity) } : null;
      const aliasRows = identityKey
        ? identityAliases(e).map((alias) => ({
            ...keys.alias(alias.kind, alias.value, identityKey),
            identityKey,
            displayName: String(entity["identityName"] ?? ""),
            identity: String(entity["identity"] ?? ""),
            identityType: String(entity["identityType"] ?? ""),
          }))
        : [];
      const cycleRef = e.cycleId ? { ...keys.cycleRef(e.cycleId), jobKey: job, at: e.activityDateTime } : null;
      // The changeId reference doubles as the dedupe marker: it is inserted last, and only once.
      const marker = { ...keys.changeRef(e.changeId, e.id), epk: k.partitionKey, erk: k.rowKey, at: e.activityDateTime };
      for (const [name, row] of [["event", entity], ["identity index", identity], ["cycle reference", cycleRef], ["changeId reference", marker], ...aliasRows.map((a) => ["directory entry", a] as const)] as const) {
        const problem = row && entityProblem(row);
        if (problem) return { problem: `cannot be stored: its ${name} row: ${problem}` };
      }
      return { job, entity, identity, aliasRows, cycleRef, marker };
    } catch (err) {
      return { problem: `cannot be stored: ${err instanceof Error ? err.message.slice(0, 200) : "encoding failed"}` };
    }
  }

  /** Deletes rows written for events that were then refused (best effort: a missing row is fine). */
  private async rollBack(rejected: Map<string, string>, rowsOf: Map<string, { table: TableClient; entity: Entity }[]>, markerOf: Map<string, Entity>): Promise<void> {
    const rows: { table: TableClient; entity: Entity }[] = [];
    for (const id of rejected.keys()) {
      const marker = markerOf.get(id);
      if (!marker || !rowsOf.has(id)) continue;
      const stored = await this.refs.getEntity(marker.partitionKey, marker.rowKey).then(() => true, () => false);
      if (!stored) rows.push(...rowsOf.get(id)!);
    }
    await mapLimit(rows, this.concurrency, async ({ table, entity }) => {
      await table.deleteEntity(entity.partitionKey, entity.rowKey).catch((err: unknown) => {
        if ((err as { statusCode?: number }).statusCode !== 404 && !rejectionReason(err)) throw err;
      });
    });
  }

  /** Aliases this process has already written: in steady state the directory costs no writes. */
  private readonly knownAliases = new Set<string>();
  private rememberAliases(written: Iterable<string>): void {
    if (this.knownAliases.size > 200_000) this.knownAliases.clear();
    for (const k of written) this.knownAliases.add(k);
  }

  /**
   * Adds new events to the counts rows (per job-hour, n_<action>_<status>, top error codes). Rows
   * of one day share a partition, so the update is one transaction per day, conditional on the
   * ETags read: concurrent writers retry instead of losing increments. Only events whose marker
   * was new are counted, so redelivery never double-counts. (A crash between the marker and this
   * update leaves that batch uncounted; a reconciliation pass is not built yet.)
   */
  async addCounts(events: ProvisioningEvent[]): Promise<void> {
    const byDay = new Map<string, Map<string, ProvisioningEvent[]>>();
    for (const e of events) {
      const k = keys.count(jobKey(e.jobId, e.servicePrincipal.id), hourBucket(e.activityDateTime));
      if (!byDay.has(k.partitionKey)) byDay.set(k.partitionKey, new Map());
      const rows = byDay.get(k.partitionKey)!;
      if (!rows.has(k.rowKey)) rows.set(k.rowKey, []);
      rows.get(k.rowKey)!.push(e);
    }
    await mapLimit([...byDay.entries()], this.concurrency, async ([day, rows]) => {
      for (let attempt = 0; ; attempt++) {
        const existing = new Map<string, Record<string, unknown>>();
        const rowKeys = [...rows.keys()].sort();
        const lo = rowKeys[0]!;
        const hi = rowKeys[rowKeys.length - 1]!;
        for await (const row of this.counts.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${day} and RowKey ge ${lo} and RowKey le ${hi}` } })) {
          if (rows.has(String(row["rowKey"]))) existing.set(String(row["rowKey"]), row);
        }
        const actions: TransactionAction[] = [];
        for (const [rowKey, list] of rows) {
          const current = existing.get(rowKey);
          const merged = mergeCounts(current, list);
          const entity = { partitionKey: day, rowKey, ...merged };
          actions.push(current ? ["update", entity, "Replace", { etag: String(current["etag"]) }] : ["create", entity]);
        }
        try {
          for (let i = 0; i < actions.length; i += 100) await this.counts.submitTransaction(actions.slice(i, i + 100));
          return;
        } catch (err) {
          const status = (err as { statusCode?: number }).statusCode;
          if (attempt >= 8 || (status !== 412 && status !== 409)) throw err;
          await new Promise((r) => setTimeout(r, 20 + Math.random() * 80 * (attempt + 1)));
        }
      }
    });
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
          servicePrincipalId: appIds(last).servicePrincipalId || (current?.["servicePrincipalId"] as string) || "",
          appId: appIds(last).appId || (current?.["appId"] as string) || "",
          sourceSystem: last.sourceSystem.displayName || (current?.["sourceSystem"] as string) || "",
          targetSystem: last.targetSystem.displayName || (current?.["targetSystem"] as string) || "",
          tenantId: last.tenantId || (current?.["tenantId"] as string) || "",
          firstAt: current && String(current["firstAt"]) < first.activityDateTime ? String(current["firstAt"]) : first.activityDateTime,
          lastAt,
          lastCycleId: newer ? last.cycleId : String(current?.["lastCycleId"] ?? ""),
          cycles: JSON.stringify(mergeCycles(current?.["cycles"], sorted)),
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

  /**
   * Newest-first index rows of one identity (canonical key) between two times: one key-range read
   * per 7-day partition, newest week first, stopping once `limit` rows are found.
   */
  async identityRows(identityKey: string, fromIso: string, toIso: string, limit = 50): Promise<IdentityRow[]> {
    await this.init();
    // One range read per 7-day partition, all in flight at once, merged newest week first.
    const perWeek = await Promise.all(
      weekBucketsBetween(fromIso, toIso).map(async (week) => {
        const range = keys.identityRange(identityKey, week);
        const rows: IdentityRow[] = [];
        for await (const row of this.identities.listEntities<IdentityRow>({
          queryOptions: { filter: odata`PartitionKey eq ${range.partitionKey} and RowKey ge ${range.prefix} and RowKey lt ${prefixUpperBound(range.prefix)} and at ge ${fromIso} and at le ${toIso}` },
        })) {
          rows.push(row);
          if (rows.length >= limit) break;
        }
        return rows;
      }),
    );
    return perWeek.flat().slice(0, limit);
  }

  /**
   * The last known state of an identity in one job: its newest event there within the retention
   * window (the identity index is ordered by event time, so late arrivals cannot regress it), else
   * the state row the retention purge keeps for objects whose events have aged out.
   */
  async lastKnownState(identityKey: string, job: string, nowIso: string, retentionDays: number): Promise<IdentityRow | null> {
    const from = new Date(Date.parse(nowIso) - retentionDays * 86_400_000).toISOString();
    for (const week of weekBucketsBetween(from, nowIso)) {
      const range = keys.identityRange(identityKey, week);
      const rows = this.identities.listEntities<IdentityRow>({
        queryOptions: { filter: odata`PartitionKey eq ${range.partitionKey} and RowKey ge ${range.prefix} and RowKey lt ${prefixUpperBound(range.prefix)} and jobKey eq ${job}` },
      });
      for await (const row of rows) return row;
    }
    const k = keys.state(job, identityKey);
    return this.state.getEntity<IdentityRow>(k.partitionKey, k.rowKey).catch(() => null);
  }

  /**
   * Retention: removes events, index rows, references and counts older than the cutoff. Before an
   * identity's rows go, its newest state per job is kept in the state table, so "is bob
   * provisioned in Box?" still has an answer after the events have aged out.
   */
  async purgeBefore(cutoffIso: string, horizonDays = 400): Promise<PurgeReport> {
    await this.init();
    const report: PurgeReport = { events: 0, identities: 0, refs: 0, counts: 0, deadLetters: 0, csvParts: 0, statesKept: 0 };
    const horizon = new Date(Date.parse(cutoffIso) - horizonDays * 86_400_000).toISOString();
    const cutoffHour = hourBucket(cutoffIso);
    const jobs: { rowKey: string; firstAt: string }[] = [];
    for await (const j of this.jobs.listEntities<{ firstAt: string }>({ queryOptions: { filter: odata`PartitionKey eq ${"job"}` } })) jobs.push({ rowKey: String(j.rowKey), firstAt: j.firstAt });
    for (const job of jobs) {
      const from = job.firstAt > horizon ? job.firstAt : horizon;
      if (from >= cutoffIso) continue;
      const lower = keys.eventPartition(job.rowKey, hourBucket(from));
      const upper = keys.eventPartition(job.rowKey, cutoffHour);
      report.events += await deleteWhere(this.events, odata`PartitionKey ge ${lower} and PartitionKey lt ${upper}`, this.concurrency);
    }
    // Identity rows: whole 7-day partitions that ended before the cutoff, oldest first.
    const weeks = weekBucketsBetween(horizon, cutoffIso).reverse().slice(0, -1);
    for (const week of weeks) {
      const rows: IdentityRow[] = [];
      for await (const r of this.identities.listEntities<IdentityRow>({ queryOptions: { filter: odata`PartitionKey ge ${`${week}|`} and PartitionKey lt ${`${week}|~`}` } })) rows.push(r);
      if (rows.length === 0) continue;
      const newest = new Map<string, IdentityRow>();
      for (const r of rows) {
        const identity = r.rowKey.split("|")[0] ?? "";
        const key = `${r.jobKey}\u0000${identity}`;
        const seen = newest.get(key);
        if (!seen || r.at > seen.at) newest.set(key, r);
      }
      await mapLimit([...newest.entries()], this.concurrency, async ([key, row]) => {
        const [job, identity] = key.split("\u0000") as [string, string];
        const k = keys.state(job, decodeURIComponentSafe(identity));
        const current = await this.state.getEntity<IdentityRow>(k.partitionKey, k.rowKey).catch(() => null);
        if (current && current.at >= row.at) return;
        await this.state.upsertEntity({ ...k, at: row.at, jobKey: row.jobKey, action: row.action, status: row.status, errorCode: row.errorCode, targetId: row.targetId, epk: "", erk: "" }, "Replace");
        report.statesKept++;
      });
      report.identities += await deleteWhere(this.identities, odata`PartitionKey ge ${`${week}|`} and PartitionKey lt ${`${week}|~`}`, this.concurrency);
    }
    report.refs += await deleteWhere(this.refs, odata`at lt ${cutoffIso}`, this.concurrency);
    report.counts += await deleteWhere(this.counts, odata`PartitionKey lt ${`d|${cutoffHour.slice(0, 8)}`}`, this.concurrency);
    report.csvParts += await deleteWhere(this.csvparts, odata`Timestamp lt ${new Date(cutoffIso)}`, this.concurrency);
    return report;
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
