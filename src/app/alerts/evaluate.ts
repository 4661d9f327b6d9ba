import { randomUUID } from "node:crypto";
import { isRemoval } from "../../core/counts";
import { hourBucket, hourStart, minuteLabel } from "../../core/timeBuckets";
import { appName, type ProvisioningEvent } from "../../core/event";
import { canonicalIdentityKey, upnOf } from "../../core/identityKeys";
import {
  DEFAULT_THRESHOLDS,
  failureSpike,
  removalBurst,
  silentJob,
  usualCycleMinutes,
  type JobBaseline,
  type Signal,
  type Thresholds,
  type WindowEvent,
} from "../../core/alerts/rules";
import { applySignal, digestStep, resolveIfQuiet, resolveSilence, type FailingObject, type Incident } from "../../core/alerts/incident";
import { thresholdKey, thresholdsFor, type AlertRule } from "../../core/alerts/subscriptions";
import type { Clock } from "../ports";
import type { EventRow, QueryStore } from "../queryPorts";
import type { AlertLog, IncidentStore, ThresholdStore } from "../alertPorts";
import { isoMinus, isoPlus } from "./time";
import { ConcurrencyExhausted } from "../../core/optimistic";
import { provisioningPageUrl } from "../../core/portalLinks";
import { applyFinding, healthFindings, HEALTH_RULES } from "../../core/alerts/jobHealth";
import { causeLine, CONFIG_KINDS } from "../../core/jobs/audit";
import { intervalMinutes } from "../../core/jobs/status";
import type { AuditStore, JobStatusStore } from "../jobHealthPorts";
import type { JobReading } from "../jobStatusPoll";

/**
 * Alert evaluation: the rules over the stored events and counts, after every stored batch and on
 * the timer. It keeps one incident per (rule, job) in Table Storage under ETag concurrency and
 * returns the incidents that changed; it never talks to Teams (delivery is the outbox's job).
 */
export interface EvaluatorDeps {
  incidents: IncidentStore;
  thresholds: ThresholdStore;
  query: QueryStore;
  clock: Clock;
  /** The storage key of an event's job (the same key the query store uses). */
  jobKeyOf: (e: ProvisioningEvent) => string;
  log?: AlertLog;
  /** Batches whose newest event is older than this are history, not news: no alert. */
  maxAgeMinutes?: number;
  /** Defaults for every app (per-app overrides come from the threshold store). */
  defaults?: Thresholds;
  /** Job status (the silent rule uses its schedule and state; the forecast its history). */
  statuses?: JobStatusStore;
  /** The provisioning audit trail: configuration changes shown on burst and spike cards. */
  audits?: AuditStore;
}

/** How far back a burst or a spike card looks for configuration changes to the job. */
const CAUSE_HOURS = 24;
/** The forecast's trend compares with a reading at least this old (and at most a day). */
const TREND_MIN_HOURS = 1;

const WINDOW_ROWS = 5_000;
const BASELINE_DAYS = 7;
const MIN_BASELINE_HOURS = 2;
const RECENT_ACTIVITY_DAYS = 7;
const DIGEST_OPEN_HOURS = 24;
const BASELINE_CACHE_MS = 10 * 60_000;

export class AlertEvaluator {
  readonly defaults: Thresholds;
  private readonly maxAgeMinutes: number;
  private readonly baselines = new Map<string, { at: number; value: JobBaseline }>();
  constructor(private readonly deps: EvaluatorDeps) {
    this.defaults = deps.defaults ?? DEFAULT_THRESHOLDS;
    this.maxAgeMinutes = deps.maxAgeMinutes ?? 360;
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  private log(entry: Parameters<AlertLog>[0]): void {
    this.deps.log?.(entry);
  }

  /** Runs right after a batch is stored, with the events that were new. */
  async afterIngest(events: ProvisioningEvent[]): Promise<Incident[]> {
    const now = this.now();
    const byJob = new Map<string, ProvisioningEvent[]>();
    for (const e of events) {
      const key = this.deps.jobKeyOf(e);
      if (!byJob.has(key)) byJob.set(key, []);
      byJob.get(key)!.push(e);
    }
    const changed: Incident[] = [];
    const perApp = await this.deps.thresholds.all();
    for (const [jobKey, list] of byJob) {
      const newest = list.reduce((a, e) => (e.activityDateTime > a ? e.activityDateTime : a), "");
      const app = appName(list.find((e) => e.activityDateTime === newest)!);
      // A silent job is over as soon as it produces anything.
      const resolved = await this.modify(jobKey, "silentJob", (current) => (current ? resolveSilence(current, newest, now) : null));
      if (resolved) changed.push(resolved);
      if (Date.parse(now) - Date.parse(newest) > this.maxAgeMinutes * 60_000) continue;
      const t = thresholdsFor(thresholdKey(list[0]!.tenantId, jobKey), perApp, this.defaults);
      const end = newest > now ? newest : now;
      for (const signal of await this.signals(jobKey, end, t)) await this.raise(signal, jobKey, app, t, changed);
      await this.digest(jobKey, app, list, changed);
    }
    return changed;
  }

  /**
   * The timer: silent jobs and resolution of quiet incidents. Returns what changed and every
   * active incident (delivery brings their cards up to date and retries what is pending).
   */
  async tick(): Promise<{ changed: Incident[]; active: Incident[] }> {
    const now = this.now();
    const changed: Incident[] = [];
    const perApp = await this.deps.thresholds.all();
    const jobs = await this.deps.query.jobs(true);
    const tenantOf = new Map(jobs.map((j) => [j.jobKey, j.tenantId]));
    // Job statuses that cannot be read are an outage, not "every job is Active": the silent-job rule
    // (which must not call a paused or quarantined job quiet) is skipped for this run, and logged.
    let statusList: Awaited<ReturnType<NonNullable<typeof this.deps.statuses>["all"]>> | null = [];
    if (this.deps.statuses) {
      try {
        statusList = await this.deps.statuses.all();
      } catch (err) {
        statusList = null;
        this.deps.log?.({ event: "alert.silence.unavailable", reason: "job statuses could not be read; the silent-job rule is skipped this run", error: err instanceof Error ? err.message.slice(0, 200) : String(err).slice(0, 200) });
      }
    }
    const statuses = new Map((statusList ?? []).map((s) => [s.jobKey, s.status]));
    for (const job of statusList === null ? [] : jobs) {
      const t = thresholdsFor(thresholdKey(job.tenantId, job.jobKey), perApp, this.defaults);
      const status = statuses.get(job.jobKey);
      // A paused or quarantined job is not quiet: its own alert says what it is.
      if (status && status.code !== "Active" && status.code !== "Unknown") continue;
      const recent = job.lastAt > isoMinus(now, RECENT_ACTIVITY_DAYS * 1440) && job.cycleStarts.length >= 3;
      const interval = (status && intervalMinutes(status.interval)) || usualCycleMinutes(job.cycleStarts);
      const signal = silentJob(job.lastAt, now, { failuresPerWindow: 0, removalsPerWindow: 0, cycleMinutes: interval }, recent, t);
      if (signal) await this.raise(signal, job.jobKey, job.app, t, changed);
    }
    const active = await this.deps.incidents.activeSlots(isoMinus(now, 24 * 60));
    for (const incident of active) {
      if (incident.rule === "initialCycleCompleted" && incident.status === "open") {
        const next = await this.modify(incident.jobKey, incident.rule, (current) => (current ? applyFinding(current, null, { jobKey: incident.jobKey, app: incident.app, now, windowMinutes: incident.windowMinutes }, "initialCycleCompleted").next : null));
        if (next) changed.push(next);
        continue;
      }
      if (incident.rule === "newFailures" && incident.status === "open" && incident.openedAt < isoMinus(now, DIGEST_OPEN_HOURS * 60)) {
        const closed = await this.update(incident.jobKey, incident.rule, incident.id, (current) => {
          const left = current.affected.filter((a) => !a.resolvedAt).length;
          return { ...current, status: "resolved", resolvedAt: now, resolution: `Closed after ${DIGEST_OPEN_HOURS} hours; ${left} of the objects listed had not succeeded yet.`, version: current.version + 1 };
        });
        if (closed) changed.push(closed);
        continue;
      }
      if (incident.status !== "open" || (incident.rule !== "failureSpike" && incident.rule !== "removalBurst")) continue;
      const t = thresholdsFor(thresholdKey(tenantOf.get(incident.jobKey), incident.jobKey), perApp, this.defaults);
      const { signals, window } = await this.evaluateWindow(incident.jobKey, now, t);
      const firing = signals.some((s) => s.rule === incident.rule);
      const quiet = { events: window.length, failures: window.filter((e) => e.status === "failure").length, removals: window.filter((e) => isRemoval(e.action, e.status)).length, cycles: new Set(window.map((e) => e.cycleId).filter(Boolean)).size };
      const resolved = await this.modify(incident.jobKey, incident.rule, (current) => (current ? resolveIfQuiet(current, firing, now, quiet) : null));
      if (resolved) changed.push(resolved);
    }
    return { changed, active };
  }

  private async signals(jobKey: string, end: string, t: Thresholds): Promise<Signal[]> {
    return (await this.evaluateWindow(jobKey, end, t)).signals;
  }

  /** The rules over the window ending at `end`, and the window's events (what a resolution explains). */
  private async evaluateWindow(jobKey: string, end: string, t: Thresholds): Promise<{ signals: Signal[]; window: WindowEvent[] }> {
    const from = isoMinus(end, t.windowMinutes);
    const rows = await this.deps.query.windowEvents(jobKey, from, isoPlus(end, 1), WINDOW_ROWS);
    const window = rows.map(windowEvent);
    const baseline = await this.baseline(jobKey, from, t.windowMinutes);
    return { signals: [failureSpike(window, baseline, t), removalBurst(window, baseline, t)].filter((s): s is Signal => s !== null), window };
  }

  /**
   * Mean failures and removals per window over the trailing week, from the hourly counts. A week's
   * mean barely moves within minutes, so it is kept for BASELINE_CACHE_MS per job and window size
   * (every batch would otherwise re-read eight day partitions per job).
   */
  async baseline(jobKey: string, windowStart: string, windowMinutes: number): Promise<JobBaseline> {
    const key = `${jobKey}|${windowMinutes}`;
    const cached = this.baselines.get(key);
    const nowMs = Date.parse(this.now());
    if (cached && nowMs - cached.at < BASELINE_CACHE_MS) return cached.value;
    const value = await this.readBaseline(jobKey, windowStart, windowMinutes);
    this.baselines.set(key, { at: nowMs, value });
    return value;
  }

  private async readBaseline(jobKey: string, windowStart: string, t: number): Promise<JobBaseline> {
    const startHour = hourBucket(windowStart);
    const rows = (await this.deps.query.counts([jobKey], isoMinus(windowStart, BASELINE_DAYS * 1440), windowStart)).filter((r) => r.hour < startHour);
    if (rows.length === 0) return { failuresPerWindow: 0, removalsPerWindow: 0, cycleMinutes: 40 };
    const first = rows.map((r) => r.hour).sort()[0]!;
    const firstMs = Date.parse(hourStart(first));
    // Only whole hours before the window's own hour are counted, so the span is measured to that
    // hour's start (measuring to the window start would divide by a partial hour that was not counted).
    const startHourMs = Date.parse(hourStart(startHour));
    const hours = Math.max(MIN_BASELINE_HOURS, (startHourMs - firstMs) / 3_600_000);
    let failures = 0;
    let removals = 0;
    for (const r of rows) {
      for (const cell of r.cells) {
        if (cell.status === "failure") failures += cell.n;
        if (isRemoval(cell.action, cell.status)) removals += cell.n;
      }
    }
    const windows = (hours * 60) / t;
    return { failuresPerWindow: failures / windows, removalsPerWindow: removals / windows, cycleMinutes: 40 };
  }

  /** Opens or updates the (rule, job) incident for a signal, under ETag concurrency. */
  private async raise(signal: Signal, jobKey: string, app: string, t: Thresholds, changed: Incident[]): Promise<void> {
    let change = "none";
    let causes: { title: string; value: string }[] | null = null;
    const next = await this.modify(jobKey, signal.rule, async (current) => {
      const applied = applySignal(current, signal, { jobKey, app, now: this.now(), windowMinutes: t.windowMinutes });
      change = applied.change;
      if (applied.change === "none") return null;
      if (applied.change === "opened" && (signal.rule === "removalBurst" || signal.rule === "failureSpike")) {
        // Read once, even when a lost race decides again.
        causes ??= await this.causes(jobKey, signal.since, signal.rule === "removalBurst" ? "the first disable or delete" : "the first failure");
        if (causes.length) return { ...applied.next, notes: causes };
      }
      return applied.next;
    });
    if (!next) return;
    changed.push(next);
    this.log({ event: "alert.decision", rule: signal.rule, jobKey, incidentId: next.id, version: next.version, change, count: next.count });
  }

  /**
   * Every incident change goes through the store's one optimistic loop (modifySlot). Writers that
   * keep winning for all its attempts are logged and this change is left to the next evaluation
   * (the next batch or the timer decides again from the stored events).
   */
  private async modify(jobKey: string, rule: AlertRule, decide: (current: Incident | null) => Promise<Incident | null> | Incident | null, incidentId?: string): Promise<Incident | null> {
    // Every job card links to the app's Provisioning page in the admin center (when its ids are
    // known), looked up only when there is something to write: most evaluations change nothing.
    const withPortal = async (current: Incident | null) => {
      const next = await decide(current);
      if (!next || next.portalUrl) return next;
      const portal = await this.portalOf(jobKey);
      return portal ? { ...next, portalUrl: portal } : next;
    };
    try {
      return await this.deps.incidents.modifySlot(jobKey, rule, withPortal, incidentId);
    } catch (err) {
      if (!(err instanceof ConcurrencyExhausted)) throw err;
      this.log({ event: "alert.contention", rule, jobKey });
      return null;
    }
  }

  /** The app's Provisioning page for a job, from the job list (null when its ids are not known). */
  private async portalOf(jobKey: string): Promise<string | null> {
    try {
      const job = (await this.deps.query.jobs()).find((j) => j.jobKey === jobKey);
      return job ? provisioningPageUrl(job.servicePrincipalId ?? "", job.appId ?? "") : null;
    } catch {
      return null; // a link is a convenience: an unreadable job list never holds an alert back
    }
  }

  /**
   * Cause attribution: the configuration changes made to the job's app in the CAUSE_HOURS before
   * an incident began ("attribute mappings or scope updated by bob@contoso.com 14 minutes before
   * the first delete"). Best effort: an unreadable audit trail leaves the card without them.
   */
  private async causes(jobKey: string, since: string, what: string): Promise<{ title: string; value: string }[]> {
    if (!this.deps.audits) return [];
    try {
      // The cached job list may predate this job's first events: read it again when it is missing.
      const find = async (fresh: boolean) => (await this.deps.query.jobs(fresh)).find((j) => j.jobKey === jobKey && j.servicePrincipalId);
      const job = (await find(false)) ?? (await find(true));
      if (!job?.servicePrincipalId) return [];
      const audits = (await this.deps.audits.list(job.servicePrincipalId, isoMinus(since, CAUSE_HOURS * 60), isoPlus(since, 60_000), 20)).filter((a) => CONFIG_KINDS.has(a.kind));
      if (audits.length === 0) return [];
      return [{ title: `Configuration changes in the ${CAUSE_HOURS} h before`, value: audits.slice(0, 5).map((a) => causeLine(a, since, what)).join("\n") }];
    } catch (err) {
      this.log({ event: "alert.causes.unavailable", jobKey, error: err instanceof Error ? err.message.slice(0, 200) : String(err) });
      return [];
    }
  }

  /**
   * After a job-status poll: the job-health alerts (quarantine, paused, initial cycle completed,
   * the forecast), each decided from the job's current status, under ETag concurrency.
   */
  async afterJobStatus(readings: JobReading[]): Promise<Incident[]> {
    const now = this.now();
    const changed: Incident[] = [];
    for (const r of readings) {
      const jobKey = r.record.jobKey;
      const app = r.record.appName || r.record.jobId;
      const earlier = await this.earlierFailing(jobKey, now);
      const findings = await this.whoPaused(healthFindings({ status: r.record.status, before: r.before, transitions: r.transitions, now, ...(earlier ? { earlier } : {}) }), jobKey, r.record.servicePrincipalId, now);
      for (const rule of HEALTH_RULES) {
        const finding = findings.find((f) => f.rule === rule) ?? null;
        let change = "";
        const next = await this.modify(jobKey, rule, (current) => {
          const step = applyFinding(current, finding, { jobKey, app, now, windowMinutes: this.defaults.windowMinutes }, rule);
          change = step.change;
          return step.next;
        });
        if (!next) continue;
        changed.push(next);
        this.log({ event: "alert.decision", rule, jobKey, incidentId: next.id, version: next.version, change, count: next.count });
      }
    }
    return changed;
  }

  /**
   * A paused job's card says who paused it and when, from the audit trail (best effort: without the
   * audit trail, the card still says to look there).
   */
  private async whoPaused(findings: ReturnType<typeof healthFindings>, jobKey: string, servicePrincipalId: string, now: string): Promise<ReturnType<typeof healthFindings>> {
    const paused = findings.find((f) => f.rule === "jobPaused" && f.open);
    if (!paused || !this.deps.audits || !servicePrincipalId) return findings;
    try {
      const pause = (await this.deps.audits.list(servicePrincipalId, isoMinus(now, 30 * 1440), isoPlus(now, 60_000), 50)).find((a) => a.kind === "pause");
      if (!pause) return findings;
      const who = pause.by || "the provisioning service";
      const notes = paused.notes.map((n) => (n.title === "What to do" ? { ...n, value: `If this was not meant, ask ${who} or start provisioning again on the app's Provisioning page (Start provisioning).` } : n));
      return findings.map((f) => (f === paused ? { ...f, notes: [{ title: "Paused by", value: `${who} at ${minuteLabel(pause.at)} UTC (${pause.activity}, audit log)` }, ...notes] } : f));
    } catch (err) {
      this.log({ event: "alert.causes.unavailable", jobKey, error: err instanceof Error ? err.message.slice(0, 200) : String(err) });
      return findings;
    }
  }

  /** The failing objects at the newest reading that is at least TREND_MIN_HOURS old (within a day). */
  private async earlierFailing(jobKey: string, now: string): Promise<{ failing: number; hoursAgo: number } | undefined> {
    if (!this.deps.statuses) return undefined;
    const history = await this.deps.statuses.history(jobKey, 50);
    const old = history.find((h) => Date.parse(now) - Date.parse(h.at) >= TREND_MIN_HOURS * 3_600_000);
    if (!old) return undefined;
    const hoursAgo = (Date.parse(now) - Date.parse(old.at)) / 3_600_000;
    return hoursAgo <= 24 ? { failing: old.failing, hoursAgo } : undefined;
  }

  /**
   * Read-modify-write of one incident under its ETag; `change` returns null when nothing changes.
   * Also used by the card actions (acknowledge).
   */
  async update(jobKey: string, rule: AlertRule, id: string, change: (current: Incident) => Incident | null): Promise<Incident | null> {
    return this.modify(jobKey, rule, (current) => (current && current.id === id ? change(current) : null), id);
  }

  /** New failures digest: one card per app per evaluation that found newly failing objects. */
  private async digest(jobKey: string, app: string, events: ProvisioningEvent[], changed: Incident[]): Promise<void> {
    const digestEvents = events
      .filter((e) => e.status === "failure" || e.status === "success")
      .map((e) => ({ at: e.activityDateTime, identity: upnOf(e) ?? canonicalIdentityKey(e), name: e.sourceIdentity.displayName || e.targetIdentity.displayName || e.sourceIdentity.id, status: e.status, errorCode: e.error?.code ?? "" }));
    if (digestEvents.length === 0) return;
    const now = this.now();
    // Unique per evaluation: redelivered events never reach here (they are not new), so no dedupe key is needed.
    const incidentId = `newFailures|${jobKey}|${now}|${randomUUID().slice(0, 8)}`;
    let step: ReturnType<typeof digestStep> | null = null;
    try {
      await this.deps.incidents.modifyDigest(jobKey, (open) => (step = digestStep(open, digestEvents, incidentId)).open);
    } catch (err) {
      if (!(err instanceof ConcurrencyExhausted)) throw err;
      this.log({ event: "alert.contention", rule: "newFailures", jobKey });
      return;
    }
    const saved = step as ReturnType<typeof digestStep> | null;
    if (!saved) return;
    // Recurrences and resolutions update the cards that reported those objects.
    const touched = new Map<string, FailingObject[]>();
    for (const o of [...saved.recurring, ...saved.resolved]) touched.set(o.incidentId, [...(touched.get(o.incidentId) ?? []), o]);
    for (const [id, objects] of touched) {
      const next = await this.update(jobKey, "newFailures", id, (current) => {
        const affected = current.affected.map((a) => {
          const o = objects.find((x) => x.identity === a.identity);
          return o ? { ...a, count: o.count, ...(o.resolvedAt ? { resolvedAt: o.resolvedAt } : {}) } : a;
        });
        if (JSON.stringify(affected) === JSON.stringify(current.affected)) return null;
        const allResolved = affected.every((a) => a.resolvedAt);
        return { ...current, affected, status: allResolved ? "resolved" : current.status, resolvedAt: allResolved ? now : current.resolvedAt, resolution: allResolved ? "Every object on this card has succeeded since." : current.resolution, version: current.version + 1 };
      });
      if (next) changed.push(next);
    }
    if (saved.fresh.length > 0) {
      const fresh = saved.fresh.slice(0, 8);
      const codes = new Map<string, number>();
      for (const o of saved.fresh) if (o.errorCode) codes.set(o.errorCode, (codes.get(o.errorCode) ?? 0) + 1);
      const incident: Incident = {
        id: incidentId,
        rule: "newFailures",
        jobKey,
        app,
        status: "open",
        count: saved.fresh.length,
        baseline: 0,
        since: saved.fresh.map((o) => o.firstAt).sort()[0]!,
        lastSeen: saved.fresh.map((o) => o.lastAt).sort().pop()!,
        topErrors: [...codes.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 3),
        affected: fresh.map((o) => ({ identity: o.identity, name: o.name, count: o.count, errorCode: o.errorCode })),
        cycleId: null,
        stagedDeletes: 0,
        summary: `${saved.fresh.length} object${saved.fresh.length === 1 ? "" : "s"} started failing in ${app}.`,
        windowMinutes: this.defaults.windowMinutes,
        openedAt: now,
        version: 1,
        ackBy: null,
        ackAt: null,
        resolvedAt: null,
        resolution: null,
      };
      // Each digest is its own card (and row), so later recurrences and successes can update it.
      if (await this.modify(jobKey, "newFailures", (current) => (current ? null : incident), incidentId)) {
        changed.push(incident);
        this.log({ event: "alert.decision", rule: "newFailures", jobKey, incidentId, version: 1, change: "opened", count: incident.count });
      }
    }
  }
}

function windowEvent(r: EventRow): WindowEvent {
  return { at: r.at, action: r.action, status: r.status, cycleId: r.cycleId ?? "", errorCode: r.errorCode, identity: r.identity || r.targetId || r.changeId || "", name: r.identityName || r.identity || "" };
}
