import { QueueServiceClient, type QueueClient } from "@azure/storage-queue";
import { decodeMessage } from "../../src/adapters/queues/client";
import type { RegisteredFunction } from "./registry";

/**
 * Storage Queue triggers, as the real host runs them (host.json extensions.queues defaults): poll
 * the queue, back off while it is empty (here 100 ms up to 2 s, the host's default maximum is 1
 * min), hand up to `batchSize` messages to the function at once, delete a message when the function
 * succeeds, let it reappear when it throws, and move it to `<queue>-poison` after 5 dequeues. A
 * queue service that cannot be reached is retried with the same backoff and reported once.
 */
export interface QueueTriggerOptions {
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  invoke: (fn: RegisteredFunction, input: unknown, triggerMetadata: Record<string, unknown>) => Promise<void>;
}

const BATCH_SIZE = 16;
const MAX_DEQUEUE_COUNT = 5;
const VISIBILITY_TIMEOUT_S = 60;
const MIN_POLL_MS = 100;
const MAX_POLL_MS = 2_000;

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
    if (m.dequeueCount > MAX_DEQUEUE_COUNT) {
      await poison.createIfNotExists();
      await poison.sendMessage(m.messageText);
      await q.deleteMessage(m.messageId, m.popReceipt);
      options.log(`[${fn.name}] message ${m.messageId} moved to ${queueName}-poison after ${MAX_DEQUEUE_COUNT} attempts`);
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

  const loop = (async () => {
    let delay = MIN_POLL_MS;
    while (!stopped) {
      try {
        const { queue, poison } = connect();
        if (!created) {
          await queue.createIfNotExists();
          created = true;
        }
        const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: BATCH_SIZE, visibilityTimeout: VISIBILITY_TIMEOUT_S });
        if (unreachable) options.log(`[${fn.name}] queue ${queueName} is reachable again`);
        unreachable = false;
        if (receivedMessageItems.length > 0) {
          delay = MIN_POLL_MS;
          await Promise.all(receivedMessageItems.map((m) => handle(queue, poison, m).catch((err: unknown) => options.log(`[${fn.name}] ${err instanceof Error ? err.message : String(err)}`))));
          continue;
        }
        delay = Math.min(MAX_POLL_MS, delay * 2);
      } catch (err) {
        if (!unreachable) options.log(`[${fn.name}] queue ${queueName} cannot be read (${err instanceof Error ? err.message.split("\n")[0] : String(err)}); retrying`);
        unreachable = true;
        created = false;
        delay = Math.min(MAX_POLL_MS, delay * 2);
      }
      await sleep(delay);
    }
  })();

  return {
    stop: async () => {
      stopped = true;
      (wake as (() => void) | null)?.();
      await loop;
    },
  };
}
