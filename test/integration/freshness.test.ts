import { describe, expect, it } from "vitest";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableQueryStore } from "../../src/adapters/tables/queryStore";
import { TableDeadLetterStore } from "../../src/adapters/tables/deadLetters";
import { ingestItems } from "../../src/app/ingest";
import { createChatHandler } from "../../src/app/chat";
import { provisioningRecord } from "../support/records";
import { testTables } from "../support/tables";
import type { ShardSet } from "../../src/adapters/tables/shards";
import { MARKER_CHECK_MS } from "../../src/adapters/tables/markers";
import { jobKey } from "../../src/adapters/tables/keys";
import { parseJob } from "../../src/core/jobs/status";

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

/**
 * Issue 23, item 6: what one instance stores is found through another at once where the answer
 * would otherwise contradict itself or say "nothing found", and within the marker interval
 * elsewhere. Two instances are two stores on the same tables (as two Functions workers are).
 */
describe("two instances, one store: shards another instance created", () => {
  it("a change ID stored through one instance is found through the other at once, in a month the other had never seen", async () => {
    const { factory } = testTables();
    const clock = { t: Date.now() };
    const writer = instance(factory, clock);
    const reader = instance(factory, clock);
    const app = `Changeapp${Date.now().toString(36)}`;
    await writer.ingest([provisioningRecord({ jobId: `Chg.${app}`, app, at: new Date(clock.t - 60_000) })]);
    // The reader takes its shard list now (a lookup that finds nothing).
    expect(await reader.query.getByChangeId("00000000-0000-4000-8000-000000000000")).toEqual([]);
    // Backfill four months back: a month (and its shard) the reader's list does not hold.
    const old = provisioningRecord({ jobId: `Chg.${app}`, app, at: new Date(clock.t - 120 * 86_400_000), status: "failure" });
    expect((await writer.ingest([old])).accepted).toBe(1);
    const found = await reader.query.getByChangeId(String(old["changeId"]));
    expect(found.map((e) => e.id)).toEqual([old["id"]]);
    expect(await reader.ask(String(old["changeId"]))).not.toContain("Nothing found");
  });

  it("a day backfilled through one instance: the other's list agrees with its own count at once (never 'about 12 events' beside 'no matching events')", async () => {
    const { factory } = testTables();
    const clock = { t: Date.now() };
    const writer = instance(factory, clock);
    const reader = instance(factory, clock);
    const app = `Backfill${Date.now().toString(36)}`;
    await writer.ingest([provisioningRecord({ jobId: `Bf.${app}`, app, at: new Date(clock.t - 60_000), status: "failure" })]);
    const question = `failures in ${app} in the last 30 days`;
    expect(await reader.ask(question)).toMatch(/1 event/);
    // Twelve failures on a day ten days back: a day shard created now, by the other instance.
    const day = clock.t - 10 * 86_400_000;
    const backfill = Array.from({ length: 12 }, (_, i) => provisioningRecord({ jobId: `Bf.${app}`, app, at: new Date(day + i * 60_000), status: "failure", user: 10 + i }));
    expect((await writer.ingest(backfill)).accepted).toBe(12);
    const rows = await reader.query.listEvents({ jobKeys: (await reader.query.jobs()).filter((j) => j.app === app).map((j) => j.jobKey), from: new Date(clock.t - 30 * 86_400_000).toISOString(), to: new Date(clock.t).toISOString(), status: "failure", limit: 20, offset: 0 });
    expect(rows.total).toBe(13);
    expect(rows.rows).toHaveLength(13);
    const card = JSON.parse(await reader.ask(question))[0].viewModel as { subtitle: string; rows: unknown[]; hasRows: boolean };
    expect(card.subtitle).toMatch(/13 events/);
    expect(card.hasRows).toBe(true);
    expect(card.rows).toHaveLength(10);
  });

  it("a shard created by one instance is in the other's shard list within the marker interval (2 s), not the list's minute", async () => {
    const { factory } = testTables();
    const a = new TableEventStore(factory);
    const b = new TableEventStore(factory);
    const shards = (s: TableEventStore): ShardSet => s.events.shards;
    const before = await shards(a).names();
    const period = "19990101";
    await shards(b).forWrite("1999-01-01T12:00:00.000Z");
    expect(before.has(`ev${period}`)).toBe(false);
    await new Promise((r) => setTimeout(r, MARKER_CHECK_MS + 100));
    expect((await shards(a).names()).has(`ev${period}`)).toBe(true);
  });

  it("a job paused through one instance's status poll shows as paused on the other within the marker interval", async () => {
    const { factory } = testTables();
    const clock = { t: Date.now() };
    const writer = instance(factory, clock);
    const reader = instance(factory, clock);
    const jobId = `Pause.${Date.now().toString(36)}`;
    const record = (code: string) => {
      const status = parseJob({ id: jobId, templateId: "x", schedule: { interval: "PT40M", state: code === "Paused" ? "Disabled" : "Active" }, status: { code } })!;
      const at = new Date(clock.t).toISOString();
      return { jobKey: jobKey(jobId, `sp-${jobId}`), jobId, servicePrincipalId: `sp-${jobId}`, appName: "Pausable", tenantId: "", status, checkedAt: at, changedAt: at };
    };
    await writer.store.statuses.save(record("Active"), { at: new Date(clock.t).toISOString(), code: "Active", reason: "", transitions: [], failing: 0, inScope: 0 });
    const codeOn = async () => (await reader.query.jobStatuses()).find((s) => s.jobId === jobId)?.status.code;
    expect(await codeOn()).toBe("Active");
    clock.t += 1_000;
    await writer.store.statuses.save(record("Paused"), { at: new Date(clock.t).toISOString(), code: "Paused", reason: "", transitions: ["paused"], failing: 0, inScope: 0 });
    clock.t += MARKER_CHECK_MS + 100;
    expect(await codeOn()).toBe("Paused");
  });
});
