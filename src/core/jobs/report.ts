import { clampedIso, minuteLabel } from "../timeBuckets";
import { plural } from "../text";
import { disableDate, inScope, intervalMinutes, quarantineAdvice, type JobStatus } from "./status";
import { quarantineForecast, type Forecast } from "./forecast";

/**
 * The provisioning summary report in words, pure: what the job-health card, the list of jobs and
 * the "when will X be provisioned" answer say about a job's status.
 */
const when = (iso: string | null) => (iso ? `${minuteLabel(iso)} UTC` : "unknown");
const n = (x: number) => x.toLocaleString("en-US");

export function initialCycleComplete(s: JobStatus): boolean {
  return s.steadyStateFirstAchievedTime !== null;
}

/** Progress of the initial cycle as a share (0..1), or null when Graph reports none. */
export function initialProgress(s: JobStatus): number | null {
  const latest = [...s.progress].filter((p) => p.total > 0).pop();
  return latest ? Math.min(1, latest.completed / latest.total) : null;
}

/** Worst first: quarantine, paused, never run, initial cycle in progress, last cycle failing, fine. */
export function severity(s: JobStatus): number {
  if (s.code === "Quarantine") return 0;
  if (s.code === "Paused") return 1;
  if (s.code === "NotRun" || s.code === "NotConfigured" || s.code === "Unknown") return 2;
  if (atRisk(s)) return 2.5;
  if (!initialCycleComplete(s)) return 3;
  if (s.lastExecution && /fail|error/i.test(s.lastExecution.state)) return 4;
  if (failingShare(s) >= FAILING_SHARE) return 4.5;
  return 5;
}

/** A share of the objects in scope failing (escrowed) above which a running job is not healthy. */
export const FAILING_SHARE = 0.1;

/** Objects the last cycle left failing (escrowed), as a share of the objects in scope (0 when unknown). */
export function failingShare(s: JobStatus): number {
  const scope = inScope(s);
  return scope > 0 ? (s.lastExecution?.escrowed ?? 0) / scope : 0;
}

/** The quarantine forecast of a running job from its own status: failing objects against Entra's lines. */
export function atRisk(s: JobStatus): Forecast | null {
  if (s.code !== "Active") return null;
  return quarantineForecast({ failing: s.lastExecution?.escrowed ?? 0, inScope: inScope(s) });
}

/**
 * The one verdict of a job's status, the same in the chat, the tab and the alerts: quarantine,
 * paused, never run, heading for quarantine, initial cycle, failing objects, or running.
 */
export function statusVerdictText(s: JobStatus): string | null {
  if (s.code === "Quarantine") {
    const disable = s.quarantine ? disableDate(s.quarantine) : null;
    return `In quarantine (${s.quarantine?.reason ?? "Unknown"}): ${quarantineAdvice(s.quarantine?.reason ?? "Unknown").meaning}.${disable ? ` Entra disables the job on ${minuteLabel(disable)} UTC unless it is fixed;` : ""} what to do is below.`;
  }
  if (s.code === "Paused") return "Paused: provisioning is stopped until someone starts it again (the audit trail below says who paused it, when it holds that record).";
  if (s.code === "NotRun" || s.code === "NotConfigured") return `${stateWord(s)}: provisioning has not started for this app.`;
  const risk = atRisk(s);
  if (risk) return `Heading for quarantine: ${risk.summary}`;
  if (!initialCycleComplete(s)) return `Initial cycle in progress: ${initialCycleText(s)}.`;
  const share = failingShare(s);
  if (share >= FAILING_SHARE) return `Unhealthy: ${n(s.lastExecution?.escrowed ?? 0)} of ${n(inScope(s))} objects in scope are failing (${(share * 100).toFixed(1)} %) after the last cycle.`;
  return null;
}

/**
 * The verdict in a word or two, for a column (the tab's Job status): the head of the chat's own
 * verdict (statusVerdictText), so the two never disagree; "Running" when the verdict has nothing
 * to say about a healthy job.
 */
export function verdictWord(s: JobStatus): string {
  const text = statusVerdictText(s);
  if (text === null) return s.code === "Active" ? "Running" : stateWord(s);
  const colon = text.indexOf(":");
  return (colon < 0 ? text : text.slice(0, colon)).replace(/ \(.*\)$/, "");
}

export function stateWord(s: JobStatus): string {
  switch (s.code) {
    case "Quarantine":
      return `In quarantine (${s.quarantine?.reason ?? "Unknown"})`;
    case "Paused":
      return "Paused";
    case "NotRun":
      return "Never run";
    case "NotConfigured":
      return "Not configured";
    case "Active":
      if (atRisk(s)) return "Heading for quarantine";
      if (!initialCycleComplete(s)) return "Initial cycle in progress";
      return failingShare(s) >= FAILING_SHARE ? `Running with failing objects (${(failingShare(s) * 100).toFixed(0)} %)` : "Running";
    default:
      return "Unknown";
  }
}

export function scheduleText(s: JobStatus): string {
  const m = intervalMinutes(s.interval);
  return `${m ? `every ${m < 120 ? `${Math.round(m)} minutes` : `${(m / 60).toFixed(1)} hours`}` : s.interval || "no interval reported"}${s.scheduleState ? ` (${s.scheduleState})` : ""}`;
}

export function inScopeText(s: JobStatus): string {
  const entries = Object.entries(s.entriesByType);
  return entries.length ? entries.map(([t, c]) => `${n(c)} ${t}`).join(", ") : "not reported";
}

export function lastCycleText(s: JobStatus): string {
  const e = s.lastExecution;
  if (!e) return "none recorded";
  const minutes = e.began && e.ended ? Math.max(0, Math.round((Date.parse(e.ended) - Date.parse(e.began)) / 60_000)) : null;
  const counts = [`${n(e.imported)} imported`, `${n(e.exported)} exported`, ...(e.escrowed ? [`${n(e.escrowed)} escrowed (failing)`] : [])].join(", ");
  return `${e.ended ? `ended ${when(e.ended)}` : `began ${when(e.began)}`}${minutes !== null ? `, took ${plural(minutes, "minute")}` : ""}, ${e.state || "state unknown"}: ${counts}${e.errorCode ? ` · ${e.errorCode}` : ""}`;
}

export function initialCycleText(s: JobStatus): string {
  if (initialCycleComplete(s)) return `complete since ${when(s.steadyStateFirstAchievedTime)}`;
  const p = initialProgress(s);
  return `not complete yet${p !== null ? ` (${Math.round(p * 100)} % done)` : ""}: objects in scope are still being evaluated for the first time`;
}

export function quarantineText(s: JobStatus): string | null {
  const q = s.quarantine;
  if (s.code !== "Quarantine" || !q) return null;
  const advice = quarantineAdvice(q.reason);
  const disable = disableDate(q);
  return `${q.reason}: ${advice.meaning}. ${advice.fix} Since ${when(q.seriesBegan ?? q.currentBegan)}; next attempt ${when(q.nextAttempt)}; Entra disables the job on ${when(disable)} unless it is fixed.`;
}

/** Minutes per object of an initial cycle, as Microsoft's guidance gives them. */
export const INITIAL_MINUTES_PER_OBJECT: readonly [number, number] = [0.01, 0.08];

export interface Eta {
  /** Null when no estimate can be made (the job is not running). */
  earliest: string | null;
  latest: string | null;
  reason: string;
}

/** When the job will next reach an object: its state, its schedule and its initial cycle. */
export function nextReach(s: JobStatus, now: string): Eta {
  if (s.code === "Quarantine") return { earliest: null, latest: null, reason: `not while the job is in quarantine (${s.quarantine?.reason ?? "Unknown"}); fix that first` };
  if (s.code === "Paused" || s.scheduleState === "Disabled") return { earliest: null, latest: null, reason: "not until provisioning is started again: the job is paused" };
  if (s.code === "NotRun" || s.code === "NotConfigured") return { earliest: null, latest: null, reason: "not until provisioning is started: the job has never run" };
  const t = Date.parse(now);
  if (!initialCycleComplete(s)) {
    const total = inScope(s);
    const left = Math.max(1, Math.round(total * (1 - (initialProgress(s) ?? 0))));
    const [lo, hi] = INITIAL_MINUTES_PER_OBJECT;
    return {
      earliest: clampedIso(t),
      latest: clampedIso(t + left * hi * 60_000),
      reason: `the initial cycle is still running${total ? ` (about ${n(left)} of ${n(total)} objects left, at ${lo}–${hi} minutes per object: ${Math.round(left * lo)}–${Math.round(left * hi)} minutes)` : ""}; every object in scope is reached once before it completes`,
    };
  }
  const every = intervalMinutes(s.interval) ?? 40;
  const lastStart = Date.parse(s.lastExecution?.began ?? "") || t;
  const step = every * 60_000;
  // The first cycle start at or after now, computed (never stepped: an old start and a short interval would loop for long).
  const next = lastStart >= t ? lastStart + step : lastStart + Math.max(1, Math.ceil((t - lastStart) / step)) * step;
  return { earliest: clampedIso(next), latest: clampedIso(next + step), reason: `the next incremental cycle (${scheduleText(s)})` };
}
