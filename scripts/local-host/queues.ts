import { QueueServiceClient, type QueueClient } from "@azure/storage-queue";
import { decodeMessage } from "../../src/adapters/queues/client";
import type { RegisteredFunction } from "./registry";

/**
 * Storage Queue triggers, as the real host runs them, with the settings of host.json
 * `extensions.queues` (the same file Azure reads): poll the queue, back off while it is empty (from
 * 100 ms up to `maxPollingInterval`), hand up to `batchSize` messages to the function at once (and
 * fetch the next batch once no more than half a batch is still running, so a slow message holds back no other),
 * delete a message when the function succeeds, let it reappear when it throws, and move it to
 * `<queue>-poison` after `maxDequeueCount` dequeues. A queue service that cannot be reached is
 * retried with the same backoff and reported once.
 */
export interface QueueSettings {
  batchSize: number;
  maxDequeueCount: number;
  maxPollingIntervalMs: number;
}

export interface QueueTriggerOptions {
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  invoke: (fn: RegisteredFunction, input: unknown, triggerMetadata: Record<string, unknown>) => Promise<void>;
  settings: QueueSettings;
}

/** The host's defaults (host.json reference), used for what host.json does not set. */
export const DEFAULT_QUEUE_SETTINGS: QueueSettings = { batchSize: 16, maxDequeueCount: 5, maxPollingIntervalMs: 60_000 };

/** host.json `extensions.queues`; `maxPollingInterval` is a TimeSpan ("00:00:02") or milliseconds. */
export function queueSettings(hostJson: unknown): QueueSettings {
  const q = ((hostJson as { extensions?: { queues?: Record<string, unknown> } })?.extensions?.queues ?? {}) as Record<string, unknown>;
  const span = (v: unknown): number | null => {
    if (typeof v === "number") return v;
    const m = typeof v === "string" ? /^(\d+):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(v) : null;
    return m ? ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 : null;
  };
  return {
    batchSize: Number(q["batchSize"] ?? DEFAULT_QUEUE_SETTINGS.batchSize),
    maxDequeueCount: Number(q["maxDequeueCount"] ?? DEFAULT_QUEUE_SETTINGS.maxDequeueCount),
    maxPollingIntervalMs: span(q["maxPollingInterval"]) ?? DEFAULT_QUEUE_SETTINGS.maxPollingIntervalMs,
  };
}

/** How long a message handed to the function stays invisible to other readers. */
const VISIBILITY_TIMEOUT_S = 60;
const MIN_POLL_MS = 100;

/** %Setting% in a binding is resolved from the app settings, like the real host does. */
export function resolveSetting(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/%([^%]+)%/g, (_, name: string) => {
    const v = env[name];
    if (v === undefined || v === "") throw new Error(`binding expression %${name}% names an app setting that is not set`);
    return v;
  });
}

export interface QueueListener {
  stop(): Promise<void>;
}

export function startQueueTrigger(fn: RegisteredFunction, options: QueueTriggerOptions): QueueListener {
  const queueName = resolveSetting(String(fn.trigger["queueName"] ?? ""), options.env);
  const connection = options.env[String(fn.trigger["connection"] ?? "AzureWebJobsStorage")] ?? "";
  // A connection string without a queue endpoint is reported by the loop, like an unreachable queue.
  let clients: { queue: QueueClient; poison: QueueClient } | null = null;
  const connect = () => {
    if (!clients) {
      const service = QueueServiceClient.fromConnectionString(connection);
      clients = { queue: service.getQueueClient(queueName), poison: service.getQueueClient(`${queueName}-poison`) };
    }
    return clients;
  };
  let stopped = false;
  let wake: (() => void) | null = null;
  let unreachable = false;
  let created = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function handle(q: QueueClient, poison: QueueClient, m: { messageId: string; popReceipt: string; messageText: string; dequeueCount: number; insertedOn?: Date }): Promise<void> {
    if (m.dequeueCount > options.settings.maxDequeueCount) {
      await poison.createIfNotExists();
      await poison.sendMessage(m.messageText);
      await q.deleteMessage(m.messageId, m.popReceipt);
      options.log(`[${fn.name}] message ${m.messageId} moved to ${queueName}-poison after ${options.settings.maxDequeueCount} attempts`);
      return;
    }
    try {
      await options.invoke(fn, decodeMessage(m.messageText), { id: m.messageId, dequeueCount: m.dequeueCount, insertionTime: m.insertedOn?.toISOString(), queueTrigger: m.messageText });
    } catch (err) {
      // Like the host: the message becomes visible again (visibilityTimeout 0) and is retried.
      options.log(`[${fn.name}] message ${m.messageId} failed (attempt ${m.dequeueCount}): ${err instanceof Error ? err.message : String(err)}`);
      await q.updateMessage(m.messageId, m.popReceipt, undefined, 0).catch(() => undefined);
      return;
    }
    await q.deleteMessage(m.messageId, m.popReceipt);
  }

  // Like the host: a new batch is fetched as soon as the messages in flight drop to half a batch
  // (newBatchThreshold), so one slow message never holds back the messages behind it.
  const inFlight = new Set<Promise<void>>();
  const newBatchThreshold = Math.floor(options.settings.batchSize / 2);
  const loop = (async () => {
    let delay = MIN_POLL_MS;
    while (!stopped) {
      if (inFlight.size > newBatchThreshold) {
        await Promise.race([...inFlight, sleep(options.settings.maxPollingIntervalMs)]);
        continue;
      }
      try {
        const { queue, poison } = connect();
        if (!created) {
          await queue.createIfNotExists();
          created = true;
        }
        const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: options.settings.batchSize, visibilityTimeout: VISIBILITY_TIMEOUT_S });
        if (unreachable) options.log(`[${fn.name}] queue ${queueName} is reachable again`);
        unreachable = false;
        if (receivedMessageItems.length > 0) {
          delay = MIN_POLL_MS;
          for (const m of receivedMessageItems) {
            const work: Promise<void> = handle(queue, poison, m)
              .catch((err: unknown) => options.log(`[${fn.name}] ${err instanceof Error ? err.message : String(err)}`))
              .finally(() => inFlight.delete(work));
            inFlight.add(work);
          }
          continue;
        }
        delay = Math.min(options.settings.maxPollingIntervalMs, delay * 2);
      } catch (err) {
        if (!unreachable) options.log(`[${fn.name}] queue ${queueName} cannot be read (${err instanceof Error ? err.message.split("\n")[0] : String(err)}); retrying`);
        unreachable = true;
        created = false;
        delay = Math.min(options.settings.maxPollingIntervalMs, delay * 2);
      }
      await sleep(delay);
    }
    await Promise.all(inFlight);
  })();

  return {
    stop: async () => {
      stopped = true;
      (wake as (() => void) | null)?.();
      await loop;
    },
  };
}
