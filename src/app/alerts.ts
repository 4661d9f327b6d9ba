import { randomUUID } from "node:crypto";
import { isRemoval, REMOVAL_ACTIONS } from "../core/counts";
import { hourBucket, hourStart, minuteLabel } from "../core/timeBuckets";
import { appName, type ProvisioningEvent } from "../core/event";
import type { ChatUser, ConversationTarget } from "../core/conversation";
import { normaliseName } from "../core/names";
import { canonicalIdentityKey, upnOf } from "../core/identityKeys";
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
} from "../core/alerts/rules";
import { acknowledge, applySignal, digestStep, resolveIfQuiet, resolveSilence, type FailingObject, type Incident } from "../core/alerts/incident";
import {
  ALL_RULES,
  DEFAULT_RULES,
  RULE_LABELS,
  applyThreshold,
  newSubscription,
  thresholdsFor,
  wants,
  type AlertCommand,
  type AlertRule,
  type Subscription,
} from "../core/alerts/subscriptions";
import { alertCard, settingsView } from "../core/alerts/views";
import { eventList, info, type Answer } from "../core/ask/views";
import type { Clock } from "./ports";
import type { EventRow, JobInfo, QueryStore } from "./queryPorts";
import { matchApp } from "./resolve";
import type { AlertSender, Delivery, IncidentStore, SendResult, SubscriptionStore, ThresholdStore, Versioned } from "./alertPorts";

/**
 * Proactive alerts: evaluate the rules after every stored batch and on a timer, keep one incident
 * per (rule, job) in Table Storage under ETag concurrency, and deliver each incident version to the
 * subscribed conversations exactly once (a delivery row per conversation is the claim).
 */
export interface AlertDeps {
  subs: SubscriptionStore;
  incidents: IncidentStore;
  thresholds: ThresholdStore;
  query: QueryStore;
  sender: AlertSender;
  clock: Clock;
  /** The storage key of an event's job (the same key the query store uses). */
  jobKeyOf: (e: ProvisioningEvent) => string;
  log?: (message: string) => void;
  /** Batches whose newest event is older than this are history, not news: no alert. */
  maxAgeMinutes?: number;
  /** Defaults for every app (per-app overrides come from the threshold store). */
  defaults?: Thresholds;
}

export interface Delivered {
  incidentId: string;
  conversationId: string;
  action: "sent" | "updated" | "skipped";
  result?: SendResult["kind"];
}

export interface AlertRun {
  evaluatedJobs: number;
  changed: Incident[];
  deliveries: Delivered[];
}

const WINDOW_ROWS = 5_000;
const BASELINE_DAYS = 7;
const MIN_BASELINE_HOURS = 2;
const STALE_CLAIM_MS = 2 * 60_000;
const RECENT_ACTIVITY_DAYS = 7;
const DIGEST_OPEN_HOURS = 24;
const BASELINE_CACHE_MS = 10 * 60_000;
const MAX_ATTEMPTS = 10;
const SEEN_CACHE_MS = 10 * 60_000;

const isoMinus = (iso: string, minutes: number) => new Date(Date.parse(iso) - minutes * 60_000).toISOString();
const isoPlus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

export class AlertService {
  private readonly defaults: Thresholds;
  private readonly maxAgeMinutes: number;
  private readonly baselines = new Map<string, { at: number; value: JobBaseline }>();
  private readonly seenTargets = new Map<string, { at: number; key: string }>();
  constructor(private readonly deps: AlertDeps) {
    this.defaults = deps.defaults ?? DEFAULT_THRESHOLDS;
    this.maxAgeMinutes = deps.maxAgeMinutes ?? 360;
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  private log(message: string): void {
    this.deps.log?.(message);
  }

  // ---- Evaluation ---------------------------------------------------------------------------

  /** Runs right after a batch is stored, with the events that were new. */
  async afterIngest(events: ProvisioningEvent[]): Promise<AlertRun> {
    const now = this.now();
    const byJob = new Map<string, ProvisioningEvent[]>();
    for (const e of events) {
      const key = this.deps.jobKeyOf(e);
      if (!byJob.has(key)) byJob.set(key, []);
      byJob.get(key)!.push(e);
    }
    const run: AlertRun = { evaluatedJobs: 0, changed: [], deliveries: [] };
    const perApp = await this.deps.thresholds.all();
    for (const [jobKey, list] of byJob) {
      const newest = list.reduce((a, e) => (e.activityDateTime > a ? e.activityDateTime : a), "");
      const app = appName(list.find((e) => e.activityDateTime === newest)!);
      // A silent job is over as soon as it produces anything.
      const silent = await this.deps.incidents.slot(jobKey, "silentJob");
      if (silent) {
        const resolved = resolveSilence(silent.value, newest, now);
        if (resolved) await this.commit(resolved, silent.etag, run);
      }
      if (Date.parse(now) - Date.parse(newest) > this.maxAgeMinutes * 60_000) continue;
      run.evaluatedJobs++;
      const t = thresholdsFor(app, perApp, this.defaults);
      const end = newest > now ? newest : now;
      for (const signal of await this.signals(jobKey, end, t)) await this.raise(signal, jobKey, app, t, run);
      await this.digest(jobKey, app, list, run);
    }
    await this.deliverAll(run);
    return run;
  }

  /** The timer: silent jobs, resolution of quiet incidents, retries and late subscribers. */
  async tick(): Promise<AlertRun> {
    const now = this.now();
    const run: AlertRun = { evaluatedJobs: 0, changed: [], deliveries: [] };
    const perApp = await this.deps.thresholds.all();
    const jobs = await this.deps.query.jobs(true);
    for (const job of jobs) {
      const t = thresholdsFor(job.app, perApp, this.defaults);
      const recent = job.lastAt > isoMinus(now, RECENT_ACTIVITY_DAYS * 1440) && job.cycleStarts.length >= 3;
      const signal = silentJob(job.lastAt, now, { failuresPerWindow: 0, removalsPerWindow: 0, cycleMinutes: usualCycleMinutes(job.cycleStarts) }, recent, t);
      if (signal) await this.raise(signal, job.jobKey, job.app, t, run);
    }
    const active = await this.deps.incidents.activeSlots(isoMinus(now, 24 * 60));
    for (const incident of active) {
      if (incident.rule === "newFailures" && incident.status === "open" && incident.openedAt < isoMinus(now, DIGEST_OPEN_HOURS * 60)) {
        await this.update(incident.jobKey, incident.rule, incident.id, run, (current) => {
          const left = current.affected.filter((a) => !a.resolvedAt).length;
          return { ...current, status: "resolved", resolvedAt: now, resolution: `Closed after ${DIGEST_OPEN_HOURS} hours; ${left} of the objects listed had not succeeded yet.`, version: current.version + 1 };
        });
        continue;
      }
      if (incident.status !== "open" || (incident.rule !== "failureSpike" && incident.rule !== "removalBurst")) continue;
      run.evaluatedJobs++;
      const t = thresholdsFor(incident.app, perApp, this.defaults);
      const firing = (await this.signals(incident.jobKey, now, t)).some((s) => s.rule === incident.rule);
      const slot = await this.deps.incidents.slot(incident.jobKey, incident.rule);
      if (!slot) continue;
      const resolved = resolveIfQuiet(slot.value, firing, now);
      if (resolved) await this.commit(resolved, slot.etag, run);
    }
    await this.deliverAll(run, active);
    return run;
  }

  private async signals(jobKey: string, end: string, t: Thresholds): Promise<Signal[]> {
    const from = isoMinus(end, t.windowMinutes);
    const rows = await this.deps.query.windowEvents(jobKey, from, isoPlus(end, 1), WINDOW_ROWS);
    const window = rows.map(windowEvent);
    const baseline = await this.baseline(jobKey, from, t.windowMinutes);
    return [failureSpike(window, baseline, t), removalBurst(window, baseline, t)].filter((s): s is Signal => s !== null);
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
  private async raise(signal: Signal, jobKey: string, app: string, t: Thresholds, run: AlertRun): Promise<void> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = await this.deps.incidents.slot(jobKey, signal.rule);
      const { next, change } = applySignal(current?.value ?? null, signal, { jobKey, app, now: this.now(), windowMinutes: t.windowMinutes });
      if (change === "none") return;
      const ok = current ? await this.deps.incidents.replaceSlot(next, current.etag) : await this.deps.incidents.createSlot(next);
      if (ok) {
        run.changed.push(next);
        this.log(`alert ${change}: ${next.id} (${next.count})`);
        return;
      }
      await jitter(attempt);
    }
    this.log(`alert for ${jobKey}/${signal.rule} not stored: too much contention`);
  }

  /** Read-modify-write of one incident under its ETag; `change` returns null when nothing changes. */
  private async update(jobKey: string, rule: AlertRule, id: string, run: AlertRun, change: (current: Incident) => Incident | null): Promise<Incident | null> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = await this.deps.incidents.slot(jobKey, rule, id);
      if (!current || current.value.id !== id) return null;
      const next = change(current.value);
      if (!next) return null;
      if (await this.deps.incidents.replaceSlot(next, current.etag)) {
        run.changed.push(next);
        return next;
      }
      await jitter(attempt);
    }
    return null;
  }

  private async commit(next: Incident, etag: string, run: AlertRun): Promise<boolean> {
    const ok = await this.deps.incidents.replaceSlot(next, etag);
    if (ok) run.changed.push(next);
    return ok;
  }

  /** New failures digest: one card per app per evaluation that found newly failing objects. */
  private async digest(jobKey: string, app: string, events: ProvisioningEvent[], run: AlertRun): Promise<void> {
    const digestEvents = events
      .filter((e) => e.status === "failure" || e.status === "success")
      .map((e) => ({ at: e.activityDateTime, identity: upnOf(e) ?? canonicalIdentityKey(e), name: e.sourceIdentity.displayName || e.targetIdentity.displayName || e.sourceIdentity.id, status: e.status, errorCode: e.error?.code ?? "" }));
    if (digestEvents.length === 0) return;
    const now = this.now();
    // Unique per evaluation: redelivered events never reach here (they are not new), so no dedupe key is needed.
    const incidentId = `newFailures|${jobKey}|${now}|${randomUUID().slice(0, 8)}`;
    for (let attempt = 0; attempt < 8; attempt++) {
      const state = await this.deps.incidents.digest(jobKey);
      const step = digestStep(state?.value ?? {}, digestEvents, incidentId);
      if (!(await this.deps.incidents.saveDigest(jobKey, step.open, state?.etag ?? null))) {
        await jitter(attempt);
        continue;
      }
      // Recurrences and resolutions update the cards that reported those objects.
      const touched = new Map<string, FailingObject[]>();
      for (const o of [...step.recurring, ...step.resolved]) touched.set(o.incidentId, [...(touched.get(o.incidentId) ?? []), o]);
      for (const [id, changed] of touched) {
        await this.update(jobKey, "newFailures", id, run, (current) => {
          const affected = current.affected.map((a) => {
            const o = changed.find((x) => x.identity === a.identity);
            return o ? { ...a, count: o.count, ...(o.resolvedAt ? { resolvedAt: o.resolvedAt } : {}) } : a;
          });
          if (JSON.stringify(affected) === JSON.stringify(current.affected)) return null;
          const allResolved = affected.every((a) => a.resolvedAt);
          return { ...current, affected, status: allResolved ? "resolved" : current.status, resolvedAt: allResolved ? now : current.resolvedAt, resolution: allResolved ? "Every object on this card has succeeded since." : current.resolution, version: current.version + 1 };
        });
      }
      if (step.fresh.length > 0) {
        const fresh = step.fresh.slice(0, 8);
        const codes = new Map<string, number>();
        for (const o of step.fresh) if (o.errorCode) codes.set(o.errorCode, (codes.get(o.errorCode) ?? 0) + 1);
        const incident: Incident = {
          id: incidentId,
          rule: "newFailures",
          jobKey,
          app,
          status: "open",
          count: step.fresh.length,
          baseline: 0,
          since: step.fresh.map((o) => o.firstAt).sort()[0]!,
          lastSeen: step.fresh.map((o) => o.lastAt).sort().pop()!,
          topErrors: [...codes.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 3),
          affected: fresh.map((o) => ({ identity: o.identity, name: o.name, count: o.count, errorCode: o.errorCode })),
          cycleId: null,
          stagedDeletes: 0,
          summary: `${step.fresh.length} object${step.fresh.length === 1 ? "" : "s"} started failing in ${app}.`,
          windowMinutes: this.defaults.windowMinutes,
          openedAt: now,
          version: 1,
          ackBy: null,
          ackAt: null,
          resolvedAt: null,
          resolution: null,
        };
        // Each digest is its own card (and row), so later recurrences and successes can update it.
        if (await this.deps.incidents.createSlot(incident)) run.changed.push(incident);
      }
      return;
    }
  }

  // ---- Delivery -----------------------------------------------------------------------------

  /** Delivers what changed in this run, and (on the timer) every active incident, newest version first. */
  private async deliverAll(run: AlertRun, active: Incident[] = []): Promise<void> {
    const incidents = new Map(run.changed.map((i) => [i.id, i]));
    for (const i of active) if (!incidents.has(i.id)) incidents.set(i.id, i);
    if (incidents.size === 0) return;
    const subs = await this.deps.subs.subscribed();
    for (const incident of incidents.values()) run.deliveries.push(...(await this.deliver(incident, subs)));
  }

  /**
   * Sends a new card to each subscribed conversation that wants it and has not had it, and brings
   * every card already sent up to the incident's version. The delivery row is the claim: only
   * the writer that creates it (or moves its ETag) talks to that conversation.
   */
  async deliver(incident: Incident, subs: Subscription[]): Promise<Delivered[]> {
    const now = this.now();
    const rows = new Map((await this.deps.incidents.deliveries(incident.id)).map((d) => [d.value.conversationId, d]));
    const targets = new Map<string, ConversationTarget>();
    for (const s of subs) {
      const wanted = incident.status === "open" && wants(s, incident.app, incident.rule, now);
      if (wanted || rows.has(s.target.conversationId)) targets.set(s.target.conversationId, s.target);
    }
    // A card already posted is kept up to date even where the conversation unsubscribed since.
    for (const id of rows.keys()) {
      if (targets.has(id)) continue;
      const known = await this.deps.subs.get(id);
      if (known?.target.serviceUrl) targets.set(id, known.target);
    }
    const out = await Promise.all([...targets.values()].map((target) => this.deliverTo(incident, target, rows.get(target.conversationId) ?? null)));
    return out;
  }

  private async deliverTo(incident: Incident, target: ConversationTarget, row: Versioned<Delivery> | null): Promise<Delivered> {
    const now = this.now();
    const base = { incidentId: incident.id, conversationId: target.conversationId };
    let claim: Versioned<Delivery> | null;
    if (!row) {
      claim = await this.deps.incidents.createDelivery({ ...base, state: "sending", activityId: null, version: incident.version, claimedAt: now, attempts: 0, nextAttemptAt: null, lastResult: "" });
    } else {
      const d = row.value;
      const stale = (d.state === "sending") && Date.parse(now) - Date.parse(d.claimedAt) > STALE_CLAIM_MS;
      const due = d.state === "pending" && (!d.nextAttemptAt || d.nextAttemptAt <= now);
      const behind = d.state === "sent" && d.version < incident.version;
      if (!stale && !due && !behind) return { ...base, action: "skipped" };
      claim = await this.deps.incidents.replaceDelivery({ ...d, state: "sending", version: incident.version, claimedAt: now }, row.etag);
    }
    if (!claim) return { ...base, action: "skipped" };
    const message = { kind: "card" as const, card: "alert" as const, viewModel: alertCard(incident, target.conversationType) };
    const activityId = claim.value.activityId;
    const result = activityId ? await this.deps.sender.update(target, activityId, message) : await this.deps.sender.send(target, message);
    const d = claim.value;
    const attempts = d.attempts + 1;
    let next: Delivery;
    switch (result.kind) {
      case "ok":
        next = { ...d, state: "sent", activityId: activityId ?? result.activityId, attempts: 0, nextAttemptAt: null, lastResult: "ok" };
        break;
      case "gone":
        next = { ...d, state: "gone", attempts, lastResult: `gone ${result.status}` };
        await this.uninstalled(target);
        this.log(`conversation ${target.conversationId} is gone (${result.status}); its subscription was removed`);
        break;
      case "throttled":
      case "transient": {
        const wait = result.kind === "throttled" ? result.retryAfterMs : Math.min(30 * 60_000, 60_000 * 2 ** Math.min(attempts - 1, 5));
        // Pending covers both a card not yet posted and an update not yet applied (activityId says which).
        next = { ...d, state: attempts >= MAX_ATTEMPTS ? "failed" : "pending", attempts, nextAttemptAt: isoPlus(this.now(), wait), lastResult: `${result.kind}: ${result.reason}` };
        break;
      }
      case "fatal":
        next = { ...d, state: "failed", attempts, lastResult: `fatal ${result.status}: ${result.reason}` };
        this.log(`alert to ${target.conversationId} failed: ${result.status} ${result.reason}`);
        break;
    }
    await this.deps.incidents.replaceDelivery(next, claim.etag);
    if (result.kind === "ok") {
      // The incident may have moved on while we were sending: bring the card up to date once.
      const latest = await this.deps.incidents.slot(incident.jobKey, incident.rule, incident.id);
      if (latest && latest.value.id === incident.id && latest.value.version > incident.version) {
        const again = (await this.deps.incidents.deliveries(incident.id)).find((x) => x.value.conversationId === target.conversationId) ?? null;
        await this.deliverTo(latest.value, target, again);
      }
    }
    return { ...base, action: activityId ? "updated" : "sent", result: result.kind };
  }

  // ---- Conversations, commands and card actions ---------------------------------------------

  async installed(target: ConversationTarget): Promise<void> {
    await this.deps.subs.touch(target, this.now());
    this.seenTargets.set(target.conversationId, { at: Date.parse(this.now()), key: JSON.stringify(target) });
  }

  /**
   * Every message refreshes where to reach its conversation, but a target this process wrote
   * unchanged within SEEN_CACHE_MS is not written again (one Table write per message otherwise).
   */
  async seen(target: ConversationTarget): Promise<void> {
    const known = this.seenTargets.get(target.conversationId);
    if (known && known.key === JSON.stringify(target) && Date.parse(this.now()) - known.at < SEEN_CACHE_MS) return;
    await this.installed(target);
  }

  async uninstalled(target: ConversationTarget): Promise<void> {
    this.seenTargets.delete(target.conversationId);
    await this.deps.subs.remove(target.conversationId);
  }

  async command(cmd: AlertCommand, target: ConversationTarget): Promise<Answer> {
    const now = this.now();
    // save() merges the target in, so the row exists afterwards even if seen() skipped its write.
    const sub = (await this.deps.subs.get(target.conversationId)) ?? newSubscription(target, now);
    // Commands are rare and must see a job that started sending a moment ago.
    const jobs = await this.deps.query.jobs(true);
    switch (cmd.kind) {
      case "invalid":
        return info(`Could not ${cmd.command}`, cmd.reason);
      case "alerts":
        return this.settings(sub, jobs);
      case "subscribe":
      case "unsubscribe": {
        const apps = resolveApps(cmd.apps, jobs);
        if ("unknown" in apps) return info("Unknown app", apps.unknown);
        const next = cmd.kind === "subscribe" ? subscribeTo(sub, apps.names, cmd.rules) : unsubscribeFrom(sub, apps.names, cmd.rules);
        await this.deps.subs.save({ ...next, target, updatedAt: now });
        return this.settings({ ...next, target }, jobs);
      }
      case "mute":
      case "unmute": {
        const apps = cmd.app ? resolveApps([cmd.app], jobs) : { names: ["*"] };
        if ("unknown" in apps) return info("Unknown app", apps.unknown);
        const key = apps.names[0] === "*" ? "*" : normaliseName(apps.names[0]!);
        const mutes = { ...sub.mutes };
        if (cmd.kind === "mute") mutes[key] = isoPlus(now, cmd.minutes * 60_000);
        else if (cmd.app) delete mutes[key];
        else for (const k of Object.keys(mutes)) delete mutes[k];
        await this.deps.subs.save({ ...sub, target, mutes, updatedAt: now });
        const label = apps.names[0] === "*" ? "All alerts" : `${apps.names[0]} alerts`;
        if (cmd.kind === "unmute") return info("Unmuted", `${cmd.app ? label : "All alerts"} reach this conversation again.`);
        return info("Muted", `${label} are muted in this conversation until ${minuteLabel(mutes[key]!)} UTC. Type "unmute${cmd.app ? ` ${apps.names[0]}` : ""}" to undo.`);
      }
      case "threshold": {
        const apps = resolveApps([cmd.app], jobs);
        if ("unknown" in apps) return info("Unknown app", apps.unknown);
        const app = apps.names[0]!;
        const perApp = await this.deps.thresholds.all();
        const current = thresholdsFor(app, perApp, this.defaults);
        const next = applyThreshold(current, cmd.setting, cmd.value);
        if (typeof next === "string") return info("Threshold not changed", next);
        const overrides = Object.fromEntries(Object.entries(next).filter(([k, v]) => this.defaults[k as keyof Thresholds] !== v)) as Partial<Thresholds>;
        await this.deps.thresholds.set(app, overrides);
        return this.settings(sub, jobs, [app]);
      }
    }
  }

  private async settings(sub: Subscription, jobs: JobInfo[], only?: string[]): Promise<Answer> {
    const perApp = await this.deps.thresholds.all();
    const apps = only ?? (sub.subscribed && sub.apps.length ? sub.apps : [...new Set(jobs.map((j) => j.app))].sort());
    const vm = settingsView(sub, apps.map((app) => ({ app, t: thresholdsFor(app, perApp, this.defaults) })), this.now());
    return { card: "info", viewModel: vm, text: [vm.title, vm.text, ...vm.facts.map((f) => `${f.title}: ${f.value}`)].join("\n") };
  }

  /** Acknowledge / Mute / Show affected, from the buttons on an alert card. */
  async action(data: Record<string, unknown>, target: ConversationTarget, from: ChatUser): Promise<Answer | null> {
    const ref = data as { action?: string; jobKey?: string; rule?: string; incident?: string; minutes?: number };
    if (!ref.jobKey || !ref.rule || !ALL_RULES.includes(ref.rule as AlertRule)) return info("Unknown alert", "This button does not name an alert provbot knows.");
    const now = this.now();
    const rule = ref.rule as AlertRule;
    const slot = await this.deps.incidents.slot(ref.jobKey, rule, ref.incident);
    const incident = slot && slot.value.id === ref.incident ? slot : null;
    switch (ref.action) {
      case "ack": {
        if (!incident) return info("Alert closed", "This alert has been replaced by a newer one for the same job; its card is no longer updated.");
        const run: AlertRun = { evaluatedJobs: 0, changed: [], deliveries: [] };
        const next = await this.update(ref.jobKey, rule, incident.value.id, run, (current) => acknowledge(current, from.name || from.id, now));
        // The card itself changes, for everyone who has it; already acknowledged: the card says by whom.
        if (next) await this.deliver(next, await this.deps.subs.subscribed());
        return null;
      }
      case "mute": {
        const app = slot?.value.app ?? "";
        return this.command({ kind: "mute", app: app || null, minutes: Number(ref.minutes) > 0 ? Number(ref.minutes) : 60 }, target);
      }
      case "affected": {
        const i = incident?.value ?? slot?.value;
        if (!i) return info("Alert closed", "provbot no longer keeps this alert.");
        return this.affected(i, target);
      }
      default:
        return info("Unknown action", "This button is not one provbot knows.");
    }
  }

  private async affected(i: Incident, target: ConversationTarget): Promise<Answer> {
    const removal = i.rule === "removalBurst";
    const { rows, more } = await this.deps.query.listEvents({
      jobKeys: [i.jobKey],
      from: i.since,
      to: isoPlus(i.lastSeen, 1),
      ...(removal ? { actions: REMOVAL_ACTIONS } : { status: "failure" as const }),
      limit: 10,
      offset: 0,
    });
    const items = rows
      .filter((r) => !removal || isRemoval(r.action, r.status))
      .map((r: EventRow) => ({ at: r.at, who: r.identityName || r.identity || "", app: i.app, action: r.action, status: r.status, errorCode: r.errorCode, changeId: r.changeId ?? "" }));
    const personal = target.conversationType === "personal";
    const subtitle = `${RULE_LABELS[i.rule]} · ${minuteLabel(i.since)} → ${minuteLabel(i.lastSeen)} UTC${more ? " · newest 10" : ""}${personal ? "" : " · select a row for details"}`;
    return eventList(`Affected · ${i.app}`, subtitle, items, null, "No matching events are stored any more.");
  }
}

function windowEvent(r: EventRow): WindowEvent {
  return { at: r.at, action: r.action, status: r.status, cycleId: r.cycleId ?? "", errorCode: r.errorCode, identity: r.identity || r.targetId || r.changeId || "", name: r.identityName || r.identity || "" };
}

function resolveApps(phrases: string[], jobs: JobInfo[]): { names: string[] } | { unknown: string } {
  const names: string[] = [];
  for (const p of phrases) {
    const m = matchApp(p, jobs);
    if (m.kind !== "jobs") {
      const known = [...new Set(jobs.map((j) => j.app))].sort().join(", ");
      const near = m.kind === "none" && m.near.length ? ` Did you mean ${m.near.join(" or ")}?` : "";
      return { unknown: `No provisioning job for "${p}" has sent events yet.${near} Known apps: ${known || "none yet"}.` };
    }
    for (const j of m.jobs) if (!names.includes(j.app)) names.push(j.app);
  }
  return { names };
}

function subscribeTo(sub: Subscription, apps: string[], rules: AlertRule[] | null): Subscription {
  const same = (a: string) => apps.some((x) => normaliseName(x) === normaliseName(a));
  // No apps named, or already subscribed to every app: every app (minus nothing named here).
  const everyApp = apps.length === 0 || (sub.subscribed && sub.apps.length === 0);
  const nextApps = everyApp ? [] : [...new Set([...(sub.subscribed ? sub.apps : []), ...apps])];
  const exceptApps = apps.length === 0 ? [] : sub.exceptApps.filter((a) => !same(a));
  // Rules add to what a subscribed conversation has; a first subscribe gets the defaults unless it
  // names rules, and "subscribe to digest" alone means the defaults plus the digest.
  const start = sub.subscribed ? sub.rules : rules === null || (rules.length === 1 && rules[0] === "newFailures") ? DEFAULT_RULES : [];
  return { ...sub, subscribed: true, apps: nextApps, exceptApps, rules: [...new Set([...start, ...(rules ?? [])])] };
}

function unsubscribeFrom(sub: Subscription, apps: string[], rules: AlertRule[] | null): Subscription {
  if (rules && apps.length === 0) {
    const left = sub.rules.filter((r) => !rules.includes(r));
    return { ...sub, rules: left, subscribed: sub.subscribed && left.length > 0 };
  }
  if (apps.length === 0) return { ...sub, subscribed: false };
  const same = (a: string) => apps.some((x) => normaliseName(x) === normaliseName(a));
  if (sub.apps.length === 0) return { ...sub, exceptApps: [...new Set([...sub.exceptApps, ...apps])] };
  const left = sub.apps.filter((a) => !same(a));
  return { ...sub, apps: left, subscribed: sub.subscribed && left.length > 0 };
}

function jitter(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, 10 + Math.random() * 40 * (attempt + 1)));
}
