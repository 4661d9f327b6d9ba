import { randomUUID } from "node:crypto";
import type { TableClient } from "@azure/data-tables";
import { createOnce } from "./batch";
import type { TableFactory } from "./client";
import { getOrNull } from "./reads";

/**
 * Change markers: one small row per kind of change that other instances must notice soon (a new
 * job, a new time shard), in the `jobs` table's "meta" partition. A writer stamps the row after
 * the change is made; a reader that caches what the change affects compares the stamp (one point
 * read) at most every MARKER_CHECK_MS and reloads when it moved. What may lag between instances is
 * then bounded by MARKER_CHECK_MS, not by a cache's lifetime.
 */
export const MARKER_CHECK_MS = 2_000;

export class ChangeMarkers {
  private readonly table: TableClient;
  private readonly init: () => Promise<void>;
  constructor(factory: TableFactory) {
    this.table = factory.table("jobs");
    this.init = createOnce(this.table);
  }

  /** The marker's current stamp ("" before the first change). */
  async read(name: string): Promise<string> {
    await this.init();
    const row = await getOrNull<{ stamp?: string }>(this.table, "meta", name);
    return String(row?.stamp ?? "");
  }

  async stamp(name: string): Promise<void> {
    await this.init();
    await this.table.upsertEntity({ partitionKey: "meta", rowKey: name, stamp: `${new Date().toISOString()}|${randomUUID()}` }, "Replace");
  }
}
