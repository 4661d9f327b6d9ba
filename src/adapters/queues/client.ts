import { QueueClient, QueueServiceClient, type StoragePipelineOptions } from "@azure/storage-queue";
import { DefaultAzureCredential } from "@azure/identity";
import type { StorageConfig } from "../../config";

/**
 * Storage Queue clients from the same storage configuration as the tables (the queue lives in the
 * same account). The only place that knows how queues authenticate.
 */
/**
 * Few, short retries: an outbox notification that cannot be sent is not worth holding an ingest
 * call for (the incident is stored, and the alerts timer delivers it within a minute).
 */
const OPTIONS: StoragePipelineOptions = { retryOptions: { maxTries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1_000, tryTimeoutInMs: 5_000 } };

export function createQueueClient(storage: StorageConfig, name: string): QueueClient {
  if (storage.kind === "connectionString") {
    if (/DefaultEndpointsProtocol=http;/i.test(storage.connectionString) && !/QueueEndpoint=/i.test(storage.connectionString)) {
      throw new Error("the storage connection string has no QueueEndpoint: the alert outbox needs the queue service (locally: Azurite's queue service, which npm start runs)");
    }
    return QueueServiceClient.fromConnectionString(storage.connectionString, OPTIONS).getQueueClient(name);
  }
  // A managed identity reaches the account's queue endpoint beside its table endpoint.
  const url = new URL(storage.accountUrl);
  url.hostname = url.hostname.replace(".table.", ".queue.");
  return new QueueServiceClient(url.origin, new DefaultAzureCredential(), OPTIONS).getQueueClient(name);
}

/** The Functions host reads queue messages as base64 (host.json messageEncoding, the default). */
export function encodeMessage(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64");
}

export function decodeMessage(text: string): unknown {
  const raw = /^[A-Za-z0-9+/=\s]+$/.test(text) ? Buffer.from(text, "base64").toString("utf8") : text;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export interface QueueHealth {
  name: string;
  reachable: boolean;
  exists: boolean;
  error?: string;
}

/** Whether the alert queue answers and exists (GET /api/health, npm run verify). */
export async function checkQueue(storage: StorageConfig, name: string, timeoutMs = 3000): Promise<QueueHealth> {
  try {
    await createQueueClient(storage, name).getProperties({ abortSignal: AbortSignal.timeout(timeoutMs) });
    return { name, reachable: true, exists: true };
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 404) return { name, reachable: true, exists: false };
    return { name, reachable: false, exists: false, error: err instanceof Error ? (err.message.split("\n")[0] ?? err.name).slice(0, 200) : String(err).slice(0, 200) };
  }
}
