import { describe, expect, it } from "vitest";
import { bucketEnd, dayBucket, dayLabel, daysBetween, hourBucket, hourStart, hoursBetween, monthBucket, monthsBetween } from "../../src/core/timeBuckets";

describe("time buckets", () => {
  it("formats hours, days and months of a UTC time", () => {
    expect(hourBucket("2026-12-01T13:59:59.999Z")).toBe("2026120113");
    expect(dayBucket("2026-12-01T23:59:59Z")).toBe("20261201");
    expect(monthBucket("2026-01-31T00:00:00Z")).toBe("202601");
    expect(hourStart("2026120113")).toBe("2026-12-01T13:00:00.000Z");
    expect(dayLabel("2026120113")).toBe("2026-12-01");
  });

  it("enumerates the buckets a range touches, newest first, across month and year ends", () => {
    expect(hoursBetween("2026-12-31T22:30:00Z", "2027-01-01T00:10:00Z")).toEqual(["2027010100", "2026123123", "2026123122"]);
    expect(daysBetween("2026-02-27T12:00:00Z", "2026-03-01T00:00:00Z")).toEqual(["20260301", "20260228", "20260227"]);
    expect(monthsBetween("2026-11-15T00:00:00Z", "2027-02-01T00:00:00Z")).toEqual(["202702", "202701", "202612", "202611"]);
    expect(monthsBetween("2026-11-15T00:00:00Z", "2026-11-16T00:00:00Z")).toEqual(["202611"]);
    expect(daysBetween("2026-11-16T00:00:00Z", "2026-11-15T00:00:00Z")).toEqual([]);
  });

  it("gives the first instant after a bucket", () => {
    expect(bucketEnd("202612")).toBe("2027-01-01T00:00:00.000Z");
    expect(bucketEnd("20260228")).toBe("2026-03-01T00:00:00.000Z");
    expect(bucketEnd("2026022823")).toBe("2026-03-01T00:00:00.000Z");
  });
});
