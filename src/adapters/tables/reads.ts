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

/**
 * The store could not be reached or answered a server error (connection refused or reset, a
 * timeout, 5xx, 429 after the SDK's own retries): the caller may retry the same request unchanged.
 * Nothing is half-stored either way (writes are ordered so that a retry completes them).
 */
export function isStorageUnavailable(err: unknown): boolean {
  if (err instanceof RestError) {
    if (err.statusCode === undefined || err.statusCode === 0) return true;
    return err.statusCode >= 500 || err.statusCode === 429 || err.statusCode === 408;
  }
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|UND_ERR_SOCKET)$/.test(code);
}
