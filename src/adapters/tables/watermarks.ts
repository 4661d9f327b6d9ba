import { createOnce } from "./batch";
import { odata, type TableClient } from "@azure/data-tables";
import type { RunRecord, RunStore, WatermarkStore } from "../../app/graphPoll";
import type { TableFactory } from "./client";
import { keyPart } from "./keys";
import { getOrNull } from "./reads";

/**
 * Poller watermarks: PK "watermark", RK = name (one per tenant / source); and the outcome of each
 * poller's last run: PK "run", RK = poller (for the health endpoint).
 */
export class TableWatermarkStore implements WatermarkStore, RunStore {
  private readonly table: TableClient;
  /** Created once per process; a failed creation is forgotten, so the next call tries again. */
  private readonly init: () => Promise<void>;
  constructor(factory: TableFactory) {
    this.table = factory.table("watermarks");
    this.init = createOnce(this.table);
  }
  async get(name: string): Promise<string | null> {
    await this.init();
    // Only "no such row" means no watermark: an outage throws, so the poller does not start over.
    const row = await getOrNull<{ at: string }>(this.table, "watermark", keyPart(name));
    return row?.at ?? null;
  }
  async set(name: string, iso: string): Promise<void> {
    await this.init();
    await this.table.upsertEntity({ partitionKey: "watermark", rowKey: keyPart(name), at: iso }, "Replace");
  }
  async recordRun(name: string, run: RunRecord): Promise<void> {
    await this.init();
    await this.table.upsertEntity({ partitionKey: "run", rowKey: keyPart(name), ...run }, "Replace");
  }
  async runs(): Promise<Record<string, RunRecord>> {
    await this.init();
    const out: Record<string, RunRecord> = {};
    for await (const row of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${"run"}` } })) {
      out[String(row.rowKey)] = { at: String(row["at"] ?? ""), outcome: row["outcome"] === "cut-short" ? "cut-short" : row["outcome"] === "failed" ? "failed" : "ok", reason: String(row["reason"] ?? ""), detail: String(row["detail"] ?? "") };
    }
    return out;
  }
}
