import { odata, type TableClient, type TransactionAction } from "@azure/data-tables";
import { hourBucket, hourStart } from "../../core/timeBuckets";
import type { ProvisioningAction, ProvisioningStatus } from "../../core/event";
import type { EventRow } from "../../app/queryPorts";
import { chunkRows, mapLimit, rejectionReason, upsertAll, type Entity, type OnReject } from "./batch";
import { isConflict } from "./optimistic";
import { COUNTER_COLUMNS, counterProperties, nextCounter, readCounter, recount, type CountInput, type HourSnapshot } from "./countsTable";
import { fromEventEntity, type EventEntity } from "./eventEntity";
import { keyPart, reverseTicks } from "./keys";
import { getOrNull, isNotFound } from "./reads";
import { readShard, SHARDS, ShardSet } from "./shards";
import type { TableFactory } from "./client";
import type { ProvisioningEvent } from "../../core/event";

/**
 * events<yyyyMMdd>: the full records, one table per UTC day of the event.
 * PK job|yyyyMMddHH (a job's hours are contiguous, so a job's time range is one key range),
 * RK reverse-time|id (newest first). Lists, alert windows and cycles read a job's key range in
 * the day shards their time range touches, with the filters applied by the service.
 */
export function eventKey(job: string, iso: string, id: string): { partitionKey: string; rowKey: string } {
  return { partitionKey: `${job}|${hourBucket(iso)}`, rowKey: `${reverseTicks(iso)}|${keyPart(id)}` };
}

/** The hour an event partition key names (its last part). */
export function hourOfPartition(partitionKey: string): string {
  return partitionKey.slice(partitionKey.lastIndexOf("|") + 1);
}

export interface EventFilter {
  actions?: ProvisioningAction[] | undefined;
  status?: ProvisioningStatus | undefined;
  identityType?: string | undefined;
  errorCode?: string | undefined;
  cycleId?: string | undefined;
  /** Only events with a reference that could not be resolved (core/references.ts). */
  referenceProblem?: boolean | undefined;
}

/**
 * Each job-hour partition also holds that hour's counter (countsTable.ts has its encoding). Its row
 * key sorts before every event's, and it has no `at`, so no time-range read ever returns it.
 */
export const COUNTER_RK = "!counts";

/** What a partition holds of a batch: the row keys already stored, and the hour's counter. */
export interface PartitionState {
  partitionKey: string;
  job: string;
  hour: string;
  stored: Set<string>;
  counter: { snapshot: HourSnapshot; etag: string } | null;
}

/** The result of committing one partition's new events. */
export interface Committed {
  added: EventEntity[];
  /** Events another writer stored meanwhile (a concurrent redelivery). */
  raced: EventEntity[];
  state: PartitionState;
}

const COMMIT_ATTEMPTS = 8;

export const SUMMARY_COLUMNS = ["PartitionKey", "RowKey", "at", "jobKey", "action", "status", "errorCode", "identity", "identityName", "identityType", "changeId", "cycleId", "refIssue"];

/** More jobs than this are read as one key range from the first to the last (fewer comparisons). */
const OR_JOBS = 3;

export class EventsTable {
  readonly shards: ShardSet;
  constructor(factory: TableFactory) {
    this.shards = new ShardSet(factory, SHARDS.events);
  }

  /** Upserts, grouped by day shard (each shard created on first write). */
  async put(entities: EventEntity[], concurrency: number, onReject?: OnReject): Promise<void> {
    const byShard = new Map<string, EventEntity[]>();
    for (const e of entities) {
      const day = hourOfPartition(e.partitionKey).slice(0, 8);
      let list = byShard.get(day);
      if (!list) byShard.set(day, (list = []));
      list.push(e);
    }
    await Promise.all([...byShard.values()].map((list) => this.shards.write(String(list[0]!["at"]), undefined, (table) => upsertAll(table, list, concurrency, onReject))));
  }

  private shardOf(partitionKey: string): TableClient {
    return this.shards.client(hourOfPartition(partitionKey).slice(0, 8));
  }

  /**
   * Which of `rowKeys` one job-hour partition stores already, with its counter: one key-range read.
   * A partition without a counter (its events were stored before counters existed) is recounted
   * from its rows, so the counter starts from what is stored.
   */
  async present(partitionKey: string, job: string, rowKeys: string[], countOf: (row: Record<string, unknown>) => CountInput): Promise<PartitionState> {
    const hour = hourOfPartition(partitionKey);
    const state: PartitionState = { partitionKey, job, hour, stored: new Set(), counter: null };
    const sorted = [...rowKeys].sort();
    const table = this.shardOf(partitionKey);
    const filter = odata`PartitionKey eq ${partitionKey} and (RowKey eq ${COUNTER_RK} or (RowKey ge ${sorted[0]!} and RowKey le ${sorted[sorted.length - 1]!}))`;
    const rows = await readShard(async () => {
      const found: Record<string, unknown>[] = [];
      for await (const e of table.listEntities<Record<string, unknown>>({ queryOptions: { filter, select: ["RowKey", ...COUNTER_COLUMNS] } })) found.push(e);
      return found;
    }, []);
    const wanted = new Set(rowKeys);
    for (const r of rows) {
      const rk = String(r["rowKey"]);
      if (rk === COUNTER_RK) {
        const snapshot = readCounter(job, hour, r);
        if (snapshot) state.counter = { snapshot, etag: String(r["etag"]) };
      } else if (wanted.has(rk)) state.stored.add(rk);
    }
    if (!state.counter) {
      const counted = await this.recountPartition(partitionKey, job, countOf);
      if (counted.counts.t > 0) state.counter = { snapshot: counted, etag: "" };
    }
    return state;
  }

  /** The counts of one job-hour computed from its stored event rows (reconciliation). */
  async recountPartition(partitionKey: string, job: string, countOf: (row: Record<string, unknown>) => CountInput): Promise<HourSnapshot> {
    const rows = await readShard(async () => {
      const found: CountInput[] = [];
      const filter = odata`PartitionKey eq ${partitionKey} and RowKey gt ${COUNTER_RK}`;
      for await (const e of this.shardOf(partitionKey).listEntities<Record<string, unknown>>({ queryOptions: { filter, select: ["RowKey", "action", "status", "errorCode", "identityType"] } })) found.push(countOf(e));
      return found;
    }, []);
    return recount(job, hourOfPartition(partitionKey), rows);
  }

  /**
   * Stores one partition's new events together with the hour's counter, in entity-group
   * transactions (at most 99 events and the counter each): an event is stored and counted at once,
   * or neither. A row another writer stored meanwhile (409) or a counter it moved (412) re-reads the
   * partition and goes on with what is still missing; a row the service refuses on its own merits
   * is settled alone (onReject).
   */
  async commit(state: PartitionState, entities: EventEntity[], countOf: (e: EventEntity) => CountInput, countRow: (row: Record<string, unknown>) => CountInput, onReject?: OnReject): Promise<Committed> {
    // A shard dropped by another instance since (a late event past retention) is created again.
    return this.shards.write(String(entities[0]?.["at"] ?? ""), undefined, (table) => this.commitTo(table, state, entities, countOf, countRow, onReject));
  }

  private async commitTo(table: TableClient, state: PartitionState, entities: EventEntity[], countOf: (e: EventEntity) => CountInput, countRow: (row: Record<string, unknown>) => CountInput, onReject?: OnReject): Promise<Committed> {
    const out: Committed = { added: [], raced: [], state };
    let pending = entities.filter((e) => !state.stored.has(e.rowKey));
    const submit = async (chunk: EventEntity[]) => {
      const { snapshot, properties } = nextCounter(state.counter?.snapshot ?? null, state.job, state.hour, chunk.map(countOf));
      const counter: Entity = { partitionKey: state.partitionKey, rowKey: COUNTER_RK, ...properties };
      const counterOp: TransactionAction = state.counter?.etag ? ["update", counter, "Replace", { etag: state.counter.etag }] : ["create", counter];
      const response = await table.submitTransaction([...chunk.map((e): TransactionAction => ["create", e]), counterOp]);
      const etag = response.subResponses.find((r) => r.rowKey === COUNTER_RK)?.etag ?? "";
      state.counter = { snapshot, etag };
      for (const e of chunk) state.stored.add(e.rowKey);
      out.added.push(...chunk);
    };
    const reread = async () => {
      const again = await this.present(state.partitionKey, state.job, pending.map((e) => e.rowKey), countRow);
      state.counter = again.counter;
      for (const e of pending) if (again.stored.has(e.rowKey)) out.raced.push(e);
      for (const rk of again.stored) state.stored.add(rk);
      pending = pending.filter((e) => !again.stored.has(e.rowKey));
    };
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= COMMIT_ATTEMPTS) throw new Error(`events ${state.partitionKey}: still contended after ${COMMIT_ATTEMPTS} attempts`);
      const [chunk] = chunkRows(pending, 1);
      try {
        await submit(chunk!);
        pending = pending.slice(chunk!.length);
        attempt = -1;
        continue;
      } catch (err) {
        if (isConflict(err)) {
          await reread();
          continue;
        }
        if (!onReject || !rejectionReason(err)) throw err;
      }
      // One entity spoiled the transaction: settle each on its own, so only that one is refused.
      for (const e of chunk!) {
        try {
          await submit([e]);
        } catch (err) {
          if (isConflict(err)) {
            await reread();
            break;
          }
          const reason = rejectionReason(err);
          if (!reason) throw err;
          onReject(e, reason);
        }
        pending = pending.filter((p) => p !== e);
      }
    }
    return out;
  }

  /** Writes a recomputed counter under the ETag read (reconciliation). */
  async saveCounter(state: PartitionState, snapshot: HourSnapshot): Promise<void> {
    const counter: Entity = { partitionKey: state.partitionKey, rowKey: COUNTER_RK, ...counterProperties(snapshot) };
    await this.shards.write(hourStart(state.hour), undefined, async (table) => {
      if (state.counter?.etag) await table.updateEntity(counter, "Replace", { etag: state.counter.etag });
      else await table.upsertEntity(counter, "Replace");
    });
  }

  async exists(partitionKey: string, rowKey: string): Promise<boolean> {
    return readShard(async () => (await getOrNull(this.shardOf(partitionKey), partitionKey, rowKey)) !== null, false);
  }

  async get(partitionKey: string, rowKey: string): Promise<ProvisioningEvent | null> {
    const entity = await getOrNull<Record<string, unknown>>(this.shardOf(partitionKey), partitionKey, rowKey);
    return entity ? fromEventEntity(entity) : null;
  }

  /** Deletes rows (a missing row or shard is fine). */
  async remove(rows: Entity[], concurrency: number): Promise<void> {
    await mapLimit(rows, concurrency, async (row) => {
      await this.shardOf(row.partitionKey).deleteEntity(row.partitionKey, row.rowKey).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    });
  }

  /** Every stored row of one job, in every shard that exists (audits and tests; not for answers). */
  async *allOf(job: string, select: string[] = SUMMARY_COLUMNS): AsyncGenerator<Record<string, unknown>> {
    for (const shard of await this.shards.existing()) {
      const filter = odata`PartitionKey ge ${`${job}|`} and PartitionKey lt ${`${job}|~`}`;
      try {
        for await (const e of this.shards.clientByName(shard.name).listEntities<Record<string, unknown>>({ queryOptions: { filter, select: [...new Set(["RowKey", ...select])] } })) if (e["rowKey"] !== COUNTER_RK) yield e;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  /**
   * Events of some jobs (null: all) in [from, to) matching a filter, one request per day shard
   * (more only when the service pages), shards newest first; rows newest first within a shard.
   * `enough` stops after a shard once it says so. `holds`: days the caller knows hold matching rows
   * (from the counts), read even where this instance's shard list does not know them yet.
   */
  async range(jobKeys: string[] | null, fromIso: string, toIso: string, filter: EventFilter, enough: (rows: EventRow[]) => boolean = () => false, holds?: ReadonlySet<string>): Promise<EventRow[]> {
    const out: EventRow[] = [];
    if (jobKeys && jobKeys.length === 0) return out;
    const where = rangeFilter(jobKeys, fromIso, toIso, filter);
    const wanted = jobKeys ? new Set(jobKeys) : null;
    for (const shard of await this.shards.forRangeStored(fromIso, toIso, undefined, holds)) {
      const rows = await readShard(async () => {
        const found: EventRow[] = [];
        for await (const e of shard.listEntities<Record<string, unknown>>({ queryOptions: { filter: where, select: SUMMARY_COLUMNS } })) {
          const row = rowOf(e);
          if (!wanted || wanted.has(row.jobKey)) found.push(row);
        }
        return found;
      }, [] as EventRow[]);
      out.push(...rows.sort((a, b) => b.at.localeCompare(a.at)));
      if (enough(out)) break;
    }
    return out;
  }

  /**
   * The same events as `range`, whole, one at a time: day shards newest first, and within a shard
   * page by page as the service returns them (a download of any size holds one page in memory).
   */
  async *stream(jobKeys: string[] | null, fromIso: string, toIso: string, filter: EventFilter): AsyncGenerator<ProvisioningEvent> {
    if (jobKeys && jobKeys.length === 0) return;
    const where = rangeFilter(jobKeys, fromIso, toIso, filter);
    const wanted = jobKeys ? new Set(jobKeys) : null;
    for (const shard of await this.shards.forRangeStored(fromIso, toIso)) {
      try {
        for await (const e of shard.listEntities<Record<string, unknown>>({ queryOptions: { filter: where } })) {
          if (e["rowKey"] === COUNTER_RK || (wanted && !wanted.has(String(e["jobKey"] ?? "")))) continue;
          yield fromEventEntity(e as EventEntity);
        }
      } catch (err) {
        if (!isNotFound(err)) throw err; // a shard dropped by retention meanwhile holds nothing
      }
    }
  }
}

/** The OData filter of a time range, some jobs and the list filters (one place for `range` and `stream`). */
function rangeFilter(jobKeys: string[] | null, fromIso: string, toIso: string, filter: EventFilter): string {
  const fromHour = hourBucket(fromIso);
  const toHour = hourBucket(toIso);
  let where = odata`at ge ${fromIso} and at lt ${toIso}`;
  if (jobKeys) {
    const sorted = [...jobKeys].sort();
    const span = (lo: string, hi: string) => odata`PartitionKey ge ${`${lo}|${fromHour}`} and PartitionKey le ${`${hi}|${toHour}`}`;
    where += sorted.length <= OR_JOBS ? ` and (${sorted.map((j) => `(${span(j, j)})`).join(" or ")})` : ` and ${span(sorted[0]!, sorted[sorted.length - 1]!)}`;
  }
  if (filter.status) where += ` and ${odata`status eq ${filter.status}`}`;
  if (filter.actions) where += ` and (${filter.actions.map((a) => odata`action eq ${a}`).join(" or ")})`;
  if (filter.identityType) where += ` and ${odata`identityType eq ${filter.identityType}`}`;
  if (filter.errorCode) where += ` and ${odata`errorCode eq ${filter.errorCode}`}`;
  if (filter.cycleId) where += ` and ${odata`cycleId eq ${filter.cycleId}`}`;
  if (filter.referenceProblem) where += ` and ${odata`refIssue eq ${true}`}`;
  return where;
}


export function rowOf(e: Record<string, unknown>): EventRow {
  const s = (k: string) => String(e[k] ?? "");
  return {
    epk: s("partitionKey"),
    erk: s("rowKey"),
    at: s("at"),
    jobKey: s("jobKey"),
    action: s("action") as EventRow["action"],
    status: s("status") as EventRow["status"],
    errorCode: s("errorCode"),
    identity: s("identity"),
    identityName: s("identityName"),
    identityType: s("identityType"),
    changeId: s("changeId"),
    cycleId: s("cycleId"),
    ...(e["refIssue"] === true ? { refIssue: true } : {}),
  };
}
