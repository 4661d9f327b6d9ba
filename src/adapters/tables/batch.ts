import { RestError, type TableClient, type TransactionAction } from "@azure/data-tables";
import { approxSize } from "./eventEntity";

/**
 * Writes entities as entity-group transactions: grouped by partition, at most 100 operations and
 * well under 4 MiB each, several transactions in flight. Transient failures are retried by the
 * SDK's own policy; this layer only shapes the batches.
 */
export interface Entity {
  partitionKey: string;
  rowKey: string;
  [key: string]: unknown;
}

const MAX_OPS = 100;
const MAX_BATCH_BYTES = 3_500_000;

export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return results;
}

export function chunkByPartition<E extends Entity>(entities: E[]): E[][] {
  const byPartition = new Map<string, Map<string, E>>();
  for (const e of entities) {
    let m = byPartition.get(e.partitionKey);
    if (!m) byPartition.set(e.partitionKey, (m = new Map()));
    m.set(e.rowKey, e); // a transaction may not touch one row twice: last write wins
  }
  const chunks: E[][] = [];
  for (const rows of byPartition.values()) {
    let chunk: E[] = [];
    let bytes = 0;
    for (const e of rows.values()) {
      const size = approxSize(e);
      if (chunk.length > 0 && (chunk.length >= MAX_OPS || bytes + size > MAX_BATCH_BYTES)) {
        chunks.push(chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(e);
      bytes += size;
    }
    if (chunk.length > 0) chunks.push(chunk);
  }
  return chunks;
}

export async function upsertAll(table: TableClient, entities: Entity[], concurrency = 8): Promise<void> {
  await mapLimit(chunkByPartition(entities), concurrency, async (chunk) => {
    if (chunk.length === 1) {
      await table.upsertEntity(chunk[0]!, "Replace");
      return;
    }
    await table.submitTransaction(chunk.map((e): TransactionAction => ["upsert", e, "Replace"]));
  });
}

const isConflict = (err: unknown) => err instanceof RestError && err.statusCode === 409;

/**
 * Inserts entities that must not exist yet and reports which already did (for de-duplication).
 * A transaction fails whole on one conflict; then its rows are inserted one by one to tell.
 */
export async function insertNew(table: TableClient, entities: Entity[], concurrency = 8): Promise<Set<string>> {
  const existing = new Set<string>();
  const key = (e: Entity) => `${e.partitionKey}\u0000${e.rowKey}`;
  await mapLimit(chunkByPartition(entities), concurrency, async (chunk) => {
    if (chunk.length > 1) {
      try {
        await table.submitTransaction(chunk.map((e): TransactionAction => ["create", e]));
        return;
      } catch (err) {
        if (!isConflict(err) && !(err instanceof RestError && err.statusCode === 400 && /EntityAlreadyExists/i.test(err.message))) throw err;
      }
    }
    for (const e of chunk) {
      try {
        await table.createEntity(e);
      } catch (err) {
        if (isConflict(err)) existing.add(key(e));
        else throw err;
      }
    }
  });
  return existing;
}

export function entityKey(e: Pick<Entity, "partitionKey" | "rowKey">): string {
  return `${e.partitionKey}\u0000${e.rowKey}`;
}

export async function ensureTables(tables: TableClient[]): Promise<void> {
  await Promise.all(
    tables.map(async (t) => {
      try {
        await t.createTable();
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }),
  );
}
