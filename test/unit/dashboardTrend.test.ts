import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { trendOf } from "../../src/app/dashboard";
import type { HourCounts } from "../../src/core/counts";
import { hourBucket } from "../../src/core/timeBuckets";

/** The Apps table's Trend (issue 25, item 4): never always "—", and it says what it compares. */
const TO = "2026-12-06T12:00:00.000Z";
const FROM = "2026-11-29T12:00:00.000Z";
const hour = (hoursBeforeTo: number, events: number, failures: number): HourCounts => ({
  jobKey: "j",
  hour: hourBucket(new Date(Date.parse(TO) - hoursBeforeTo * 3_600_000).toISOString()),
  total: events,
  cells: [
    { action: "update", status: "success", n: events - failures, groups: 0 },
    { action: "update", status: "failure", n: failures, groups: 0 },
  ],
  errors: {},
});
const none = { events: 0, failures: 0, skipped: 0, removals: 0 };

describe("trendOf", () => {
  it("against the previous period when it has a sample", () => {
    const t = trendOf({ events: 100, failures: 10, skipped: 0, removals: 0 }, [hour(5, 100, 30)], FROM, TO)!;
    expect(t).toEqual({ earlier: 0.1, later: 0.3, basis: "previous period" });
  });

  it("a tenant with two days of data in a 7-day range: the two halves of its own data", () => {
    const rows = [hour(40, 50, 25), hour(30, 50, 25), hour(10, 50, 5), hour(2, 50, 5)];
    const t = trendOf(none, rows, FROM, TO)!;
    expect(t.basis).toBe("first half of its data in the range");
    expect(t.earlier).toBeCloseTo(0.5);
    expect(t.later).toBeCloseTo(0.1);
  });

  it("null only when a half has too few events to compare; otherwise the rates are the halves' own (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ at: fc.integer({ min: 0, max: 160 }), events: fc.integer({ min: 1, max: 40 }), failures: fc.nat(40) }), { maxLength: 30 }), (spec) => {
        const rows = spec.map((s) => hour(s.at, s.events, Math.min(s.failures, s.events)));
        const t = trendOf(none, rows, FROM, TO);
        if (t === null) return;
        expect(t.earlier).toBeGreaterThanOrEqual(0);
        expect(t.later).toBeLessThanOrEqual(1);
        const total = rows.reduce((n, r) => n + r.total, 0);
        expect(total).toBeGreaterThanOrEqual(40);
      }),
    );
  });
});
