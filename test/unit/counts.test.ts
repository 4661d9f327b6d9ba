import { describe, expect, it } from "vitest";
import { cellCount, hourCount, isRemoval, sumCells, totalOf, type HourCounts } from "../../src/core/counts";

const hour = (h: string, cells: HourCounts["cells"], errors: Record<string, number> = {}): HourCounts => ({ jobKey: "j", hour: h, total: cells.reduce((n, c) => n + c.n, 0), cells, errors });

describe("typed counts", () => {
  it("defines a removal once: disables and deletes that were not skipped, and every staged delete", () => {
    expect(isRemoval("disable", "success")).toBe(true);
    expect(isRemoval("delete", "failure")).toBe(true);
    expect(isRemoval("delete", "skipped")).toBe(false);
    expect(isRemoval("stagedDelete", "skipped")).toBe(true);
    expect(isRemoval("update", "success")).toBe(false);
  });

  it("counts a cell by action, status and identity type", () => {
    const cell = { action: "create", status: "failure", n: 10, groups: 3 } as const;
    expect(cellCount(cell, {})).toBe(10);
    expect(cellCount(cell, { identityType: "Group" })).toBe(3);
    expect(cellCount(cell, { identityType: "User" })).toBe(7);
    expect(cellCount(cell, { actions: ["delete"] })).toBe(0);
    expect(cellCount(cell, { status: "success" })).toBe(0);
  });

  it("totals a range, exact only on whole hours and without an error code", () => {
    const counts = [
      hour("2026112110", [{ action: "create", status: "success", n: 5, groups: 0 }, { action: "create", status: "failure", n: 2, groups: 1 }], { X: 2 }),
      hour("2026112111", [{ action: "delete", status: "success", n: 4, groups: 0 }]),
    ];
    expect(totalOf(counts, { from: "2026-11-21T10:00:00Z", to: "2026-11-21T12:00:00Z" })).toEqual({ total: 11, exact: true });
    expect(totalOf(counts, { from: "2026-11-21T10:30:00Z", to: "2026-11-21T12:00:00Z", status: "failure" })).toEqual({ total: 2, exact: false });
    expect(totalOf(counts, { from: "2026-11-21T10:00:00Z", to: "2026-11-21T12:00:00Z", errorCode: "X" })).toEqual({ total: 2, exact: false });
    expect(hourCount(counts[1]!, { actions: ["delete", "disable"] })).toBe(4);
    expect(sumCells(counts, (c) => c.status === "success")).toBe(9);
  });
});
