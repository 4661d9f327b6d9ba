import { TableClient, TableServiceClient, type TableServiceClientOptions } from "@azure/data-tables";
import { DefaultAzureCredential } from "@azure/identity";
import type { StorageConfig } from "../../config";

/** Builds Table Storage clients from config; the only place that knows how we authenticate. */
export interface TableFactory {
  service: TableServiceClient;
  /** Prepended to every table name (one storage account can hold several deployments). */
  prefix: string;
  table(name: string): TableClient;
}

const isHttp = (connectionString: string) => /TableEndpoint=http:\/\//i.test(connectionString) || /DefaultEndpointsProtocol=http;/i.test(connectionString);

/** `options` lets benchmarks add pipeline policies (a request counter). */
export function createTableFactory(storage: StorageConfig, prefix: string, options: TableServiceClientOptions = {}): TableFactory {
  if (storage.kind === "connectionString") {
    const opts = { ...options, allowInsecureConnection: isHttp(storage.connectionString) };
    const service = TableServiceClient.fromConnectionString(storage.connectionString, opts);
    return {
      service,
      prefix,
      table: (name) => TableClient.fromConnectionString(storage.connectionString, `${prefix}${name}`, opts),
    };
  }
  const credential = new DefaultAzureCredential();
  const service = new TableServiceClient(storage.accountUrl, credential, options);
  return { service, prefix, table: (name) => new TableClient(storage.accountUrl, `${prefix}${name}`, credential, options) };
}

export interface StorageHealth {
  reachable: boolean;
  latencyMs: number;
  error?: string;
}

export async function checkStorage(factory: TableFactory, timeoutMs = 3000): Promise<StorageHealth> {
  const started = performance.now();
  try {
    await factory.service.getProperties({ abortSignal: AbortSignal.timeout(timeoutMs) });
    return { reachable: true, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    const message = err instanceof Error ? err.message.split("\n")[0] ?? err.name : String(err);
    return { reachable: false, latencyMs: Math.round(performance.now() - started), error: message };
  }
}
