import { odata } from "@azure/data-tables";
import type { EventRow } from "../../app/queryPorts";
import { mapLimit, upsertAll, type Entity, type OnReject } from "./batch";
import { bucket, keyPart, prefixUpperBound, reverseTicks } from "./keys";
import { isNotFound } from "./reads";
import { readShard, SHARDS, ShardSet } from "./shards";
import type { TableFactory } from "./client";

/**
 * identities<yyyyMM>h<hash>: newest-first events per canonical identity (object id, else UPN),
 * one table per UTC month and per 1/16 of the identity keys, so that "why did alice fail?" over
 * 30 days is one range read in each of at most two small tables.
 * PK hash bucket of the identity (4 per table, 64 per month: a body of 2,000 events still writes
 * in transactions of about 30), RK identity|reverse-time|id; the row carries the event's
 * key and summary, so a list of a person's events needs no event reads.
 */
const PARTITIONS = 4;

export interface IdentityRow extends EventRow {
  partitionKey: string;
  rowKey: string;
  targetId: string;
}

export function identityKeyOf(identityKey: string, iso: string, id: string): { partitionKey: string; rowKey: string } {
  return { partitionKey: bucket(identityKey, PARTITIONS), rowKey: `${keyPart(identityKey)}|${reverseTicks(iso)}|${keyPart(id)}` };
}

/** The identity key a row belongs to, as stored (key-escaped). */
export function storedIdentityOf(rowKey: string): string {
  return rowKey.slice(0, rowKey.indexOf("|"));
}

export class IdentityIndex {
  readonly shards: ShardSet;
  constructor(factory: TableFactory) {
    this.shards = new ShardSet(factory, SHARDS.identities);
  }

  async put(rows: (Entity & { identityKey: string; at: string })[], concurrency: number, onReject?: OnReject): Promise<void> {
    const byShard = new Map<string, { iso: string; key: string; rows: Entity[] }>();
    for (const r of rows) {
      const name = this.shards.client(r.at.slice(0, 7).replace("-", ""), r.identityKey).tableName;
      let group = byShard.get(name);
      if (!group) byShard.set(name, (group = { iso: r.at, key: r.identityKey, rows: [] }));
      const { identityKey: _k, ...entity } = r;
      group.rows.push(entity as Entity);
    }
    await Promise.all([...byShard.values()].map(async (g) => upsertAll(await this.shards.forWrite(g.iso, g.key), g.rows, concurrency, onReject)));
  }

  /** Newest-first rows of one identity in [from, to]; one range read per month shard, all at once. */
  async rows(identityKey: string, fromIso: string, toIso: string, limit: number, jobKey?: string): Promise<IdentityRow[]> {
    const pk = bucket(identityKey, PARTITIONS);
    const prefix = `${keyPart(identityKey)}|`;
    let filter = odata`PartitionKey eq ${pk} and RowKey ge ${prefix} and RowKey lt ${prefixUpperBound(prefix)} and at ge ${fromIso} and at le ${toIso}`;
    if (jobKey) filter += ` and ${odata`jobKey eq ${jobKey}`}`;
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
      const shard = this.shards.client(r.at.slice(0, 7).replace("-", ""), r.identityKey);
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
