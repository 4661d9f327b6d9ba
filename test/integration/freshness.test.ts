import { describe, expect, it } from "vitest";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableQueryStore } from "../../src/adapters/tables/queryStore";
import { TableDeadLetterStore } from "../../src/adapters/tables/deadLetters";
import { ingestItems } from "../../src/app/ingest";
import { createChatHandler } from "../../src/app/chat";
import { provisioningRecord } from "../support/records";
import { testTables } from "../support/tables";

/**
 * Issue 21, item 2: a list asked once is not wrong afterwards. A write in this process refreshes
 * its caches at once; another instance (a second store on the same tables) sees a new job at its
 * first answer after the marker check interval (2 s), not after the cache minute.
 */
const target = { conversationId: "c-fresh", serviceUrl: "http://127.0.0.1:1/", tenantId: "tenant-1", conversationType: "personal" as const };

function instance(factory: ReturnType<typeof testTables>["factory"], clock: { t: number }) {
  const store = new TableEventStore(factory);
  const query = new TableQueryStore(store, () => clock.t);
  const chat = createChatHandler({ version: "t", store: query, now: () => new Date(clock.t) });
  const ask = async (text: string) => JSON.stringify(await chat.onMessage({ text, target, from: { id: "u", name: "Ada" } }));
  const ingest = (records: Record<string, unknown>[]) => ingestItems(records.map((record, index) => ({ index, record })), "test", { store, deadLetters: new TableDeadLetterStore(factory, { now: () => new Date(clock.t) }) });
  return { store, query, ask, ingest };
}

describe("answers after a write", () => {
  for (const question of ["failures in the last 24 hours", "how many failures in the last 24 hours", "show failed events from the last 24 hours"]) {
    it(`"${question}": on an empty store, then after a new job's failure in this process, at once`, async () => {
      const { factory } = testTables();
      const clock = { t: Date.now() };
      const a = instance(factory, clock);
      const app = `Freshapp${Date.now().toString(36)}`;
      expect(await a.ask(question)).not.toContain(app);
      const report = await a.ingest([provisioningRecord({ jobId: `Fresh.${app}`, app, at: new Date(clock.t - 60_000), status: "failure" })]);
      expect(report.accepted).toBe(1);
      // No time passes: the cache alone would still hold the empty list.
      const after = await a.ask(question);
      if (question.startsWith("how many")) expect(after).toMatch(/"title":"(About )?1: /);
      else expect(after, after.slice(0, 600)).toContain(app);
    });
  }

  it("another instance sees a new job within the marker interval, never after the cache minute", async () => {
    const { factory } = testTables();
    const clock = { t: Date.now() };
    const writer = instance(factory, clock);
    const reader = instance(factory, clock);
    const app = `Otherapp${Date.now().toString(36)}`;
    expect(await reader.ask("failures in the last 24 hours")).not.toContain(app);
    await writer.ingest([provisioningRecord({ jobId: `Other.${app}`, app, at: new Date(clock.t - 60_000), status: "failure" })]);
    clock.t += 2_100;
    expect(await reader.ask("failures in the last 24 hours")).toContain(app);
    // A batch that adds no job costs no marker write (steady state): the marker is unchanged.
    const marker = await writer.store.jobs.marker();
    await writer.ingest([provisioningRecord({ jobId: `Other.${app}`, app, at: new Date(clock.t - 30_000), status: "failure", user: 2 })]);
    expect(await writer.store.jobs.marker()).toBe(marker);
  });
});
