import type { QueueClient } from "@azure/storage-queue";
import type { AlertOutbox, IncidentRef } from "../../app/alertPorts";
import { encodeMessage } from "./client";

/**
 * The alert outbox as a Storage Queue (the pattern of Company Communicator's send queue): one
 * message per changed incident, read by the alertsSend queue trigger. The queue is created on first
 * use. A failed enqueue is thrown to the caller, which logs it: the incident row is stored and the
 * alerts timer delivers it within a minute.
 */
export class QueueAlertOutbox implements AlertOutbox {
  private ready: Promise<QueueClient> | null = null;
  /** `connect` runs on first use: a misconfigured queue fails the notification, not the app. */
  constructor(private readonly connect: () => QueueClient) {}

  async notify(refs: IncidentRef[], delayMs = 0): Promise<void> {
    this.ready ??= (async () => {
      const queue = this.connect();
      await queue.createIfNotExists();
      return queue;
    })().catch((err: unknown) => {
      this.ready = null;
      throw err;
    });
    const queue = await this.ready;
    // A delayed message stays invisible until then (at most 7 days, the service's limit).
    const visibilityTimeout = delayMs > 0 ? Math.min(7 * 86_400 - 60, Math.ceil(delayMs / 1000)) : undefined;
    await Promise.all(refs.map((ref) => queue.sendMessage(encodeMessage(ref), visibilityTimeout ? { visibilityTimeout } : {})));
  }
}
