import { odata, type TableClient } from "@azure/data-tables";
import { monthBucket } from "../../core/timeBuckets";
import { entityKey, insertNew, mapLimit, upsertAll, type Entity, type OnReject } from "./batch";
import { bucket, keyPart, prefixUpperBound } from "./keys";
import { getOrNull } from "./reads";
import { SHARDS, ShardSet } from "./shards";
import type { TableFactory } from "./client";

/**
 * refs<yyyyMM>: point lookups by id, one table per UTC month of the event.
 * - change markers: PK c|hash(changeId), RK changeId -> the event's id and keys, inserted before the
 *   event row; a marker found for the same id under other keys is the same event stored from another
 *   format. A second event with the same changeId (rare) gets RK changeId|id, and the first marker
 *   is flagged `shared`.
 * - cycle refs: PK y|hash(cycleId), RK cycleId -> the job and time, so a cycle's events are one
 *   key range.
 * A pasted changeId is one point read in the newest month, a second in the month before (the
 * list of shards is cached for a minute).
 */
/**
 * A changeId has no time, so its marker's partition comes from a hash. Azurite finds the row of
 * every write by scanning its partition; 1,024 partitions keep each under about a thousand rows at
 * a million events a month, at the price of one insert per marker (transactions of ~1).
 */
const MARKER_PARTITIONS = 1024;
const CYCLE_PARTITIONS = 64;

export interface ChangeMarker extends Entity {
  id: string;
  epk: string;
  erk: string;
  at: string;
}

export function changeMarkerKey(changeId: string, id?: string): { partitionKey: string; rowKey: string } {
  return { partitionKey: `c|${bucket(changeId, MARKER_PARTITIONS)}`, rowKey: id === undefined ? keyPart(changeId) : `${keyPart(changeId)}|${keyPart(id)}` };
}

export function cycleRefKey(cycleId: string): { partitionKey: string; rowKey: string } {
  return { partitionKey: `y|${bucket(cycleId, CYCLE_PARTITIONS)}`, rowKey: keyPart(cycleId) };
}

export class RefsTable {
  readonly shards: ShardSet;
  constructor(factory: TableFactory) {
    this.shards = new ShardSet(factory, SHARDS.refs);
  }

  private async byMonth<E extends Entity & { at: string }>(rows: E[], fn: (table: TableClient, rows: E[]) => Promise<void>): Promise<void> {
    const groups = new Map<string, E[]>();
    for (const r of rows) {
      const m = monthBucket(r.at);
      let list = groups.get(m);
      if (!list) groups.set(m, (list = []));
      list.push(r);
    }
    await Promise.all([...groups.values()].map((list) => this.shards.write(list[0]!.at, undefined, (table) => fn(table, list))));
  }

  async putCycles(rows: (Entity & { at: string; jobKey: string })[], concurrency: number, onReject?: OnReject): Promise<void> {
    await this.byMonth(rows, (table, list) => upsertAll(table, list, concurrency, onReject));
  }

  /**
   * Inserts the markers; resolves with the markers (by entityKey) that were already stored for the
   * same event, with the event row keys they point to. A different event under a changeId already
   * taken gets its own marker beside it.
   */
  async insertMarkers(markers: (ChangeMarker & { changeId: string })[], concurrency: number, onReject?: OnReject): Promise<Map<string, { epk: string; erk: string }>> {
    const duplicates = new Map<string, { epk: string; erk: string }>();
    const pointer = (row: Record<string, unknown>) => ({ epk: String(row["epk"] ?? ""), erk: String(row["erk"] ?? "") });
    await this.byMonth(markers, async (table, list) => {
      const existing = await insertNew(table, list, concurrency, onReject, ["id", "epk", "erk"]);
      const shared: (ChangeMarker & { changeId: string })[] = [];
      for (const m of list) {
        const found = existing.get(entityKey(m));
        if (!found) continue;
        if (String(found["id"] ?? "") === m.id) duplicates.set(entityKey(m), pointer(found));
        else shared.push(m);
      }
      if (shared.length === 0) return;
      const second = shared.map((m) => ({ ...m, ...changeMarkerKey(m.changeId, m.id) }));
      const again = await insertNew(table, second, concurrency, onReject, ["epk", "erk"]);
      for (const [i, m] of shared.entries()) {
        const found = again.get(entityKey(second[i]!));
        if (found) duplicates.set(entityKey(m), pointer(found));
      }
      await mapLimit(shared, concurrency, (m) => table.upsertEntity({ partitionKey: m.partitionKey, rowKey: m.rowKey, shared: true }, "Merge"));
    });
    return duplicates;
  }

  /** Points an event's marker at its row (a copy stored under other keys was never completed). */
  async repoint(marker: ChangeMarker & { changeId: string }): Promise<void> {
    const table = this.shards.client(monthBucket(marker.at));
    const first = await getOrNull<{ id: string }>(table, marker.partitionKey, marker.rowKey);
    const k = first && first.id !== marker.id ? changeMarkerKey(marker.changeId, marker.id) : marker;
    await table.upsertEntity({ ...marker, partitionKey: k.partitionKey, rowKey: k.rowKey }, "Merge");
  }

  /**
   * The markers of a changeId: a point read in each month that has a shard, from the newest,
   * stopping at the first that has it (events of one change share its time, so its month). A
   * month another instance created since the shard list was taken is read too (periodsForLookup).
   */
  async findChange(changeId: string): Promise<ChangeMarker[]> {
    const k = changeMarkerKey(changeId);
    for await (const month of this.shards.periodsForLookup()) {
      const table = this.shards.client(month);
      const first = await getOrNull<ChangeMarker & { shared?: boolean }>(table, k.partitionKey, k.rowKey);
      if (!first) continue;
      if (!first.shared) return [first];
      const prefix = `${k.rowKey}|`;
      const out: ChangeMarker[] = [first];
      for await (const m of table.listEntities<ChangeMarker>({ queryOptions: { filter: odata`PartitionKey eq ${k.partitionKey} and RowKey gt ${prefix} and RowKey lt ${prefixUpperBound(prefix)}` } })) out.push(m);
      return out;
    }
    return [];
  }

  async findCycle(cycleId: string): Promise<{ jobKey: string; at: string } | null> {
    const k = cycleRefKey(cycleId);
    for await (const month of this.shards.periodsForLookup()) {
      const row = await getOrNull<{ jobKey: string; at: string }>(this.shards.client(month), k.partitionKey, k.rowKey);
      if (row) return { jobKey: row.jobKey, at: row.at };
    }
    return null;
  }
}
