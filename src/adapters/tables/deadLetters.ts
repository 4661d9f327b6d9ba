import { createOnce } from "./batch";
import { randomUUID } from "node:crypto";
import { odata, type TableClient } from "@azure/data-tables";
import type { Clock, DeadLetterStore, StoredDeadLetter } from "../../app/ports";
import type { DeadLetterBatch } from "../../app/deadLetter";
import { clipText } from "../../core/text";
import { CHUNK_BYTES, deflate, putChunks, readChunks } from "./chunks";
import { deleteWhere } from "./batch";
import { getOrNull } from "./reads";
import { dayBucket, reverseTicks } from "./keys";
import type { TableFactory } from "./client";

/**
 * Rejected records, one row per ingest call: PK = day received, RK = reverse time | uuid (newest
 * first). The row says how many were rejected and why (the first reasons as JSON text), and keeps
 * the raw records deflated in binary chunks, so a rejected record can be read back and fixed.
 * Its id (`<PK>/<RK>`) is in the ingest response.
 */
const MAX_RAW_CHUNKS = 14;

export class TableDeadLetterStore implements DeadLetterStore {
  readonly table: TableClient;
  /** Created once per process; a failed creation is forgotten, so the next call tries again. */
  private readonly init: () => Promise<void>;
  constructor(factory: TableFactory, private readonly clock: Clock) {
    this.table = factory.table("deadletters");
    this.init = createOnce(this.table);
  }

  async put(batch: DeadLetterBatch): Promise<string> {
    await this.init();
    const now = this.clock.now().toISOString();
    const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
      partitionKey: dayBucket(now),
      rowKey: `${reverseTicks(now)}|${randomUUID()}`,
      receivedAt: now,
      source: clipText(batch.source, 100),
      count: batch.count,
      listed: batch.rejections.length,
      rawDropped: batch.rawDropped,
      firstReason: clipText(batch.rejections[0]?.reason ?? "", 1000),
      summary: clipText(reasonSummary(batch), 4000),
    };
    // The listed reasons and the raw records, compressed: as many raw records as fit the entity.
    let raw = batch.raw;
    let packed = deflate(JSON.stringify({ rejections: batch.rejections, raw }));
    while (packed.length > CHUNK_BYTES * MAX_RAW_CHUNKS && raw.length > 0) {
      raw = raw.slice(0, Math.floor(raw.length / 2));
      packed = deflate(JSON.stringify({ rejections: batch.rejections, raw }));
    }
    entity["rawKept"] = raw.length;
    entity["rawDropped"] = batch.rawDropped + (batch.raw.length - raw.length);
    putChunks(entity, packed);
    await this.table.upsertEntity(entity, "Replace");
    return `${entity.partitionKey}/${entity.rowKey}`;
  }

  /** Newest first, from `sinceIso` on (one range read per day). */
  async list(sinceIso: string, limit = 50): Promise<StoredDeadLetter[]> {
    await this.init();
    const out: StoredDeadLetter[] = [];
    for await (const e of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey ge ${dayBucket(sinceIso)}`, select: ["PartitionKey", "RowKey", "receivedAt", "source", "count", "firstReason", "summary"] } })) {
      out.push(summary(e));
    }
    return out.sort((a, b) => b.receivedAt.localeCompare(a.receivedAt)).slice(0, limit);
  }

  async get(id: string): Promise<(StoredDeadLetter & { rejections: { index: number; reason: string }[]; raw: { index: number; raw: string }[] }) | null> {
    await this.init();
    const slash = id.indexOf("/");
    if (slash < 0) return null;
    const e = await getOrNull<Record<string, unknown>>(this.table, id.slice(0, slash), id.slice(slash + 1));
    if (!e) return null;
    const parse = <T>(text: string, fallback: T): T => {
      try {
        return JSON.parse(text) as T;
      } catch {
        return fallback;
      }
    };
    const body = parse<{ rejections?: { index: number; reason: string }[]; raw?: { index: number; raw: string }[] }>(readChunks(e) || "{}", {});
    return { ...summary(e), rejections: body.rejections ?? [], raw: body.raw ?? [] };
  }
  /** Retention: whole days received before the cutoff (one partition per day). */
  async purgeBefore(cutoffIso: string): Promise<number> {
    await this.init();
    return deleteWhere(this.table, odata`PartitionKey lt ${dayBucket(cutoffIso)}`);
  }
}

function summary(e: Record<string, unknown>): StoredDeadLetter {
  return {
    id: `${String(e["partitionKey"])}/${String(e["rowKey"])}`,
    receivedAt: String(e["receivedAt"] ?? ""),
    source: String(e["source"] ?? ""),
    count: Number(e["count"] ?? 0),
    firstReason: String(e["firstReason"] ?? ""),
    summary: String(e["summary"] ?? ""),
  };
}

/** "20,000 × line N is not valid JSON; 2 × activityDateTime is …": reasons grouped, numbers folded. */
export function reasonSummary(batch: DeadLetterBatch): string {
  const groups = new Map<string, number>();
  for (const r of batch.rejections) {
    const key = r.reason.replace(/\d+/g, "N").slice(0, 200);
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  const listed = batch.rejections.length;
  const parts = [...groups.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([reason, n]) => `${(listed === batch.count ? n : Math.round((n / listed) * batch.count)).toLocaleString("en-US")} × ${reason}`);
  return `${batch.count.toLocaleString("en-US")} rejected${listed < batch.count ? ` (reasons of the first ${listed} shown, counts estimated)` : ""}: ${parts.join("; ")}`;

}
