import { minuteLabel } from "../timeBuckets";
import { isRemoval } from "../counts";
import type { ProvisioningAction, ProvisioningStatus } from "../event";

/**
 * Alert rules, pure: given what happened in a job's recent window and its own trailing baseline,
 * decide whether to alert. Skipped events never count, except stagedDelete: Entra records held-back
 * deletions as skipped, and they are exactly what a burst rule must report.
 */
export interface WindowEvent {
  at: string;
  action: ProvisioningAction;
  status: ProvisioningStatus;
  cycleId: string;
  errorCode: string;
  /** Unique per object (UPN or id). */
  identity: string;
  /** Display name, for cards shown in channels and group chats. */
  name: string;
}

export interface Affected {
  identity: string;
  name: string;
  /** New failures digest: how often it failed, with which code, and when a success resolved it. */
  count?: number;
  errorCode?: string;
  resolvedAt?: string;
}

export interface JobBaseline {
  /** Mean failures per window over the trailing period (the window itself excluded). */
  failuresPerWindow: number;
  /** Mean disables + deletes + staged deletes per window over the trailing period. */
  removalsPerWindow: number;
  /** Usual minutes between cycles (20 to 40 in Entra). */
  cycleMinutes: number;
}

export interface Thresholds {
  windowMinutes: number;
  failureMin: number;
  failureMultiple: number;
  removalMin: number;
  removalMultiple: number;
  /** Silent after this many usual cycle intervals without an event. */
  silentCycles: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  windowMinutes: 30,
  failureMin: 10,
  failureMultiple: 3,
  removalMin: 20,
  removalMultiple: 3,
  silentCycles: 3,
};

export type RuleName = "failureSpike" | "removalBurst" | "silentJob" | "newFailures" | "jobQuarantined" | "jobPaused" | "initialCycleCompleted" | "quarantineForecast";

export interface Signal {
  rule: RuleName;
  count: number;
  baseline: number;
  since: string;
  lastSeen: string;
  /** Code -> count, most frequent first. */
  topErrors: [string, number][];
  affected: Affected[];
  /** The cycle that carried most of a burst, if one did. */
  cycleId: string | null;
  stagedDeletes: number;
  summary: string;
}

const removal = (e: WindowEvent): boolean => isRemoval(e.action, e.status);

function top<T extends string>(items: T[], n: number): [T, number][] {
  const counts = new Map<T, number>();
  for (const i of items) counts.set(i, (counts.get(i) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n);
}

function affected(events: WindowEvent[], n = 8): Affected[] {
  const seen = new Map<string, Affected>();
  for (const e of [...events].sort((a, b) => b.at.localeCompare(a.at))) {
    if (!seen.has(e.identity)) seen.set(e.identity, { identity: e.identity, name: e.name || e.identity });
    if (seen.size >= n) break;
  }
  return [...seen.values()];
}

function span(events: WindowEvent[]): { since: string; lastSeen: string } {
  const times = events.map((e) => e.at).sort();
  return { since: times[0] ?? "", lastSeen: times[times.length - 1] ?? "" };
}

export function failureSpike(window: WindowEvent[], baseline: JobBaseline, t: Thresholds = DEFAULT_THRESHOLDS): Signal | null {
  const failures = window.filter((e) => e.status === "failure");
  const n = failures.length;
  if (n < t.failureMin || n < t.failureMultiple * baseline.failuresPerWindow) return null;
  return {
    rule: "failureSpike",
    count: n,
    baseline: baseline.failuresPerWindow,
    ...span(failures),
    topErrors: top(failures.map((f) => f.errorCode || "(no code)"), 3),
    affected: affected(failures),
    cycleId: null,
    stagedDeletes: 0,
    summary: `${n} failures in ${t.windowMinutes} minutes, ${baseline.failuresPerWindow > 0 ? `${(n / baseline.failuresPerWindow).toFixed(1)}× the usual ${baseline.failuresPerWindow.toFixed(1)}` : "where there are usually none"}`,
  };
}

export function removalBurst(window: WindowEvent[], baseline: JobBaseline, t: Thresholds = DEFAULT_THRESHOLDS): Signal | null {
  const removals = window.filter(removal);
  const staged = removals.filter((e) => e.action === "stagedDelete").length;
  const byCycle = top(removals.map((e) => e.cycleId), 1)[0];
  const n = removals.length;
  const overWindow = n >= t.removalMin && n >= t.removalMultiple * baseline.removalsPerWindow;
  const overCycle = (byCycle?.[1] ?? 0) >= t.removalMin;
  // Entra held deletions back: always worth telling, whatever the count.
  if (!overWindow && !overCycle && staged === 0) return null;
  return {
    rule: "removalBurst",
    count: n,
    baseline: baseline.removalsPerWindow,
    ...span(removals),
    topErrors: top(removals.filter((e) => e.errorCode).map((e) => e.errorCode), 3),
    affected: affected(removals),
    cycleId: byCycle && byCycle[1] * 2 >= n ? byCycle[0] : null,
    stagedDeletes: staged,
    summary:
      `${n} disables/deletes in ${t.windowMinutes} minutes (usually ${baseline.removalsPerWindow.toFixed(1)})` +
      (staged > 0 ? `; ${staged} deletions were held back by Entra's accidental-deletion threshold and wait for an admin to allow them` : ""),
  };
}

export function silentJob(lastEventAt: string, now: string, baseline: JobBaseline, hadRecentActivity: boolean, t: Thresholds = DEFAULT_THRESHOLDS): Signal | null {
  if (!hadRecentActivity || !lastEventAt) return null;
  const quietMinutes = (Date.parse(now) - Date.parse(lastEventAt)) / 60_000;
  const limit = t.silentCycles * Math.max(20, baseline.cycleMinutes);
  if (quietMinutes < limit) return null;
  return {
    rule: "silentJob",
    count: Math.floor(quietMinutes),
    baseline: baseline.cycleMinutes,
    since: lastEventAt,
    lastSeen: lastEventAt,
    topErrors: [],
    affected: [],
    cycleId: null,
    stagedDeletes: 0,
    summary: `No events since ${minuteLabel(lastEventAt)} UTC (${(quietMinutes / 60).toFixed(1)} hours); cycles usually run every ${Math.round(baseline.cycleMinutes)} minutes. Check the job's status (quarantine, expired credentials).`,
  };
}

/** Median minutes between consecutive cycle starts, from (cycleId, first seen) pairs. */
export function usualCycleMinutes(cycleStarts: string[]): number {
  const starts = [...cycleStarts].sort();
  const gaps: number[] = [];
  for (let i = 1; i < starts.length; i++) gaps.push((Date.parse(starts[i]!) - Date.parse(starts[i - 1]!)) / 60_000);
  if (gaps.length === 0) return 40;
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)]!;
}

/** One alert per rule, job and incident: the key of the first window, kept while the incident lasts. */
/** True when an incident id is one of this rule on this job (every id starts with rule|jobKey|; job keys hold no bare "|"). */
export function incidentOfJob(incidentId: string, rule: string, jobKey: string): boolean {
  return incidentId.startsWith(`${rule}|${jobKey}|`);
}

export function incidentKey(rule: RuleName, jobKey: string, cycleId: string | null, since: string, windowMinutes = DEFAULT_THRESHOLDS.windowMinutes): string {
  if (cycleId) return `${rule}|${jobKey}|cycle:${cycleId}`;
  const bucket = Math.floor(Date.parse(since) / (windowMinutes * 60_000));
  return `${rule}|${jobKey}|w${bucket}`;
}
