import { minuteLabel } from "../timeBuckets";
import type { AlertRule } from "./subscriptions";
import { incidentKey, type Affected, type Signal } from "./rules";

/**
 * An incident is what one alert card shows: one per (rule, job) while it lasts. Its version goes
 * up whenever the card must change (more events, acknowledged, resolved), and every conversation
 * that received the card gets it updated in place. Pure transitions; the store adds ETags.
 */
export interface Incident extends Omit<Signal, "rule"> {
  id: string;
  rule: AlertRule;
  jobKey: string;
  app: string;
  status: "open" | "resolved";
  windowMinutes: number;
  openedAt: string;
  version: number;
  ackBy: string | null;
  ackAt: string | null;
  resolvedAt: string | null;
  resolution: string | null;
  /**
   * Extra facts for the card: a quarantine's reason, fix and disable date; the configuration
   * changes made to the job shortly before a burst or a spike.
   */
  notes?: { title: string; value: string }[];
  /** The app's Provisioning page in the Entra admin center, when the job's ids are known. */
  portalUrl?: string | null;
}

export type Change = "opened" | "updated" | "reopened" | "none";

export interface JobContext {
  jobKey: string;
  app: string;
  now: string;
  windowMinutes: number;
}

function fromSignal(signal: Signal, job: JobContext, id: string): Incident {
  return {
    id,
    rule: signal.rule,
    jobKey: job.jobKey,
    app: job.app,
    status: "open",
    count: signal.count,
    baseline: signal.baseline,
    since: signal.since,
    lastSeen: signal.lastSeen,
    topErrors: signal.topErrors,
    affected: signal.affected,
    cycleId: signal.cycleId,
    stagedDeletes: signal.stagedDeletes,
    summary: signal.summary,
    windowMinutes: job.windowMinutes,
    openedAt: job.now,
    version: 1,
    ackBy: null,
    ackAt: null,
    resolvedAt: null,
    resolution: null,
  };
}

function mergeAffected(a: Affected[], b: Affected[], n = 8): Affected[] {
  const out = new Map<string, Affected>();
  for (const x of [...b, ...a]) if (!out.has(x.identity) && out.size < n) out.set(x.identity, x);
  return [...out.values()];
}

/**
 * The next state of a (rule, job) slot given a signal that fired. A signal that belongs to the
 * open incident (it overlaps it in time) updates it; otherwise a new incident starts.
 */
export function applySignal(current: Incident | null, signal: Signal, job: JobContext): { next: Incident; change: Change } {
  const id = incidentKey(signal.rule, job.jobKey, signal.cycleId, signal.since, job.windowMinutes);
  const continues =
    current !== null &&
    (current.id === id ||
      (current.status === "open" && Date.parse(signal.since) <= Date.parse(current.lastSeen) + job.windowMinutes * 60_000));
  if (!current || !continues) return { next: fromSignal(signal, job, id), change: "opened" };
  if (signal.rule === "silentJob") {
    // One card per silence; it does not tick every minute.
    if (current.status === "open") return { next: current, change: "none" };
  }
  const count = current.status === "resolved" ? signal.count : Math.max(current.count, signal.count);
  const since = signal.since < current.since ? signal.since : current.since;
  const lastSeen = signal.lastSeen > current.lastSeen ? signal.lastSeen : current.lastSeen;
  const staged = Math.max(current.stagedDeletes, signal.stagedDeletes);
  const reopened = current.status === "resolved";
  if (!reopened && count === current.count && lastSeen === current.lastSeen && staged === current.stagedDeletes) return { next: current, change: "none" };
  const grew = count > current.count || reopened;
  return {
    next: {
      ...current,
      status: "open",
      count,
      since,
      lastSeen,
      stagedDeletes: staged,
      topErrors: grew ? signal.topErrors : current.topErrors,
      affected: mergeAffected(current.affected, signal.affected),
      cycleId: current.cycleId ?? signal.cycleId,
      summary: grew ? signal.summary : current.summary,
      version: current.version + 1,
      resolvedAt: null,
      resolution: null,
    },
    change: reopened ? "reopened" : "updated",
  };
}

/** What the job did in the quiet window that closes an incident: the reason given on the card. */
export interface QuietWindow {
  /** Events of the job in the window (any status). */
  events: number;
  /** Failures, and disables or deletes, in the window (below the rule's threshold by then). */
  failures: number;
  removals: number;
  /** Cycles seen in the window. */
  cycles: number;
}

/**
 * A burst of disables or deletes is not undone by going quiet: the accounts stay as the burst left
 * them. Its card stays open until someone acknowledges it, and closes after that once quiet.
 */
export function waitsForAcknowledgement(i: Incident): boolean {
  return i.rule === "removalBurst" && i.status === "open" && !i.ackBy;
}

/**
 * A spike that stopped firing for a whole window is closed, with why: the job kept running without
 * the trouble (N events in M cycles, K failures), or it went quiet altogether (no events: closed as
 * quiet, not as fixed, since a stopped job also stops failing). A burst closes the same way once
 * someone has acknowledged it, and not before (see waitsForAcknowledgement).
 */
export function resolveIfQuiet(current: Incident, stillFiring: boolean, now: string, window?: QuietWindow): Incident | null {
  if (current.status !== "open" || stillFiring || current.rule === "silentJob" || current.rule === "newFailures") return null;
  if (waitsForAcknowledgement(current)) return null;
  if (Date.parse(now) - Date.parse(current.lastSeen) < current.windowMinutes * 60_000) return null;
  const what = current.rule === "failureSpike" ? "failures" : "disables or deletes";
  const n = (x: number, one: string, many = `${one}s`) => `${x.toLocaleString("en-US")} ${x === 1 ? one : many}`;
  const below = current.rule === "failureSpike" ? window?.failures ?? 0 : window?.removals ?? 0;
  const resolution = !window
    ? `No further ${what} above the threshold for ${current.windowMinutes} minutes.`
    : window.events === 0
      ? `Closed as quiet, not as fixed: the job logged no events at all in the last ${current.windowMinutes} minutes (it may be idle, paused or stopped). Check its status before treating this as solved.`
      : `The job kept running without the ${current.rule === "failureSpike" ? "spike" : "burst"}: ${n(window.events, "event")}${window.cycles ? ` in ${n(window.cycles, "cycle")}` : ""} in the last ${current.windowMinutes} minutes, ${below === 0 ? `no ${what}` : `${n(below, current.rule === "failureSpike" ? "failure" : "disable or delete", what)}, below the threshold`}.`;
  return { ...current, status: "resolved", resolvedAt: now, resolution, version: current.version + 1 };
}

/** A silent job is resolved by the first event that arrives for it. */
export function resolveSilence(current: Incident, eventAt: string, now: string): Incident | null {
  if (current.status !== "open" || current.rule !== "silentJob" || eventAt <= current.lastSeen) return null;
  return { ...current, status: "resolved", resolvedAt: now, resolution: `Events resumed at ${minuteLabel(eventAt)} UTC.`, version: current.version + 1 };
}

export function acknowledge(current: Incident, by: string, now: string): Incident | null {
  if (current.ackBy) return null;
  return { ...current, ackBy: by || "someone", ackAt: now, version: current.version + 1 };
}

// ---- New failures digest --------------------------------------------------------------------

export interface FailingObject {
  identity: string;
  name: string;
  errorCode: string;
  count: number;
  firstAt: string;
  lastAt: string;
  /** The digest incident that reported it. */
  incidentId: string;
  resolvedAt?: string;
}

export interface DigestEvent {
  at: string;
  identity: string;
  name: string;
  status: string;
  errorCode: string;
}

export interface DigestStep {
  /** Open failing objects per identity, after this batch (capped). */
  open: Record<string, FailingObject>;
  /** Objects failing for the first time: one digest card lists them. */
  fresh: FailingObject[];
  /** Already-reported objects that failed again (their count went up). */
  recurring: FailingObject[];
  /** Reported objects whose later success arrived, grouped by the incident that reported them. */
  resolved: FailingObject[];
}

const MAX_OPEN = 500;

/**
 * One step of the digest: failures of objects not yet open are new; failures of open ones add to
 * their count; a success after a failure resolves the object.
 */
export function digestStep(open: Record<string, FailingObject>, events: DigestEvent[], incidentId: string): DigestStep {
  const next: Record<string, FailingObject> = { ...open };
  const fresh = new Map<string, FailingObject>();
  const recurring = new Map<string, FailingObject>();
  const resolved: FailingObject[] = [];
  for (const e of [...events].sort((a, b) => a.at.localeCompare(b.at))) {
    const known = next[e.identity];
    if (e.status === "failure") {
      if (known) {
        next[e.identity] = { ...known, count: known.count + 1, lastAt: e.at > known.lastAt ? e.at : known.lastAt, errorCode: e.errorCode || known.errorCode };
        if (!fresh.has(e.identity)) recurring.set(e.identity, next[e.identity]!);
        else fresh.set(e.identity, next[e.identity]!);
      } else {
        next[e.identity] = { identity: e.identity, name: e.name, errorCode: e.errorCode, count: 1, firstAt: e.at, lastAt: e.at, incidentId };
        fresh.set(e.identity, next[e.identity]!);
      }
    } else if (e.status === "success" && known && e.at > known.lastAt) {
      delete next[e.identity];
      fresh.delete(e.identity);
      recurring.delete(e.identity);
      if (known.incidentId !== incidentId) resolved.push({ ...known, resolvedAt: e.at });
    }
  }
  const keep = Object.values(next)
    .sort((a, b) => b.lastAt.localeCompare(a.lastAt))
    .slice(0, MAX_OPEN);
  return { open: Object.fromEntries(keep.map((o) => [o.identity, o])), fresh: [...fresh.values()], recurring: [...recurring.values()], resolved };
}
