import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableQueryStore } from "../../src/adapters/tables/queryStore";
import { TableDeadLetterStore } from "../../src/adapters/tables/deadLetters";
import { ingestItems } from "../../src/app/ingest";
import { answerQuestion } from "../../src/app/answer";
import { overview } from "../../src/app/dashboard";
import { hourInRange } from "../../src/core/timeBuckets";
import { provisioningRecord } from "../support/records";
import { testTables } from "../support/tables";

/**
 * Issue 22: day and hour boundaries are half-open, [start, end), the same in counts, lists and the
 * tab, at the seven-digit fractions Graph and the downloads write. An event at exactly
 * 00:00:00.0000000 today is today's.
 */
describe("half-open boundaries", () => {
  it("an hour belongs to [from, to) for any range (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.parse("2026-01-01T00:00:00Z") / 3_600_000, max: Date.parse("2027-01-01T00:00:00Z") / 3_600_000 }), fc.integer({ min: 1, max: 96 }), (startHour, hours) => {
        const from = new Date(startHour * 3_600_000).toISOString();
        const to = new Date((startHour + hours) * 3_600_000).toISOString();
        const inside = new Date((startHour + hours - 1) * 3_600_000).toISOString().slice(0, 13).replace(/[-T]/g, "");
        const after = new Date((startHour + hours) * 3_600_000).toISOString().slice(0, 13).replace(/[-T]/g, "");
        expect(hourInRange(inside, from, to)).toBe(true);
        expect(hourInRange(after, from, to)).toBe(false);
      }),
    );
  });

  it("an event at 00:00:00.0000000 today is in today's count and list, not yesterday's; one at 23:59:59.9999999 yesterday is yesterday's", async () => {
    const { factory } = testTables();
    const store = new TableEventStore(factory);
    const now = new Date("2026-12-06T10:30:00.000Z");
    const jobId = `Midnight.${Date.now().toString(36)}`;
    const records = [
      { ...provisioningRecord({ jobId, app: "Midnight App", at: "2026-12-06T00:00:00Z", user: 1, status: "failure" }), activityDateTime: "2026-12-06T00:00:00.0000000Z" },
      { ...provisioningRecord({ jobId, app: "Midnight App", at: "2026-12-05T23:59:59Z", user: 2, status: "failure" }), activityDateTime: "2026-12-05T23:59:59.9999999Z" },
    ];
    const r = await ingestItems(records.map((record, index) => ({ index, record })), "test", { store, deadLetters: new TableDeadLetterStore(factory, { now: () => now }), clock: { now: () => now } });
    expect(r.accepted).toBe(2);
    const deps = { store: new TableQueryStore(store, () => now.getTime()), now: () => now, version: "t" };
    const text = async (q: string) => JSON.stringify(await answerQuestion(q, deps));
    const t1 = await text("how many failures in midnight app today"); expect(t1, t1.slice(0, 300)).toMatch(/"title":"1: /);
    expect(await text("how many failures in midnight app yesterday")).toMatch(/"title":"1: /);
    const today = await text("failures in midnight app today");
    expect(today).toContain("User 1");
    expect(today).not.toContain("User 2");
    const yesterday = await text("failures in midnight app yesterday");
    expect(yesterday).toContain("User 2");
    expect(yesterday).not.toContain("User 1");
    // The tab: a range that ends at midnight counts nothing of the day after.
    const tab = await overview({ from: "2026-12-05T00:00:00.000Z", to: "2026-12-06T00:00:00.000Z" }, deps.store, now);
    expect((tab.body as { tiles: { events: number } }).tiles.events).toBe(1);
  });
});
