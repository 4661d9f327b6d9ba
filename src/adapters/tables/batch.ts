import { odata, RestError, type TableClient, type TransactionAction } from "@azure/data-tables";
import { approxSize } from "./eventEntity";
import { getOrNull } from "./reads";

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

import { mapLimit } from "../../core/concurrency";
import { isConflict } from "./optimistic";
export { mapLimit };

export function chunkByPartition<E extends Entity>(entities: E[]): E[][] {
  const byPartition = new Map<string, Map<string, E>>();
  for (const e of entities) {
    let m = byPartition.get(e.partitionKey);
    if (!m) byPartition.set(e.partitionKey, (m = new Map()));
    m.set(e.rowKey, e); // a transaction may not touch one row twice: last write wins
  }
  return [...byPartition.values()].flatMap((rows) => chunkRows([...rows.values()]));
}

/** Rows of one partition in transaction-sized chunks; `reserve` keeps room for rows added to each. */
export function chunkRows<E extends Entity>(rows: E[], reserve = 0): E[][] {
  const chunks: E[][] = [];
  let chunk: E[] = [];
  let bytes = 0;
  for (const e of rows) {
    const size = approxSize(e);
    if (chunk.length > 0 && (chunk.length >= MAX_OPS - reserve || bytes + size > MAX_BATCH_BYTES)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(e);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** Called with an entity the service refused on its own merits (not a transient failure). */
export type OnReject = (entity: Entity, reason: string) => void;

/**
 * An error that belongs to the entities sent, not to the service's state: a 400 or 413 other than
 * a conflict, or a request the client could not even encode. Retrying it would fail the same way;
 * it is settled entity by entity instead. Everything else (5xx, timeouts, 429) is transient and
 * thrown, so the whole call fails and its retry completes it.
 */
export function rejectionReason(err: unknown): string | null {
  if (err instanceof RestError) {
    if ((err.statusCode === 400 || err.statusCode === 413) && !/EntityAlreadyExists/i.test(err.message)) return `Table Storage refused it: ${err.code ?? err.statusCode} ${err.message.split("\n")[0]!.slice(0, 200)}`;
    return null;
  }
  if (err instanceof URIError || err instanceof RangeError || err instanceof TypeError) return `it could not be encoded for Table Storage: ${err.message.slice(0, 200)}`;
  return null;
}

export async function upsertAll(table: TableClient, entities: Entity[], concurrency = 8, onReject?: OnReject): Promise<void> {
  const one = async (e: Entity) => {
    try {
      await table.upsertEntity(e, "Replace");
    } catch (err) {
      const reason = onReject && rejectionReason(err);
      if (!reason) throw err;
      onReject(e, reason);
    }
  };
  await mapLimit(chunkByPartition(entities), concurrency, async (chunk) => {
    if (chunk.length === 1) return one(chunk[0]!);
    try {
      await table.submitTransaction(chunk.map((e): TransactionAction => ["upsert", e, "Replace"]));
    } catch (err) {
      if (!onReject || !rejectionReason(err)) throw err;
      // One entity spoiled the transaction: settle each on its own, so only that one is refused.
      for (const e of chunk) await one(e);
    }
  });
}

/** Table Storage allows at most 15 comparisons in one filter: 1 for the partition, 14 row keys. */
const KEYS_PER_QUERY = 14;

async function existingRows(table: TableClient, partitionKey: string, rowKeys: string[], select: string[]): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < rowKeys.length; i += KEYS_PER_QUERY) {
    const group = rowKeys.slice(i, i + KEYS_PER_QUERY);
    const ors = group.map((rk) => odata`RowKey eq ${rk}`).join(" or ");
    const filter = `${odata`PartitionKey eq ${partitionKey}`} and (${ors})`;
    for await (const e of table.listEntities<Record<string, unknown>>({ queryOptions: { filter, select: ["RowKey", ...select] } })) found.set(String(e["rowKey"]), e);
  }
  return found;
}

/**
 * Inserts entities that must not exist yet and reports which already did (for de-duplication),
 * with the `select`ed columns of the row found. A transaction fails whole on one conflict; then
 * the chunk's keys are looked up 14 at a time and only the missing rows are inserted, so a
 * redelivered batch costs a few queries, not one request per row.
 */
export async function insertNew(table: TableClient, entities: Entity[], concurrency = 8, onReject?: OnReject, select: string[] = []): Promise<Map<string, Record<string, unknown>>> {
  const existing = new Map<string, Record<string, unknown>>();
  const insertOne = async (e: Entity) => {
    try {
      await table.createEntity(e);
    } catch (err) {
      if (isConflict(err)) {
        // One row: a point read (a query would scan the table on Azurite).
        const found = select.length > 0 ? await getOrNull<Record<string, unknown>>(table, e.partitionKey, e.rowKey) : null;
        existing.set(entityKey(e), found ?? {});
      } else {
        const reason = onReject && rejectionReason(err);
        if (!reason) throw err;
        onReject(e, reason);
      }
    }
  };
  await mapLimit(chunkByPartition(entities), concurrency, async (chunk) => {
    if (chunk.length === 1) return insertOne(chunk[0]!);
    try {
      await table.submitTransaction(chunk.map((e): TransactionAction => ["create", e]));
      return;
    } catch (err) {
      if (!isConflict(err)) {
        if (!onReject || !rejectionReason(err)) throw err;
        for (const e of chunk) await insertOne(e); // one entity spoiled it: settle each on its own
        return;
      }
    }
    const present = await existingRows(table, chunk[0]!.partitionKey, chunk.map((e) => e.rowKey), select);
    const missing: Entity[] = [];
    for (const e of chunk) {
      const found = present.get(e.rowKey);
      if (found) existing.set(entityKey(e), found);
      else missing.push(e);
    }
    if (missing.length === 0) return;
    try {
      if (missing.length === 1) return await insertOne(missing[0]!);
      await table.submitTransaction(missing.map((e): TransactionAction => ["create", e]));
    } catch (err) {
      if (!isConflict(err) && !(err instanceof RestError && err.statusCode === 400)) throw err;
      for (const e of missing) await insertOne(e); // a concurrent writer won some rows: settle them one by one
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

/** `init` for a module's own table: created once per process, retried after a failure. */
export function createOnce(table: TableClient): () => Promise<void> {
  let ready: Promise<void> | null = null;
  return () =>
    (ready ??= ensureTables([table]).catch((err: unknown) => {
      ready = null;
      throw err;
    }));
}

/** Deletes every entity matching an OData filter, in per-partition transactions. Returns the count. */
export async function deleteWhere(table: TableClient, filter: string, concurrency = 8): Promise<number> {
  const doomed: Entity[] = [];
  for await (const e of table.listEntities({ queryOptions: { filter, select: ["PartitionKey", "RowKey"] } })) {
    doomed.push({ partitionKey: String(e.partitionKey), rowKey: String(e.rowKey) });
  }
  await deleteRows(table, doomed, concurrency);
  return doomed.length;
}

/** Deletes rows in per-partition transactions; rows already gone are fine. */
export async function deleteRows(table: TableClient, doomed: Entity[], concurrency = 8): Promise<void> {
  await mapLimit(chunkByPartition(doomed), concurrency, async (chunk) => {
    try {
      await table.submitTransaction(chunk.map((e): TransactionAction => ["delete", e]));
    } catch (err) {
      // Something else deleted a row meanwhile: fall back to single deletes that ignore 404.
      if (!(err instanceof RestError) || (err.statusCode !== 404 && err.statusCode !== 400)) throw err;
      for (const e of chunk) await table.deleteEntity(e.partitionKey, e.rowKey).catch((inner: unknown) => {
        if (!(inner instanceof RestError && inner.statusCode === 404)) throw inner;
      });
    }
  });
}
