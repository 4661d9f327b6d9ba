import type { ProvisioningAction, ProvisioningStatus } from "./event";

/**
 * Hourly counts, typed: what the alert rules, the statistics and the list totals read. The store
 * keeps one row per job-hour; how it encodes them is its own business (src/adapters/tables/countsTable.ts).
 */
export interface CountCell {
  action: ProvisioningAction;
  status: ProvisioningStatus;
  /** Events of this action and outcome. */
  n: number;
  /** Of which about groups. */
  groups: number;
}

export interface HourCounts {
  jobKey: string;
  /** yyyyMMddHH (UTC), see timeBuckets.ts. */
  hour: string;
  total: number;
  cells: CountCell[];
  /** Error code -> failures, the most frequent codes of the hour only. */
  errors: Record<string, number>;
}

export interface CountFilter {
  actions?: ProvisioningAction[] | undefined;
  status?: ProvisioningStatus | undefined;
  identityType?: string | undefined;
  errorCode?: string | undefined;
}

/**
 * A removal: a disable or delete that was carried out or failed (a skipped one removed nothing),
 * or a delete Entra held back (stagedDelete, logged as skipped). The one definition: alert rules,
 * baselines and the "affected" lists use it.
 */
export function isRemoval(action: ProvisioningAction, status: ProvisioningStatus): boolean {
  if (action === "stagedDelete") return true;
  return (action === "disable" || action === "delete") && status !== "skipped";
}

export const REMOVAL_ACTIONS: ProvisioningAction[] = ["disable", "delete", "stagedDelete"];

/** How many events of one cell match a filter's action, status and identity type. */
export function cellCount(cell: CountCell, f: CountFilter): number {
  if (f.actions && !f.actions.includes(cell.action)) return 0;
  if (f.status && f.status !== cell.status) return 0;
  return f.identityType === "Group" ? cell.groups : f.identityType === "User" ? cell.n - cell.groups : cell.n;
}

/** Matching events in one job-hour; with an error code, the hour's count for that code. */
export function hourCount(c: HourCounts, f: CountFilter): number {
  if (f.errorCode) return c.errors[f.errorCode] ?? 0;
  let n = 0;
  for (const cell of c.cells) n += cellCount(cell, f);
  return n;
}

export function sumCells(counts: HourCounts[], pick: (cell: CountCell) => boolean): number {
  let n = 0;
  for (const c of counts) for (const cell of c.cells) if (pick(cell)) n += cell.n;
  return n;
}

/**
 * How many events match, from the hourly counts: exact when the range starts and ends on whole
 * hours and no error code is asked for (the counts keep each hour's top codes only).
 */
export function totalOf(counts: HourCounts[], q: CountFilter & { from: string; to: string }): { total: number; exact: boolean } {
  const wholeHours = (iso: string) => /T\d\d:00:00(\.000)?Z$/.test(iso);
  const total = counts.reduce((n, c) => n + hourCount(c, q), 0);
  return { total, exact: !q.errorCode && wholeHours(q.from) && wholeHours(q.to) };
}
