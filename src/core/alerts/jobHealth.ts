import { minuteLabel } from "../timeBuckets";
import { disableDate, inScope, quarantineAdvice, type JobStatus, type Transition } from "../jobs/status";
import { quarantineForecast } from "../jobs/forecast";
import type { Incident, Change } from "./incident";

/**
 * Alerts from job status, pure: a job quarantined (updated in place when the reason changes,
 * resolved when released), paused or disabled, its initial cycle completed, and the quarantine
 * forecast. Each is decided from the job's current status (not only from the transition seen), so
 * a missed poll never leaves a card open or a quarantine unreported.
 */
export type HealthRule = "jobQuarantined" | "jobPaused" | "initialCycleCompleted" | "quarantineForecast";
export const HEALTH_RULES: readonly HealthRule[] = ["jobQuarantined", "jobPaused", "initialCycleCompleted", "quarantineForecast"];

export interface Note {
  title: string;
  value: string;
}

export const EPISODE = "episode";

export interface HealthFinding {
  rule: HealthRule;
  /** True: the condition holds (open or update the card); false: it is over (resolve an open card). */
  open: boolean;
  /**
   * What makes it a new incident rather than the same one: a new quarantine series; or EPISODE,
   * which continues the open incident and starts a new one (a new card) once it was resolved.
   */
  key: string;
  since: string;
  count: number;
  summary: string;
  notes: Note[];
}

const when = (iso: string | null) => (iso ? `${minuteLabel(iso)} UTC` : "unknown");

export interface HealthInput {
  status: JobStatus;
  /** The status before this reading (null: first reading). */
  before: JobStatus | null;
  transitions: Transition[];
  /** An earlier reading of the failing (escrowed) objects, for the forecast's trend. */
  earlier?: { failing: number; hoursAgo: number };
  now: string;
}

export function healthFindings(input: HealthInput): HealthFinding[] {
  const { status: s, now } = input;
  const out: HealthFinding[] = [];
  const q = s.quarantine;
  if (s.code === "Quarantine") {
    const advice = quarantineAdvice(q?.reason ?? "Unknown");
    const disable = q ? disableDate(q) : null;
    out.push({
      rule: "jobQuarantined",
      open: true,
      key: q?.seriesBegan ?? q?.currentBegan ?? "series",
      // When the quarantine began (the series; currentBegan is only the latest retry), never when provbot first saw it.
      since: q?.seriesBegan ?? q?.currentBegan ?? now,
      count: q?.seriesCount ?? 0,
      summary: `The job is in quarantine: ${advice.meaning} (${q?.reason ?? "Unknown"}).`,
      notes: [
        { title: "Reason", value: q?.reason ?? "Unknown" },
        { title: "What to do", value: advice.fix },
        ...(q?.errorCode || q?.errorMessage ? [{ title: "Error", value: `${q.errorCode}${q.errorCode && q.errorMessage ? ": " : ""}${q.errorMessage}`.slice(0, 500) }] : []),
        { title: "In quarantine since", value: when(q?.seriesBegan ?? q?.currentBegan ?? null) },
        { title: "Next attempt", value: `${when(q?.nextAttempt ?? null)} (Entra retries less and less often, down to once a day)` },
        { title: "Disabled on", value: disable ? `${when(disable)}, four weeks after the quarantine began, unless it is fixed` : "four weeks after the quarantine began" },
      ],
    });
  } else out.push({ rule: "jobQuarantined", open: false, key: "", since: now, count: 0, summary: `Released from quarantine; the job is ${s.code === "Active" ? "running again" : s.code.toLowerCase()} (seen ${when(now)}).`, notes: [] });

  if (s.code === "Paused" || s.scheduleState === "Disabled") {
    out.push({
      rule: "jobPaused",
      open: true,
      key: EPISODE,
      since: now,
      count: 0,
      summary: s.code === "Paused" ? "Provisioning is paused: no cycle runs until someone starts it again." : "The job's schedule is disabled: no cycle runs.",
      notes: [
        { title: "Last cycle", value: s.lastExecution?.ended ? `${when(s.lastExecution.ended)} (${s.lastExecution.state || "state unknown"})` : "none recorded" },
        { title: "What to do", value: "If nobody meant to pause it, start provisioning again on the app's Provisioning page (Start provisioning); see the audit trail for who paused it." },
      ],
    });
  } else out.push({ rule: "jobPaused", open: false, key: "", since: now, count: 0, summary: `Provisioning runs again (seen ${when(now)}).`, notes: [] });

  if (input.transitions.includes("initialCycleCompleted")) {
    const n = inScope(s);
    out.push({
      rule: "initialCycleCompleted",
      open: true,
      key: s.steadyStateFirstAchievedTime ?? now,
      since: s.steadyStateFirstAchievedTime ?? now,
      count: n,
      summary: `The initial cycle completed at ${when(s.steadyStateFirstAchievedTime)}: every object in scope has been evaluated once; from now on, cycles run incrementally${s.interval ? ` (schedule ${s.interval})` : ""}.`,
      notes: [{ title: "Objects in scope", value: n ? Object.entries(s.entriesByType).map(([t, c]) => `${c.toLocaleString("en-US")} ${t}`).join(", ") : "not reported" }],
    });
  }

  const failing = s.lastExecution?.escrowed ?? 0;
  const forecast = s.code === "Quarantine" ? null : quarantineForecast({ failing, inScope: inScope(s), ...(input.earlier ? { earlier: input.earlier } : {}) });
  if (forecast) {
    out.push({
      rule: "quarantineForecast",
      open: true,
      key: EPISODE,
      since: now,
      count: forecast.failing,
      summary: forecast.summary,
      notes: [
        { title: "Failing objects", value: `${forecast.failing.toLocaleString("en-US")}${forecast.share !== null ? ` (${(forecast.share * 100).toFixed(1)} % of those in scope)` : ""}` },
        { title: "Entra's lines", value: "escrows are evaluated from 5,000 failures; quarantine above 40 % failing objects or at 40,000" },
        { title: "What to do", value: "Ask provbot for the top errors of this app and fix the most frequent first." },
      ],
    });
  } else out.push({ rule: "quarantineForecast", open: false, key: "", since: now, count: 0, summary: s.code === "Quarantine" ? "Entra quarantined the job (see the quarantine alert)." : "Failing objects are back below the warning line.", notes: [] });
  return out;
}

export interface HealthContext {
  jobKey: string;
  app: string;
  now: string;
  windowMinutes: number;
}

/** Informational cards (initial cycle completed) close by themselves after a day. */
const INFO_HOURS = 24;

/** The next state of a job's health incident for one finding. */
export function applyFinding(current: Incident | null, f: HealthFinding | null, ctx: HealthContext, rule: HealthRule): { next: Incident | null; change: Change | "resolved" } {
  if (current && current.status === "open" && rule === "initialCycleCompleted" && Date.parse(ctx.now) - Date.parse(current.openedAt) > INFO_HOURS * 3_600_000) {
    return { next: { ...current, status: "resolved", resolvedAt: ctx.now, resolution: "For information; closed after a day.", version: current.version + 1 }, change: "resolved" };
  }
  if (!f) return { next: null, change: "none" };
  if (!f.open) {
    if (!current || current.status !== "open" || rule === "initialCycleCompleted") return { next: null, change: "none" };
    return { next: { ...current, status: "resolved", resolvedAt: ctx.now, resolution: f.summary, lastSeen: ctx.now, version: current.version + 1 }, change: "resolved" };
  }
  const id = f.key === EPISODE ? (current?.status === "open" ? current.id : `${rule}|${ctx.jobKey}|${ctx.now}`) : `${rule}|${ctx.jobKey}|${f.key}`;
  if (current && current.id === id && current.status === "open") {
    const same = current.summary === f.summary && JSON.stringify(current.notes ?? []) === JSON.stringify(f.notes) && current.count === f.count;
    if (same) return { next: null, change: "none" };
    return { next: { ...current, summary: f.summary, notes: f.notes, count: f.count, lastSeen: ctx.now, version: current.version + 1 }, change: "updated" };
  }
  if (current && current.id === id && rule === "initialCycleCompleted") return { next: null, change: "none" };
  const reopened = current?.id === id;
  return {
    next: {
      id,
      rule,
      jobKey: ctx.jobKey,
      app: ctx.app,
      status: "open",
      count: f.count,
      baseline: 0,
      since: f.since,
      lastSeen: ctx.now,
      topErrors: [],
      affected: [],
      cycleId: null,
      stagedDeletes: 0,
      summary: f.summary,
      notes: f.notes,
      windowMinutes: ctx.windowMinutes,
      openedAt: ctx.now,
      version: (current?.id === id ? current.version : 0) + 1,
      ackBy: null,
      ackAt: null,
      resolvedAt: null,
      resolution: null,
    },
    change: reopened ? "reopened" : "opened",
  };
}
