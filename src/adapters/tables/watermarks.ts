import type { TableClient } from "@azure/data-tables";
import type { WatermarkStore } from "../../app/graphPoll";
import type { TableFactory } from "./client";
import { keyPart } from "./keys";
import { getOrNull } from "./reads";

/** Poller watermarks: PK "watermark", RK = name (one per tenant / source). */
export class TableWatermarkStore implements WatermarkStore {
  private readonly table: TableClient;
  private ready: Promise<void> | null = null;
  constructor(factory: TableFactory) {
    this.table = factory.table("watermarks");
  }
  private init() {
    this.ready ??= this.table.createTable().then(() => undefined);
    return this.ready;
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
}
