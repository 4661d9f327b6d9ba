import { describe, expect, it } from "vitest";
import { extractTimeRange } from "../../src/core/ask/timeRange";

const NOW = "2026-11-22T15:30:00.000Z"; // a Sunday

describe("time phrases", () => {
  it.each([
    ["failures today", "2026-11-22T00:00:00.000Z", NOW, "failures"],
    ["what went wrong with carol in dropbox yesterday", "2026-11-21T00:00:00.000Z", "2026-11-22T00:00:00.000Z", "what went wrong with carol in dropbox"],
    ["failures in the last 24 hours", "2026-11-21T15:30:00.000Z", NOW, "failures"],
    ["deletes in the past 7 days", "2026-11-15T15:30:00.000Z", NOW, "deletes"],
    ["creates 30 days", "2026-10-23T15:30:00.000Z", NOW, "creates"],
    ["deletes this week", "2026-11-16T00:00:00.000Z", NOW, "deletes"],
    ["disables since Monday", "2026-11-16T00:00:00.000Z", NOW, "disables"],
    ["disables since friday", "2026-11-20T00:00:00.000Z", NOW, "disables"],
    ["failures on 2026-11-20", "2026-11-20T00:00:00.000Z", "2026-11-21T00:00:00.000Z", "failures"],
    ["failures from 2026-11-01 to 2026-11-05", "2026-11-01T00:00:00.000Z", "2026-11-06T00:00:00.000Z", "failures"],
    ["failures between 5 Nov and 1 Nov", "2026-11-01T00:00:00.000Z", "2026-11-06T00:00:00.000Z", "failures"],
    ["failures on 30 Dec", "2025-12-30T00:00:00.000Z", "2025-12-31T00:00:00.000Z", "failures"],
    ["failures on Nov 20", "2026-11-20T00:00:00.000Z", "2026-11-21T00:00:00.000Z", "failures"],
    ["failures in the last hour", "2026-11-22T14:30:00.000Z", NOW, "failures"],
    ["failures since 2026-11-18", "2026-11-18T00:00:00.000Z", NOW, "failures"],
  ])("%s", (question, from, to, rest) => {
    const m = extractTimeRange(question, NOW);
    expect(m?.range.from).toBe(from);
    expect(m?.range.to).toBe(to);
    expect(m?.rest).toBe(rest);
  });

  it("finds nothing in a question without a time", () => {
    expect(extractTimeRange("why did alice fail in ServiceNow?", NOW)).toBeNull();
  });
});

describe("times of day (issue 22: read with chrono-node, UTC, half-open)", () => {
  const now = "2026-12-06T15:30:00.000Z";
  it.each([
    ["failures since yesterday 9am", "2026-12-05T09:00:00.000Z", now, "failures"],
    ["failures after 14:00", "2026-12-06T14:00:00.000Z", now, "failures"],
    ["failures since 9:30 pm yesterday in box", "2026-12-05T21:30:00.000Z", now, "failures in box"],
    ["failures in box between 9am and 11am yesterday", "2026-12-05T09:00:00.000Z", "2026-12-05T11:00:00.000Z", "failures in box"],
    ["failures from 08:00 to 10:30", "2026-12-06T08:00:00.000Z", "2026-12-06T10:30:00.000Z", "failures"],
    ["failures before 10am", "2026-12-06T00:00:00.000Z", "2026-12-06T10:00:00.000Z", "failures"],
    ["failures at 14:00 today", "2026-12-06T14:00:00.000Z", "2026-12-06T15:00:00.000Z", "failures"],
  ])("%s", (text, from, to, rest) => {
    const m = extractTimeRange(text, now);
    expect(m?.range.from).toBe(from);
    expect(m?.range.to).toBe(to);
    expect(m?.rest).toBe(rest);
  });

  it("a whole day is still read as a day", () => {
    expect(extractTimeRange("failures yesterday", now)?.range).toMatchObject({ from: "2026-12-05T00:00:00.000Z", to: "2026-12-06T00:00:00.000Z" });
  });
});
