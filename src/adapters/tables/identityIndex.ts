import { odata } from "@azure/data-tables";
import type { EventRow } from "../../app/queryPorts";
import { dayBucket, monthBucket } from "../../core/timeBuckets";
import { mapLimit, upsertAll, type Entity, type OnReject } from "./batch";
import { bucket, keyPart, prefixUpperBound, reverseTicks } from "./keys";
import { isNotFound } from "./reads";
import { readShard, SHARDS, ShardSet, type ShardFamily } from "./shards";
import type { TableFactory } from "./client";

/**
 * identities<yyyyMM>h<hash>: newest-first events per canonical identity (object id, else UPN),
 * one table per UTC month and per 1/16 of the identity keys, so that "why did alice fail?" over
 * 30 days is one range read in each of at most two small tables.
 * PK hash bucket of the identity (4 per table) | reversed day: a batch's rows share few
 * partitions (transactions of about 15 for 1,000 events) and a partition holds one day, so a write
 * never lands in a partition that grows with the month (Azurite scans a partition to find the row
 * of every write). A person's 30 days are one key range per table, newest day first.
 * RK identity|reverse-time|id; the row carries the event's key and summary, so a list of a
 * person's events needs no event reads.
 */
const PARTITIONS = 4;

/** Days in descending order as ascending strings: 99999999 - yyyyMMdd. */
const reverseDay = (iso: string) => String(99_999_999 - Number(dayBucket(iso)));

export interface IdentityRow extends EventRow {
  partitionKey: string;
  rowKey: string;
  targetId: string;
}

export function identityKeyOf(identityKey: string, iso: string, id: string): { partitionKey: string; rowKey: string } {
  return { partitionKey: `${bucket(identityKey, PARTITIONS)}|${reverseDay(iso)}`, rowKey: `${keyPart(identityKey)}|${reverseTicks(iso)}|${keyPart(id)}` };
}

/** The identity key a row belongs to, as stored (key-escaped). */
export function storedIdentityOf(rowKey: string): string {
  return rowKey.slice(0, rowKey.indexOf("|"));
}

export class IdentityIndex {
  readonly shards: ShardSet;
  /** `family`: the whole index (identities), or the index of failed events only (failures). */
  constructor(factory: TableFactory, family: ShardFamily = SHARDS.identities) {
    this.shards = new ShardSet(factory, family);
  }

  async put(rows: (Entity & { identityKey: string; at: string })[], concurrency: number, onReject?: OnReject): Promise<void> {
    const byShard = new Map<string, { iso: string; key: string; rows: Entity[] }>();
    for (const r of rows) {
      const name = this.shards.client(monthBucket(r.at), r.identityKey).tableName;
      let group = byShard.get(name);
      if (!group) byShard.set(name, (group = { iso: r.at, key: r.identityKey, rows: [] }));
      const { identityKey: _k, ...entity } = r;
      group.rows.push(entity as Entity);
    }
    await Promise.all([...byShard.values()].map((g) => this.shards.write(g.iso, g.key, (table) => upsertAll(table, g.rows, concurrency, onReject))));
  }

  /** Newest-first rows of one identity in [from, to]; one range read per month shard, all at once. */
  async rows(identityKey: string, fromIso: string, toIso: string, limit: number, jobKey?: string, narrow: { statuses?: string[]; jobKeys?: string[] } = {}): Promise<IdentityRow[]> {
    const b = bucket(identityKey, PARTITIONS);
    const prefix = `${keyPart(identityKey)}|`;
    let filter = odata`PartitionKey ge ${`${b}|${reverseDay(toIso)}`} and PartitionKey le ${`${b}|${reverseDay(fromIso)}`} and RowKey ge ${prefix} and RowKey lt ${prefixUpperBound(prefix)} and at ge ${fromIso} and at lt ${toIso}`;
    if (jobKey) filter += ` and ${odata`jobKey eq ${jobKey}`}`;
    if (narrow.jobKeys?.length) filter += ` and (${narrow.jobKeys.map((k) => odata`jobKey eq ${k}`).join(" or ")})`;
    if (narrow.statuses?.length) filter += ` and (${narrow.statuses.map((st) => odata`status eq ${st}`).join(" or ")})`;
    const perShard = await Promise.all(
      (await this.shards.forRangeStored(fromIso, toIso, identityKey)).map((shard) =>
        readShard(async () => {
          const found: IdentityRow[] = [];
          for await (const row of shard.listEntities<IdentityRow>({ queryOptions: { filter } })) {
            found.push(row);
            if (found.length >= limit) break;
          }
          return found;
        }, [] as IdentityRow[]),
      ),
    );
    return perShard.flat().slice(0, limit);
  }

  async remove(rows: { identityKey: string; at: string; partitionKey: string; rowKey: string }[], concurrency: number): Promise<void> {
    await mapLimit(rows, concurrency, async (r) => {
      const shard = this.shards.client(monthBucket(r.at), r.identityKey);
      await shard.deleteEntity(r.partitionKey, r.rowKey).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    });
  }

  /** Every row in every shard that exists (audits and tests; not for answers). */
  async *all(): AsyncGenerator<IdentityRow> {
    for (const shard of await this.shards.existing()) yield* this.scan(shard.name);
  }

  /** Every row of one shard, streamed (the retention purge keeps each identity's newest state). */
  async *scan(name: string): AsyncGenerator<IdentityRow> {
    const shard = this.shards.clientByName(name);
    try {
      for await (const row of shard.listEntities<IdentityRow>()) yield row;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
