import { describe, expect, it } from "vitest";
import { failureSpike, incidentKey, removalBurst, silentJob, usualCycleMinutes, type JobBaseline, type WindowEvent } from "../../src/core/alerts/rules";

const T0 = Date.parse("2026-11-22T10:00:00Z");
const ev = (i: number, over: Partial<WindowEvent> = {}): WindowEvent => ({
  at: new Date(T0 + i * 30_000).toISOString(),
  action: "update",
  status: "success",
  cycleId: "cyc-1",
  errorCode: "",
  identity: `user${i}@contoso.com`,
  name: `User ${i}`,
  ...over,
});
const quiet: JobBaseline = { failuresPerWindow: 0.5, removalsPerWindow: 1, cycleMinutes: 40 };
const noisy: JobBaseline = { failuresPerWindow: 8, removalsPerWindow: 15, cycleMinutes: 40 };
const fail = (n: number, code = "ServiceNowEntryConflict") => Array.from({ length: n }, (_, i) => ev(i, { status: "failure", errorCode: i % 3 ? code : "InsufficientRights" }));
const remove = (n: number, action: WindowEvent["action"] = "disable", status: WindowEvent["status"] = "success") => Array.from({ length: n }, (_, i) => ev(i, { action, status }));

describe("failure spike", () => {
  it.each([
    ["10 failures on a quiet job", fail(10), quiet, true],
    ["9 failures on a quiet job", fail(9), quiet, false],
    ["20 failures on a job that usually has 8 (2.5×)", fail(20), noisy, false],
    ["24 failures on a job that usually has 8 (3×)", fail(24), noisy, true],
    ["skipped events never count", Array.from({ length: 30 }, (_, i) => ev(i, { status: "skipped" })), quiet, false],
  ])("%s", (_name, window, baseline, alerts) => {
    expect(failureSpike(window as WindowEvent[], baseline as JobBaseline) !== null).toBe(alerts);
  });

  it("reports count, baseline, the top error codes and who is affected", () => {
    const s = failureSpike(fail(12), quiet)!;
    expect(s).toMatchObject({ rule: "failureSpike", count: 12, baseline: 0.5, since: "2026-11-22T10:00:00.000Z", lastSeen: "2026-11-22T10:05:30.000Z" });
    expect(s.topErrors).toEqual([["ServiceNowEntryConflict", 8], ["InsufficientRights", 4]]);
    expect(s.affected).toHaveLength(8);
    expect(s.summary).toBe("12 failures in 30 minutes, 24.0× the usual 0.5");
  });
});

describe("burst of disables and deletes", () => {
  it.each([
    ["20 disables on a quiet job", remove(20), quiet, true],
    ["19 disables on a quiet job", remove(19), quiet, false],
    ["20 deletes on a job that usually removes 15", remove(20, "delete"), noisy, true], // one cycle carries all 20
    ["skipped disables never count", remove(30, "disable", "skipped"), quiet, false],
    ["a single staged delete always alerts", remove(1, "stagedDelete", "skipped"), quiet, true],
  ])("%s", (_name, window, baseline, alerts) => {
    expect(removalBurst(window as WindowEvent[], baseline as JobBaseline) !== null).toBe(alerts);
  });

  it("judges a spread-out burst against the baseline", () => {
    const spread = Array.from({ length: 40 }, (_, i) => ev(i, { action: "disable", cycleId: `c${i % 4}` }));
    expect(removalBurst(spread, noisy)).toBeNull(); // 40 < 3 × 15 and no cycle reaches 20
    expect(removalBurst(spread, quiet)?.cycleId).toBeNull();
  });

  it("says that Entra held staged deletes back, and names the cycle that carried the burst", () => {
    const window = [...remove(18), ...remove(4, "stagedDelete", "skipped")];
    const s = removalBurst(window, quiet)!;
    expect(s).toMatchObject({ count: 22, stagedDeletes: 4, cycleId: "cyc-1" });
    expect(s.summary).toContain("held back by Entra's accidental-deletion threshold");
  });
});

describe("silent job", () => {
  it("alerts after three usual cycle intervals without events, for a job that was active", () => {
    expect(silentJob("2026-11-22T08:00:00Z", "2026-11-22T10:00:00Z", quiet, true)).toMatchObject({ rule: "silentJob", count: 120 });
    expect(silentJob("2026-11-22T08:30:00Z", "2026-11-22T10:00:00Z", quiet, true)).toBeNull();
    expect(silentJob("2026-11-22T05:00:00Z", "2026-11-22T10:00:00Z", quiet, false)).toBeNull();
  });

  it("learns the usual cycle interval from cycle starts", () => {
    expect(usualCycleMinutes(["2026-11-22T08:00:00Z", "2026-11-22T08:40:00Z", "2026-11-22T09:15:00Z", "2026-11-22T09:55:00Z"])).toBe(40);
    expect(usualCycleMinutes([])).toBe(40);
  });
});

describe("incident keys", () => {
  it("are stable within a window or a cycle and differ across them", () => {
    expect(incidentKey("failureSpike", "job", null, "2026-11-22T10:01:00Z")).toBe(incidentKey("failureSpike", "job", null, "2026-11-22T10:29:00Z"));
    expect(incidentKey("failureSpike", "job", null, "2026-11-22T10:01:00Z")).not.toBe(incidentKey("failureSpike", "job", null, "2026-11-22T10:31:00Z"));
    expect(incidentKey("removalBurst", "job", "cyc-9", "2026-11-22T10:01:00Z")).toBe("removalBurst|job|cycle:cyc-9");
  });
});
