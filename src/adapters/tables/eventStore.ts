import { odata } from "@azure/data-tables";
import type { ProvisioningEvent } from "../../core/event";
import { canonicalIdentityKey, identityAliases } from "../../core/identityKeys";
import type { CsvParts, EventStore } from "../../app/ports";
import type { RetentionReport, RetentionStore } from "../../app/retention";
import { entityKey, mapLimit, type Entity } from "./batch";
import { entityProblem } from "./entityLimits";
import { indexRow, toEventEntity, type EventEntity } from "./eventEntity";
import { COUNTER_RK, eventKey, EventsTable } from "./eventsTable";
import { identityKeyOf, IdentityIndex, storedIdentityOf, type IdentityRow } from "./identityIndex";
import { changeMarkerKey, cycleRefKey, RefsTable, type ChangeMarker } from "./refsTable";
import { aliasKey, aliasProperty, DirectoryTable, type AliasEntry } from "./directoryTable";
import { countInputOf, CountsTable, snapshotCounts, type CountInput } from "./countsTable";
import type { HourCounts } from "../../core/counts";
import { JobsTable } from "./jobsTable";
import { StateTable } from "./stateTable";
import { JobStatusTable } from "./jobStatusTable";
import { AuditTable } from "./auditTable";
import { CsvPartsTable } from "./csvPartsTable";
import { jobKey } from "./keys";
import { SHARDS } from "./shards";
import type { TableFactory } from "./client";

/**
 * The write side, over one module per table (the README's Table Storage section has the map):
 * - events<day>             full records                      eventsTable.ts
 * - identities<month>h<n>   newest-first events per identity   identityIndex.ts
 * - failures<month>h<n>     the same, for failed events only    identityIndex.ts
 * - refs<month>             changeId markers and cycle refs    refsTable.ts
 * - directory               alias -> identities                directoryTable.ts
 * - counts                  per job-hour action/status counts  countsTable.ts
 * - jobs                    one row per job                    jobsTable.ts
 * - state                   last state past retention          stateTable.ts
 * - csvparts                CSV parts waiting for their event  csvPartsTable.ts
 * An event's indexes are upserted first (re-delivery is harmless); then its row is inserted in an
 * entity-group transaction with its job-hour's counter (eventsTable.ts), which tells a new event
 * from a redelivered one and counts it in the same step; then the counter is copied to counts.
 */
export interface EventStoreOptions {
  concurrency?: number;
  /** How far back the last known state of an object is looked for in the identity shards. */
  retentionDays?: number;
}

const DAY_MS = 86_400_000;

interface Built {
  job: string;
  entity: EventEntity;
  identity: (Entity & { identityKey: string; at: string }) | null;
  aliases: AliasEntry[];
  cycleRef: (Entity & { at: string; jobKey: string }) | null;
  marker: ChangeMarker & { changeId: string };
  count: CountInput;
}

/** A stored event row as counted (reconciliation recounts rows, not records). */
function countOfRow(row: Record<string, unknown>): CountInput {
  return { action: String(row["action"] ?? ""), status: String(row["status"] ?? ""), errorCode: String(row["errorCode"] ?? ""), group: row["identityType"] === "Group" };
}

export class TableEventStore implements EventStore, RetentionStore {
  readonly events: EventsTable;
  readonly identities: IdentityIndex;
  /** The identity index of failed events only (since FAILURES_SINCE: older failures are in identities alone). */
  readonly failures: IdentityIndex;
  readonly refs: RefsTable;
  readonly directory: DirectoryTable;
  readonly counts: CountsTable;
  readonly jobs: JobsTable;
  readonly state: StateTable;
  readonly csvParts: CsvPartsTable;
  /** Job health: the provisioning summary report per job, and the provisioning audit trail. */
  readonly statuses: JobStatusTable;
  readonly audits: AuditTable;
  private readonly concurrency: number;
  readonly retentionDays: number;
  private ready: Promise<void> | null = null;

  constructor(private readonly factory: TableFactory, options: EventStoreOptions = {}) {
    this.concurrency = options.concurrency ?? 8;
    this.retentionDays = options.retentionDays ?? 30;
    this.events = new EventsTable(factory);
    this.identities = new IdentityIndex(factory);
    this.failures = new IdentityIndex(factory, SHARDS.failures);
    this.refs = new RefsTable(factory);
    this.directory = new DirectoryTable(factory);
    this.counts = new CountsTable(factory);
    this.jobs = new JobsTable(factory);
    this.state = new StateTable(factory);
    this.csvParts = new CsvPartsTable(factory);
    this.statuses = new JobStatusTable(factory);
    this.audits = new AuditTable(factory);
  }

  init(): Promise<void> {
    this.ready ??= Promise.all([this.directory.init(), this.counts.init(), this.jobs.init(), this.state.init(), this.csvParts.init(), this.reportLegacyLayout()]).then(
      () => undefined,
      (err: unknown) => {
        this.ready = null;
        throw err;
      },
    );
    return this.ready;
  }

  /** The layout before time shards kept every event in one `events` table; it is not read. */
  async legacyTables(): Promise<string[]> {
    const found: string[] = [];
    for (const name of ["events", "identities", "refs"]) {
      for await (const t of this.factory.service.listTables({ queryOptions: { filter: odata`TableName eq ${`${this.factory.prefix}${name}`}` } })) found.push(String(t.name));
    }
    return found;
  }

  private async reportLegacyLayout(): Promise<void> {
    const legacy = await this.legacyTables();
    if (legacy.length > 0) {
      console.warn(
        `[provbot] storage: tables ${legacy.join(", ")} were written by an earlier layout (one table for all events); provbot now reads time-sharded tables and does not read them. ` +
          "Locally: npm start -- --fresh rebuilds the store. In Azure: re-ingest the downloads (or let the Graph poller refill the last 7 days), then delete those tables.",
      );
    }
  }

  async write(input: ProvisioningEvent[]): Promise<{ newIds: Set<string>; rejected: Map<string, string> }> {
    await this.init();
    const byId = new Map<string, ProvisioningEvent>();
    for (const e of input) byId.set(e.id, e);
    const events = await this.withPendingParts([...byId.values()]);
    const rejected = new Map<string, string>();
    const built = new Map<string, Built>();
    const owner = new WeakMap<object, string>();

    // Every entity of one event is built and checked against the service's limits before any is
    // sent: an event that cannot be stored whole is rejected alone, and its rows never written.
    for (const [n, e] of events.entries()) {
      // Encoding is CPU work (deflate, size checks): let other requests in every 100 events.
      if (n > 0 && n % 100 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const b = this.entitiesOf(e);
      if ("problem" in b) {
        rejected.set(e.id, b.problem);
        continue;
      }
      built.set(e.id, b);
      for (const row of [b.entity, b.identity, b.cycleRef, b.marker]) if (row) owner.set(row, e.id);
    }
    const refuse = (entity: Entity, reason: string) => {
      const id = owner.get(entity);
      if (id !== undefined && !rejected.has(id)) rejected.set(id, `cannot be stored: ${reason}`);
    };

    // 1. What is stored already: one key-range read per job-hour partition, with the hour's counter.
    // A redelivered event stops here: its indexes were written before its row (steps 2-3 precede 4).
    const partitions = new Map<string, Built[]>();
    for (const b of built.values()) {
      let list = partitions.get(b.entity.partitionKey);
      if (!list) partitions.set(b.entity.partitionKey, (list = []));
      list.push(b);
    }
    const states = new Map(
      await mapLimit([...partitions.entries()], this.concurrency, async ([pk, list]) => [pk, await this.events.present(pk, list[0]!.job, list.map((b) => b.entity.rowKey), countOfRow)] as const),
    );
    const elsewhere = new Set<string>();
    const isStored = (b: Built) => elsewhere.has(b.marker.id) || states.get(b.entity.partitionKey)!.stored.has(b.entity.rowKey);
    let fresh = [...built.values()].filter((b) => !isStored(b));

    // 2. The changeId markers: the event's id under its changeId, whatever its keys. A marker found
    // for the same id means a retry after a crash, a concurrent delivery (both go on: step 4
    // settles them), or the same event stored from another format under other keys (its row exists
    // there: a duplicate).
    const found = await this.refs.insertMarkers(fresh.map((b) => b.marker), this.concurrency, refuse);
    await mapLimit(fresh, this.concurrency, async (b) => {
      const at = found.get(entityKey(b.marker));
      if (!at || (at.epk === b.entity.partitionKey && at.erk === b.entity.rowKey)) return;
      if (at.epk && (await this.events.exists(at.epk, at.erk))) elsewhere.add(b.marker.id);
      else await this.refs.repoint(b.marker);
    });
    fresh = fresh.filter((b) => !elsewhere.has(b.marker.id) && !rejected.has(b.marker.id));

    // 3. The indexes of the events not stored yet: upserts, so a crash midway and a retry are both
    // harmless. The directory is best effort: an alias that cannot be added never costs the event.
    const identityRows = fresh.flatMap((b) => (b.identity ? [b.identity] : []));
    const cycles = new Map<string, Entity & { at: string; jobKey: string }>();
    for (const b of fresh) if (b.cycleRef) cycles.set(entityKey(b.cycleRef), b.cycleRef);
    await Promise.all([
      this.identities.put(identityRows, this.concurrency, (entity, reason) => {
        const match = identityRows.find((r) => r.partitionKey === entity.partitionKey && r.rowKey === entity.rowKey);
        if (match) refuse(match, reason);
      }),
      this.failuresFrom().then(() =>
        this.failures.put(identityRows.filter((r) => r["status"] === "failure"), this.concurrency, (entity, reason) => {
          const match = identityRows.find((r) => r.partitionKey === entity.partitionKey && r.rowKey === entity.rowKey);
          if (match) refuse(match, reason);
        }),
      ),
      this.refs.putCycles([...cycles.values()], this.concurrency, refuse),
      this.directory.add(fresh.flatMap((b) => b.aliases), this.concurrency),
    ]);

    // 4. Only then the event rows, in one transaction with their job-hour's counter: the insert
    // tells a new event from a redelivered one, and counts it in the same step. Events refused in
    // steps 2-3 are not stored, so nothing of them is ever listed or counted.
    const counts = new Map<EventEntity, CountInput>();
    for (const b of fresh) counts.set(b.entity, b.count);
    const committed = await mapLimit([...partitions.entries()], this.concurrency, async ([pk, list]) => {
      const todo = list.filter((b) => !isStored(b) && !rejected.has(b.marker.id)).map((b) => b.entity);
      return todo.length === 0 ? null : this.events.commit(states.get(pk)!, todo, (e) => counts.get(e)!, countOfRow, refuse);
    });
    const newIds = new Set<string>();
    for (const c of committed) for (const e of c?.added ?? []) newIds.add(owner.get(e)!);
    // Index rows of refused events are taken back, so no history shows an event that cannot be
    // opened; unless an earlier delivery stored the event (its row exists): that copy stays.
    await this.rollBack([...rejected.keys()].flatMap((id) => (built.has(id) && !isStored(built.get(id)!) ? [built.get(id)!] : [])));

    // 5. The copies: every touched hour's counter into the day rows of counts (only over older
    // versions, so this also repairs a copy a crash left behind), and the jobs rows (unchanged rows
    // are not written).
    const snapshots = [...states.values()].flatMap((st) => (st.counter ? [st.counter.snapshot] : []));
    const stored = events.filter((e) => built.has(e.id) && isStored(built.get(e.id)!));
    await Promise.all([this.counts.sync(snapshots, this.concurrency), this.jobs.update(stored, this.concurrency)]);
    return { newIds, rejected };
  }

  /**
   * Reconciliation: recomputes one job-hour's counts from its stored events, writes them as the
   * hour's counter and copies them into the counts table. For audits (`provbot` reports) and tests;
   * writes keep the counts exact on their own.
   */
  async recount(job: string, hourIso: string): Promise<HourCounts> {
    await this.init();
    const pk = eventKey(job, hourIso, "").partitionKey;
    const state = await this.events.present(pk, job, [COUNTER_RK], countOfRow);
    const snapshot = await this.events.recountPartition(pk, job, countOfRow);
    const current = state.counter?.snapshot;
    const next = { ...snapshot, version: (current?.version ?? 0) + 1 };
    const same = current && JSON.stringify(current.counts) === JSON.stringify(snapshot.counts);
    if (!same) await this.events.saveCounter(state, next);
    await this.counts.sync([same ? current : next], this.concurrency);
    return snapshotCounts(same ? current : next);
  }

  /** The entities one event is stored as, or why the service could not hold them. */
  private entitiesOf(e: ProvisioningEvent): { problem: string } | Built {
    try {
      const job = jobKey(e.jobId, e.servicePrincipal.id);
      const k = eventKey(job, e.activityDateTime, e.id);
      const entity = toEventEntity(e, k.partitionKey, k.rowKey, job);
      const identityKey = canonicalIdentityKey(e);
      const identity = identityKey ? { ...identityKeyOf(identityKey, e.activityDateTime, e.id), ...indexRow(entity), identity: entity["identity"], identityName: entity["identityName"], identityType: entity["identityType"], cycleId: e.cycleId, identityKey, at: e.activityDateTime } : null;
      const aliases: AliasEntry[] = identityKey
        ? identityAliases(e).map((alias) => ({ ...alias, identityKey, displayName: String(entity["identityName"] ?? ""), identity: String(entity["identity"] ?? ""), identityType: String(entity["identityType"] ?? ""), ...(e.tenantId ? { tenantId: e.tenantId } : {}) }))
        : [];
      const cycleRef = e.cycleId ? { ...cycleRefKey(e.cycleId), jobKey: job, at: e.activityDateTime } : null;
      const marker = { ...changeMarkerKey(e.changeId), changeId: e.changeId, id: e.id, epk: k.partitionKey, erk: k.rowKey, at: e.activityDateTime };
      const { identityKey: _omit, ...identityEntity } = identity ?? { identityKey: "" };
      const rows = [["event", entity], ["identity index", identity ? identityEntity : null], ["cycle reference", cycleRef], ["changeId reference", marker]] as const;
      for (const [name, row] of rows) {
        const problem = row && entityProblem(row as Entity);
        if (problem) return { problem: `cannot be stored: its ${name} row: ${problem}` };
      }
      // The row the directory writes, keys encoded as written (a guest's #EXT# UPN, a group "Finance/HR").
      for (const a of aliases) {
        const problem = entityProblem({ ...aliasKey(a.kind, a.value), [aliasProperty(a.kind, a.identityKey)]: JSON.stringify(a) });
        if (problem) return { problem: `cannot be stored: its directory entry: ${problem}` };
      }
      return { job, entity, identity, aliases, cycleRef, marker, count: countInputOf(e) };
    } catch (err) {
      return { problem: `cannot be stored: ${err instanceof Error ? err.message.slice(0, 200) : "encoding failed"}` };
    }
  }

  private failuresSince: Promise<string | null> | null = null;

  /**
   * From when the failures index holds every failed event (a marker in the jobs table, written by
   * the first write that indexes failures): the epoch for a store that was empty then, else a day
   * after (events may be dated up to 24 h ahead). Ranges starting later read failures from it alone.
   * `create`: write the marker if it is not there yet.
   */
  async failuresFrom(create = true): Promise<string | null> {
    this.failuresSince ??= this.jobs.meta("failuresIndexSince");
    const known = await this.failuresSince.catch((err: unknown) => {
      this.failuresSince = null;
      throw err;
    });
    if (known || !create) {
      if (!known) this.failuresSince = null;
      return known;
    }
    const empty = (await this.jobs.list()).length === 0;
    const stored = await this.jobs.metaCreate("failuresIndexSince", empty ? "1970-01-01T00:00:00.000Z" : new Date(Date.now() + 86_400_000).toISOString());
    this.failuresSince = Promise.resolve(stored);
    return stored;
  }

  /**
   * Deletes the identity rows written for events that were then refused (best effort: a missing
   * row is fine). Their markers stay: a marker whose event row does not exist opens nothing.
   */
  private async rollBack(refused: Built[]): Promise<void> {
    const rows = refused.flatMap((b) => (b.identity ? [b.identity] : []));
    await Promise.all([this.identities.remove(rows, this.concurrency), this.failures.remove(rows.filter((r) => r["status"] === "failure"), this.concurrency)]);
  }

  async getByChangeId(changeId: string): Promise<ProvisioningEvent[]> {
    await this.init();
    const markers = await this.refs.findChange(changeId);
    const events = await Promise.all(markers.map((m) => this.events.get(m.epk, m.erk)));
    return events.filter((e): e is ProvisioningEvent => e !== null);
  }

  async cycle(cycleId: string): Promise<{ jobKey: string; at: string } | null> {
    return this.refs.findCycle(cycleId);
  }

  /** Newest-first index rows of one identity (canonical key) between two times. */
  async identityRows(identityKey: string, fromIso: string, toIso: string, limit = 50, narrow: { statuses?: string[]; jobKeys?: string[] } = {}): Promise<IdentityRow[]> {
    await this.init();
    // Failures only: their own index, which holds no skipped or successful history; for a range
    // that starts before that index existed, the whole index (filtered) as before.
    if (narrow.statuses?.length === 1 && narrow.statuses[0] === "failure") {
      const since = await this.failuresFrom(false);
      if (since && since <= fromIso) return this.failures.rows(identityKey, fromIso, toIso, limit, undefined, { jobKeys: narrow.jobKeys });
    }
    return this.identities.rows(identityKey, fromIso, toIso, limit, undefined, narrow);
  }

  /**
   * The last known state of an identity in one job: its newest event there in the identity shards
   * still stored (late arrivals cannot regress it: the index is ordered by event time), else the
   * state row the retention purge kept when that identity's shard was dropped.
   */
  async lastKnownState(identityKey: string, job: string, nowIso: string): Promise<Pick<IdentityRow, "at" | "jobKey" | "action" | "status" | "errorCode" | "targetId" | "epk" | "erk"> | null> {
    await this.init();
    // Month shards live until their whole month is past retention: look as far back as they can.
    const from = new Date(Date.parse(nowIso) - (this.retentionDays + 31) * DAY_MS).toISOString();
    // As of now, an event at this very instant included (ranges are half-open: [from, now + 1 ms)).
    const [row] = await this.identities.rows(identityKey, from, new Date(Date.parse(nowIso) + 1).toISOString(), 1, job);
    return row ?? this.state.get(job, identityKey);
  }

  /**
   * Retention: drops the day shards of events and the month shards of identities and refs whose
   * period ended before the cutoff (one request each), and deletes the counts of those hours.
   * Before an identity shard goes, each identity's newest state per job is kept in the state table.
   */
  async purgeBefore(cutoffIso: string): Promise<RetentionReport> {
    await this.init();
    const report: RetentionReport = { tablesDropped: [], statesKept: 0, countRows: 0, csvParts: 0 };
    for (const shard of await this.events.shards.expired(cutoffIso)) {
      await this.events.shards.drop(shard.name);
      report.tablesDropped.push(shard.name);
    }
    for (const shard of await this.identities.shards.expired(cutoffIso)) {
      const newest = new Map<string, IdentityRow>();
      for await (const r of this.identities.scan(shard.name)) {
        const key = `${r.jobKey}\u0000${storedIdentityOf(r.rowKey)}`;
        const seen = newest.get(key);
        if (!seen || r.at > seen.at) newest.set(key, r);
      }
      const kept = await mapLimit([...newest.entries()], this.concurrency, ([key, r]) =>
        this.state.keepNewer(key.slice(key.indexOf("\u0000") + 1), { at: r.at, jobKey: r.jobKey, action: r.action, status: r.status, errorCode: r.errorCode, targetId: r.targetId ?? "" }),
      );
      report.statesKept += kept.filter(Boolean).length;
      await this.identities.shards.drop(shard.name);
      report.tablesDropped.push(shard.name);
    }
    for (const shard of await this.refs.shards.expired(cutoffIso)) {
      await this.refs.shards.drop(shard.name);
      report.tablesDropped.push(shard.name);
    }
    for (const shard of await this.failures.shards.expired(cutoffIso)) {
      await this.failures.shards.drop(shard.name);
      report.tablesDropped.push(shard.name);
    }
    report.countRows = await this.counts.purgeBefore(cutoffIso, this.concurrency);
    report.csvParts = await this.csvParts.purgeBefore(cutoffIso, this.concurrency);
    return report;
  }

  /** Steps / properties for events already stored are patched in; the rest wait in csvparts. */
  async attachParts(parts: CsvParts): Promise<{ attached: number; pending: number }> {
    await this.init();
    const changeIds = new Set([...parts.steps.keys(), ...parts.modifiedProperties.keys()]);
    let attached = 0;
    const pending: { changeId: string; steps?: ProvisioningEvent["steps"] | undefined; modifiedProperties?: ProvisioningEvent["modifiedProperties"] | undefined }[] = [];
    await mapLimit([...changeIds], this.concurrency, async (changeId) => {
      const stored = await this.getByChangeId(changeId);
      const steps = parts.steps.get(changeId);
      const modified = parts.modifiedProperties.get(changeId);
      if (stored.length === 0) {
        pending.push({ changeId, steps, modifiedProperties: modified });
        return;
      }
      const entities = stored.map((e) => {
        const patched = { ...e, steps: steps ?? e.steps, modifiedProperties: modified ?? e.modifiedProperties };
        const job = jobKey(patched.jobId, patched.servicePrincipal.id);
        const k = eventKey(job, patched.activityDateTime, patched.id);
        return toEventEntity(patched, k.partitionKey, k.rowKey, job);
      });
      await this.events.put(entities, 1);
      attached += stored.length;
    });
    if (pending.length > 0) await this.csvParts.put(pending, this.concurrency);
    return { attached, pending: pending.length };
  }

  /** Merges CSV parts that arrived before their events (parts stay until the retention purge). */
  private async withPendingParts(events: ProvisioningEvent[]): Promise<ProvisioningEvent[]> {
    const candidates = events.filter((e) => e.source === "download-csv" && (e.steps.length === 0 || e.modifiedProperties.length === 0));
    if (candidates.length === 0) return events;
    const merged = new Map<string, ProvisioningEvent>();
    await mapLimit(candidates, this.concurrency, async (e) => {
      const { steps, modifiedProperties } = await this.csvParts.get(e.changeId);
      if (!steps && !modifiedProperties) return;
      merged.set(e.id, { ...e, steps: e.steps.length === 0 && steps ? steps : e.steps, modifiedProperties: e.modifiedProperties.length === 0 && modifiedProperties ? modifiedProperties : e.modifiedProperties });
    });
    return events.map((e) => merged.get(e.id) ?? e);
  }
}
