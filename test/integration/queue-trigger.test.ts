import { randomBytes } from "node:crypto";
import { QueueServiceClient } from "@azure/storage-queue";
import { describe, expect, inject, it } from "vitest";
import { startQueueTrigger } from "../../scripts/local-host/queues";
import type { RegisteredFunction } from "../../scripts/local-host/registry";
import { encodeMessage } from "../../src/adapters/queues/client";

/**
 * The local host's queue trigger on Azurite's queue service: a message whose function never
 * finishes (a hung conversation behind the alert outbox) must not hold back the messages after it.
 */
describe("the local host's queue trigger", () => {
  it("a message whose function hangs holds back none of the messages that arrive after it", async () => {
    const queueName = `q${randomBytes(5).toString("hex")}`;
    const queue = QueueServiceClient.fromConnectionString(inject("azurite").connectionString).getQueueClient(queueName);
    await queue.createIfNotExists();
    const fn: RegisteredFunction = { name: "slowOrNot", trigger: { type: "queueTrigger", direction: "in", name: "message", queueName, connection: "Storage" }, bindings: {}, handler: () => undefined };
    let release: () => void = () => undefined;
    const hanging = new Promise<void>((r) => (release = r));
    const handled: { id: string; at: number }[] = [];
    const listener = startQueueTrigger(fn, {
      env: { Storage: inject("azurite").connectionString },
      log: () => undefined,
      settings: { batchSize: 16, maxDequeueCount: 5, maxPollingIntervalMs: 200 },
      invoke: async (_fn, input) => {
        const id = (input as { id: string }).id;
        handled.push({ id, at: Date.now() });
        if (id === "hangs") await hanging;
      },
    });
    const until = async (what: string, ok: () => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; handled: ${handled.map((h) => h.id).join(", ")}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      await queue.sendMessage(encodeMessage({ id: "hangs" }));
      await until("the hanging message to be handed to the function", () => handled.some((h) => h.id === "hangs"), 10_000);
      for (const id of ["a", "b", "c"]) await queue.sendMessage(encodeMessage({ id }));
      // With the hanging one still running (it is released only in finally).
      await until("the three later messages", () => ["a", "b", "c"].every((id) => handled.some((h) => h.id === id)), 10_000);
      expect(handled.filter((h) => h.id === "hangs")).toHaveLength(1);
      // The three are deleted once done; only the hanging one is left (invisible while it runs).
      let left = -1;
      const deadline = Date.now() + 10_000;
      while (left !== 1 && Date.now() < deadline) left = (await queue.getProperties()).approximateMessagesCount ?? -1;
      expect(left).toBe(1);
    } finally {
      release();
      await listener.stop();
      await queue.deleteIfExists();
    }
  });
});
