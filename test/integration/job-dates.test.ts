import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableQueryStore } from "../../src/adapters/tables/queryStore";
import { overview } from "../../src/app/dashboard";
import { createChatHandler } from "../../src/app/chat";
import { parseJob, disableDate, transitions, inScope, reviveJobStatus } from "../../src/core/jobs/status";
import * as report from "../../src/core/jobs/report";
import { healthFindings } from "../../src/core/alerts/jobHealth";
import { testTables } from "../support/tables";

/**
 * Issue 21, item 14: a job whose dates JavaScript cannot hold (or that no job can have) is read
 * with those dates dropped, alone; nothing computing with it throws or hangs, and every other job's
 * health is still answered (the tab's overview, "status of all apps", the alerts).
 */
const HOSTILE_DATES = ["+275760-09-13T00:00:00Z", "+275760-09-13T00:00:00.001Z", "-271821-04-20T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "soon", "", 1e20, -1, null, {}];
const HOSTILE_INTERVALS = ["PT1S", "P99999999999999D", "PT0M", "P1D", "PT40M", "garbage", "P"];
const hostileDate = fc.constantFrom(...HOSTILE_DATES);

function syncJob(id: string, d: () => unknown, interval: string, code: string) {
  return {
    id,
    templateId: "box",
    schedule: { interval, state: "Active" },
    status: {
      code,
      lastExecution: { timeBegan: d(), timeEnded: d(), state: "Succeeded", countExported: 3 },
      lastSuccessfulExecution: { timeBegan: d(), timeEnded: d() },
      lastSuccessfulExecutionWithExports: { timeBegan: d(), timeEnded: d() },
      steadyStateFirstAchievedTime: d(),
      quarantine: code === "Quarantine" ? { reason: "EncounteredQuarantineException", currentBegan: d(), nextAttempt: d(), seriesBegan: d(), seriesCount: 3 } : null,
      progress: [{ completedUnits: 5, totalUnits: 10, progressObservationDateTime: d() }],
      synchronizedEntryCountByType: [{ key: "user to user", value: 4300 }],
    },
  };
}

describe("job dates from outside", () => {
  it("any date or interval in any field: parsed with bad times dropped, and nothing computed from it throws (property)", () => {
    fc.assert(
      fc.property(fc.array(hostileDate, { minLength: 16, maxLength: 16 }), fc.constantFrom(...HOSTILE_INTERVALS), fc.constantFrom("Active", "Quarantine", "Paused", "NotRun"), (dates, interval, code) => {
        let i = 0;
        const s = parseJob(syncJob("Box.job", () => dates[i++ % dates.length], interval, code))!;
        expect(s).not.toBeNull();
        for (const t of [s.lastExecution?.began, s.lastExecution?.ended, s.steadyStateFirstAchievedTime, s.quarantine?.seriesBegan, s.quarantine?.currentBegan]) {
          if (t) expect(Date.parse(t) >= Date.parse("2000-01-01") && Date.parse(t) < Date.parse("2200-01-01")).toBe(true);
        }
        const now = "2026-12-06T12:00:00.000Z";
        for (const [name, fn] of Object.entries(report)) if (typeof fn === "function") expect(() => (fn as (a: unknown, b: unknown) => unknown)(s, now), name).not.toThrow();
        if (s.quarantine) expect(() => disableDate(s.quarantine!)).not.toThrow();
        expect(() => transitions(null, s)).not.toThrow();
        expect(() => inScope(s)).not.toThrow();
        expect(() => healthFindings({ status: s, before: null, transitions: transitions(null, s), now })).not.toThrow();
        expect(() => JSON.stringify(report.nextReach(s, now))).not.toThrow();
      }),
      { numRuns: 400 },
    );
  });

  it("an old start and a one-second schedule do not loop: the next cycle is computed at once", () => {
    const s = parseJob(syncJob("Box.job", () => "2000-01-01T00:00:00Z", "PT1S", "Active"))!;
    s.steadyStateFirstAchievedTime = "2001-01-01T00:00:00.000Z";
    const started = performance.now();
    const eta = report.nextReach(s, "2199-01-01T00:00:00.000Z");
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(eta.earliest! >= "2199-01-01T00:00:00.000Z").toBe(true);
  });

  it("a stored status with impossible dates (written before they were bounded) breaks no other job: the tab's overview and 'status of all apps' answer", async () => {
    const { factory } = testTables();
    const store = new TableEventStore(factory);
    const good = parseJob(syncJob("Good.job", () => "2026-12-06T10:00:00Z", "PT40M", "Active"))!;
    await store.statuses.save({ jobKey: "Good.job", jobId: "Good.job", servicePrincipalId: "sp-good", appName: "Goodapp", tenantId: "", status: good, checkedAt: "2026-12-06T11:00:00.000Z", changedAt: "2026-12-06T11:00:00.000Z" }, null);
    // Rows as an earlier version stored them: the dates as Graph sent them.
    for (const [n, date] of ["+275760-09-13T00:00:00.000Z", "0001-01-01T00:00:00.000Z", "not a date"].entries()) {
      const bad = { ...parseJob(syncJob(`Bad${n}.job`, () => "2026-12-06T10:00:00Z", "PT40M", "Quarantine"))! };
      bad.quarantine = { ...bad.quarantine!, seriesBegan: date, currentBegan: date };
      bad.lastExecution = { ...bad.lastExecution!, began: date };
      await store.statuses.save({ jobKey: `Bad${n}.job`, jobId: `Bad${n}.job`, servicePrincipalId: `sp-bad${n}`, appName: `Badapp${n}`, tenantId: "", status: bad, checkedAt: "2026-12-06T11:00:00.000Z", changedAt: "2026-12-06T11:00:00.000Z" }, null);
    }
    expect(reviveJobStatus({ jobId: "x", quarantine: { seriesBegan: "+275760-09-13T00:00:00.000Z" } })?.quarantine?.seriesBegan).toBeNull();
    const query = new TableQueryStore(store);
    const result = await overview({}, query, new Date("2026-12-06T12:00:00Z"));
    expect(result.status).toBe(200);
    const chat = createChatHandler({ version: "t", store: query, now: () => new Date("2026-12-06T12:00:00Z") });
    const answer = JSON.stringify(await chat.onMessage({ text: "status of all apps", target: { conversationId: "c", serviceUrl: "http://127.0.0.1:1/", tenantId: "t", conversationType: "personal" }, from: { id: "u", name: "Ada" } }));
    expect(answer).toContain("Goodapp");
    expect(answer).toContain("Badapp0");
    expect(answer).not.toMatch(/Invalid Date|NaN|something went wrong/i);
  });
});
