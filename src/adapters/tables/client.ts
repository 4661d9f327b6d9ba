import { TableClient, TableServiceClient } from "@azure/data-tables";
import { DefaultAzureCredential } from "@azure/identity";
import type { StorageConfig } from "../../config";

/** Builds Table Storage clients from config; the only place that knows how we authenticate. */
export interface TableFactory {
  service: TableServiceClient;
  table(name: string): TableClient;
}

const isHttp = (connectionString: string) => /TableEndpoint=http:\/\//i.test(connectionString) || /DefaultEndpointsProtocol=http;/i.test(connectionString);

export function createTableFactory(storage: StorageConfig, prefix: string): TableFactory {
  if (storage.kind === "connectionString") {
    const allowInsecureConnection = isHttp(storage.connectionString);
    const service = TableServiceClient.fromConnectionString(storage.connectionString, { allowInsecureConnection });
    return {
      service,
      table: (name) => TableClient.fromConnectionString(storage.connectionString, `${prefix}${name}`, { allowInsecureConnection }),
    };
  }
  const credential = new DefaultAzureCredential();
  const service = new TableServiceClient(storage.accountUrl, credential);
  return { service, table: (name) => new TableClient(storage.accountUrl, `${prefix}${name}`, credential) };
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
