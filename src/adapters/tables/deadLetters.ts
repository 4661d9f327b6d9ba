import { randomUUID } from "node:crypto";
import type { TableClient } from "@azure/data-tables";
import type { Clock, DeadLetter, DeadLetterStore } from "../../app/ports";
import { upsertAll } from "./batch";
import { dayBucket, reverseTicks } from "./keys";
import type { TableFactory } from "./client";

/** Rejected records with their reason and raw payload (capped), PK = day, newest first. */
export const RAW_CAP_CHARS = 30_000;

export class TableDeadLetterStore implements DeadLetterStore {
  readonly table: TableClient;
  private ready: Promise<void> | null = null;
  constructor(factory: TableFactory, private readonly clock: Clock) {
    this.table = factory.table("deadletters");
  }

  async put(items: DeadLetter[]): Promise<void> {
    if (items.length === 0) return;
    this.ready ??= this.table.createTable().then(() => undefined);
    await this.ready;
    const now = this.clock.now().toISOString();
    await upsertAll(
      this.table,
      items.map((item) => ({
        partitionKey: dayBucket(now),
        rowKey: `${reverseTicks(now)}|${randomUUID()}`,
        receivedAt: now,
        source: item.source,
        index: item.index,
        reason: item.reason.slice(0, 2000),
        raw: item.raw.length > RAW_CAP_CHARS ? `${item.raw.slice(0, RAW_CAP_CHARS)}… [truncated, ${item.raw.length} chars]` : item.raw,
      })),
    );
  }
}
