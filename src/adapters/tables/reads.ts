import { RestError, type TableClient } from "@azure/data-tables";

/**
 * Reads that tell "not there" from "could not look": a 404 (no such row, or a shard that was never
 * written) is null; every other failure (an outage, a timeout, a refused credential) is thrown, so
 * no caller mistakes a storage outage for an empty store.
 */
export const isNotFound = (err: unknown): boolean => err instanceof RestError && err.statusCode === 404;

export async function getOrNull<T extends object>(table: TableClient, partitionKey: string, rowKey: string): Promise<(T & { etag: string; partitionKey: string; rowKey: string }) | null> {
  try {
    return (await table.getEntity<T>(partitionKey, rowKey)) as T & { etag: string; partitionKey: string; rowKey: string };
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}
