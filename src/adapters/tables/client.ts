import { RestError, TableClient, TableServiceClient, type TableServiceClientOptions } from "@azure/data-tables";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { DefaultAzureCredential } from "@azure/identity";
import type { StorageConfig } from "../../config";

/** Builds Table Storage clients from config; the only place that knows how we authenticate. */
export interface TableFactory {
  service: TableServiceClient;
  /** Prepended to every table name (one storage account can hold several deployments). */
  prefix: string;
  table(name: string): TableClient;
}

/** The service's answer for a table that does not exist (deleted, or lost by a restarted Azurite). */
export const isTableMissing = (err: unknown): boolean => err instanceof RestError && err.statusCode === 404 && /TableNotFound|table specified does not exist/i.test(`${err.code ?? ""} ${err.message}`);

const WRITES = new Set<PropertyKey>(["createEntity", "upsertEntity", "updateEntity", "submitTransaction", "deleteEntity"]);

/**
 * A table client that survives its table disappearing under a running host (deleted by hand, or
 * not yet saved by an Azurite that was killed): a write that meets "table not found" creates the
 * table and is tried once more; a listing of a missing table is empty. Every table module gets its
 * client from here, so none has to remember it.
 */
export function selfHealing(client: TableClient): TableClient {
  return new Proxy(client, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (WRITES.has(prop)) {
        return async (...args: unknown[]) => {
          try {
            return await fn.apply(target, args);
          } catch (err) {
            if (!isTableMissing(err)) throw err;
            await target.createTable();
            return fn.apply(target, args);
          }
        };
      }
      if (prop === "listEntities") return (...args: unknown[]) => emptyWhenMissing(fn.apply(target, args) as ReturnType<TableClient["listEntities"]>);
      return fn.bind(target);
    },
  });
}

type Listing = ReturnType<TableClient["listEntities"]>;

/** A listing that ends quietly (no rows) when its table does not exist. */
function emptyWhenMissing(listing: Listing): Listing {
  const guard = <T>(it: AsyncIterableIterator<T>): AsyncIterableIterator<T> => {
    const wrapped: AsyncIterableIterator<T> = {
      async next() {
        try {
          return await it.next();
        } catch (err) {
          if (isTableMissing(err)) return { done: true, value: undefined };
          throw err;
        }
      },
      [Symbol.asyncIterator]() {
        return wrapped;
      },
    };
    return wrapped;
  };
  const rows = guard(listing);
  return Object.assign(rows, { byPage: (settings?: Parameters<Listing["byPage"]>[0]) => guard(listing.byPage(settings)) }) as unknown as Listing;
}

const isHttp = (connectionString: string) => /TableEndpoint=http:\/\//i.test(connectionString) || /DefaultEndpointsProtocol=http;/i.test(connectionString);

/**
 * U+2028 and U+2029 (line and paragraph separators) are legal in JSON text, and JSON.stringify
 * leaves them raw, but Azurite refuses a batch whose body holds one (400/500 for the whole
 * transaction: one hostile name would fail its batch). Written as the escapes \u2028 and \u2029
 * instead, the service decodes the very same characters: the stored value does not change.
 */
export const LINE_SEPARATOR_ESCAPES: PipelinePolicy = {
  name: "provbotEscapeLineSeparators",
  async sendRequest(request, next) {
    if (typeof request.body === "string" && /[\u2028\u2029]/.test(request.body)) {
      request.body = request.body.replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
      if (request.headers.has("Content-Length")) request.headers.set("Content-Length", Buffer.byteLength(request.body));
    }
    return next(request);
  },
};

/** `options` lets benchmarks add pipeline policies (a request counter). */
export function createTableFactory(storage: StorageConfig, prefix: string, given: TableServiceClientOptions = {}): TableFactory {
  const options: TableServiceClientOptions = { ...given, additionalPolicies: [...(given.additionalPolicies ?? []), { policy: LINE_SEPARATOR_ESCAPES, position: "perRetry" }] };
  if (storage.kind === "connectionString") {
    const opts = { ...options, allowInsecureConnection: isHttp(storage.connectionString) };
    const service = TableServiceClient.fromConnectionString(storage.connectionString, opts);
    return {
      service,
      prefix,
      table: (name) => selfHealing(TableClient.fromConnectionString(storage.connectionString, `${prefix}${name}`, opts)),
    };
  }
  const credential = new DefaultAzureCredential();
  const service = new TableServiceClient(storage.accountUrl, credential, options);
  return { service, prefix, table: (name) => selfHealing(new TableClient(storage.accountUrl, `${prefix}${name}`, credential, options)) };
}

export interface StorageHealth {
  reachable: boolean;
  latencyMs: number;
  error?: string;
}

export async function checkStorage(factory: TableFactory, timeoutMs = 3000): Promise<StorageHealth> {
  const started = performance.now();
  try {
    // One page of one table name: a data-plane read that Storage Table Data Contributor allows
    // (the service's properties are not, for a managed identity).
    await factory.service.listTables({ abortSignal: AbortSignal.timeout(timeoutMs) }).byPage({ maxPageSize: 1 }).next();
    return { reachable: true, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    const message = err instanceof Error ? err.message.split("\n")[0] ?? err.name : String(err);
    return { reachable: false, latencyMs: Math.round(performance.now() - started), error: message };
  }
}
