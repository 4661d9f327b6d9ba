import { odata, type TableClient } from "@azure/data-tables";
import { hourBucket } from "../../core/timeBuckets";
import type { ProvisioningAction, ProvisioningStatus } from "../../core/event";
import type { EventRow } from "../../app/queryPorts";
import { mapLimit, upsertAll, type Entity, type OnReject } from "./batch";
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
}

export const SUMMARY_COLUMNS = ["PartitionKey", "RowKey", "at", "jobKey", "action", "status", "errorCode", "identity", "identityName", "identityType", "changeId", "cycleId"];

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
        for await (const e of this.shards.clientByName(shard.name).listEntities<Record<string, unknown>>({ queryOptions: { filter, select } })) yield e;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  /**
   * Events of some jobs (null: all) in [from, to) matching a filter, one request per day shard
   * (more only when the service pages), shards newest first; rows newest first within a shard.
   * `enough` stops after a shard once it says so.
   */
  async range(jobKeys: string[] | null, fromIso: string, toIso: string, filter: EventFilter, enough: (rows: EventRow[]) => boolean = () => false): Promise<EventRow[]> {
    const out: EventRow[] = [];
    if (jobKeys && jobKeys.length === 0) return out;
    const fromHour = hourBucket(fromIso);
    const toHour = hourBucket(toIso);
    for (const shard of await this.shards.forRangeStored(fromIso, toIso)) {
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
      const wanted = jobKeys ? new Set(jobKeys) : null;
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
  };
}
