import { isRemoval } from "../core/counts";
import { dayLabel, hourBucket, hourStart } from "../core/timeBuckets";
import { remedyFor } from "../core/remediation";
import { explainSkip } from "../core/ask/views";
import { provisioningPageUrl, appIds } from "../core/portalLinks";
import { appName, type ProvisioningEvent } from "../core/event";
import { inScopeText, lastCycleText, quarantineText, severity, verdictWord } from "../core/jobs/report";
import type { CountRow, EventRow, JobInfo, QueryStore } from "./queryPorts";
import { listRequest } from "./listRequest";
import { matchIdentity } from "./resolve";

/**
 * The tab's data (`GET /api/dashboard/<view>`): the same query layer as the bot's answers, as JSON
 * for the page to draw. Each view reads only the time range and filters chosen.
 */
export const MAX_DASHBOARD_DAYS = 31;
const MIN_TREND_EVENTS = 20;
const PAGE = 25;

export type DashboardResult = { status: 200; body: unknown } | { status: 400 | 404; body: { error: string } };

const failed = (status: 400 | 404, error: string): DashboardResult => ({ status, body: { error } });

interface Tally {
  events: number;
  failures: number;
  skipped: number;
  removals: number;
}

function tally(rows: CountRow[]): Tally {
  const t = { events: 0, failures: 0, skipped: 0, removals: 0 };
  for (const r of rows) {
    t.events += r.total;
    for (const c of r.cells) {
      if (c.status === "failure") t.failures += c.n;
      if (c.status === "skipped") t.skipped += c.n;
      if (isRemoval(c.action, c.status)) t.removals += c.n;
    }
  }
  return t;
}

const share = (n: number, of: number) => (of > 0 ? n / of : 0);

/**
 * An app's failure-rate trend: against the previous period of the same length when it has a
 * sample (MIN_TREND_EVENTS events), else the second half of the job's data in the range against its
 * first half (a new tenant, or a job younger than the range); null when a half has no sample.
 */
export function trendOf(previous: Tally, rows: CountRow[], from: string, to: string): { earlier: number; later: number; basis: "previous period" | "first half of its data in the range" } | null {
  const all = tally(rows);
  if (previous.events >= MIN_TREND_EVENTS) return { earlier: share(previous.failures, previous.events), later: share(all.failures, all.events), basis: "previous period" };
  // The halves of the time the job has data in the range (a job younger than the range is split over its own life).
  const firstHour = rows.reduce((m, c) => (c.hour < m ? c.hour : m), hourBucket(to));
  const start = Math.max(Date.parse(from), Date.parse(hourStart(firstHour)));
  const middle = hourBucket(new Date((start + Date.parse(to)) / 2).toISOString());
  const first = tally(rows.filter((c) => c.hour < middle));
  const second = tally(rows.filter((c) => c.hour >= middle));
  if (first.events < MIN_TREND_EVENTS || second.events < MIN_TREND_EVENTS) return null;
  return { earlier: share(first.failures, first.events), later: share(second.failures, second.events), basis: "first half of its data in the range" };
}

/** Overview: tiles, events over time by action and by status, top errors, and a row per app. */
export async function overview(params: Record<string, string>, store: QueryStore, now: Date): Promise<DashboardResult> {
  const r = await listRequest(params, store, now, MAX_DASHBOARD_DAYS);
  if (!r.ok) return failed(r.status, r.error);
  const { from, to } = r.query;
  const span = Date.parse(to) - Date.parse(from);
  const before = new Date(Date.parse(from) - span).toISOString();
  const [counts, earlier, statuses] = await Promise.all([store.counts(r.query.jobKeys, from, to), store.counts(r.query.jobKeys, before, from), store.jobStatuses()]);
  // The previous period of the same length, for the trend: its own hours only (counts are hourly).
  const firstHour = hourBucket(from);
  const previous = earlier.filter((c) => c.hour < firstHour);
  const totals = tally(counts);
  // Buckets: hours for up to two days, else days.
  const hourly = span <= 2 * 86_400_000;
  const buckets = new Map<string, { byAction: Record<string, number>; byStatus: Record<string, number> }>();
  for (const c of counts) {
    const key = hourly ? hourStart(c.hour) : dayLabel(c.hour);
    const b = buckets.get(key) ?? { byAction: {}, byStatus: {} };
    for (const cell of c.cells) {
      b.byAction[cell.action] = (b.byAction[cell.action] ?? 0) + cell.n;
      b.byStatus[cell.status] = (b.byStatus[cell.status] ?? 0) + cell.n;
    }
    buckets.set(key, b);
  }
  const errors = new Map<string, { count: number; lastHour: string; apps: Set<string> }>();
  const name = (k: string) => r.jobs.find((j) => j.jobKey === k)?.app ?? k;
  for (const c of counts) {
    for (const [code, n] of Object.entries(c.errors)) {
      const e = errors.get(code) ?? { count: 0, lastHour: "", apps: new Set<string>() };
      e.count += n;
      if (c.hour > e.lastHour) e.lastHour = c.hour;
      e.apps.add(name(c.jobKey));
      errors.set(code, e);
    }
  }
  const apps = r.jobs.map((j) => {
    const mine = counts.filter((c) => c.jobKey === j.jobKey);
    const t = tally(mine);
    const p = tally(previous.filter((c) => c.jobKey === j.jobKey));
    const s = statuses.find((x) => x.jobKey === j.jobKey);
    return {
      app: j.app,
      jobKey: j.jobKey,
      jobId: j.jobId,
      status: s ? verdictWord(s.status) : null,
      severity: s ? severity(s.status) : 5,
      quarantine: s ? quarantineText(s.status) : null,
      lastCycle: s ? lastCycleText(s.status) : null,
      inScope: s ? inScopeText(s.status) : null,
      statusCheckedAt: s?.checkedAt ?? null,
      lastEventAt: j.lastAt || null,
      events: t.events,
      failureRate: share(t.failures, t.events),
      skippedShare: share(t.skipped, t.events),
      trend: trendOf(p, mine, from, to),
      portalUrl: provisioningPageUrl(j.servicePrincipalId ?? "", j.appId ?? ""),
    };
  });
  // Worst first: the job status's severity, then the failure rate.
  apps.sort((a, b) => a.severity - b.severity || b.failureRate - a.failureRate || a.app.localeCompare(b.app));
  return {
    status: 200,
    body: {
      from,
      to,
      bucket: hourly ? "hour" : "day",
      tiles: { events: totals.events, failures: totals.failures, failureRate: share(totals.failures, totals.events), skippedShare: share(totals.skipped, totals.events), removals: totals.removals, successRate: share(totals.events - totals.failures - totals.skipped, totals.events - totals.skipped) },
      series: [...buckets.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([at, b]) => ({ at, ...b })),
      topErrors: [...errors.entries()]
        .sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]))
        .slice(0, 10)
        .map(([code, e]) => ({ code, count: e.count, lastSeen: hourStart(e.lastHour), apps: [...e.apps], fix: remedyFor(code, null, null).fix })),
      apps,
    },
  };
}

function row(r: EventRow, jobs: JobInfo[]) {
  return { at: r.at, app: jobs.find((j) => j.jobKey === r.jobKey)?.app ?? r.jobKey, jobKey: r.jobKey, action: r.action, status: r.status, errorCode: r.errorCode, identity: r.identity ?? "", name: r.identityName ?? "", identityType: r.identityType ?? "", changeId: r.changeId ?? "", cycleId: r.cycleId ?? "", ref: { pk: r.epk, rk: r.erk } };
}

/** Events: a page of the list with the portal's filters, or one person's events (`identity`). */
export async function events(params: Record<string, string>, store: QueryStore, now: Date): Promise<DashboardResult> {
  const r = await listRequest(params, store, now, MAX_DASHBOARD_DAYS);
  if (!r.ok) return failed(r.status, r.error);
  const page = Math.max(1, Math.min(1000, Number(params["page"] ?? 1) || 1));
  const identity = (params["identity"] ?? "").trim().slice(0, 300);
  if (identity) {
    const m = await matchIdentity(identity, store);
    if (m.kind !== "one") return { status: 200, body: { page, total: 0, rows: [], candidates: m.kind === "many" ? m.candidates.map((c) => ({ name: c.displayName, identity: c.identity })) : [], near: m.kind === "none" ? m.near.map((c) => c.displayName) : [] } };
    const keys = [m.who.identityKey, ...(m.who.otherKeys ?? [])];
    const wanted = new Set(r.query.jobKeys);
    const rows = (await Promise.all(keys.map((k) => store.identityEvents(k, r.query.from, r.query.to, 500))))
      .flat()
      .filter((x) => wanted.has(x.jobKey) && (!r.query.status || x.status === r.query.status) && (!r.query.actions || r.query.actions.includes(x.action)) && (!r.query.cycleId || x.cycleId === r.query.cycleId) && (!r.query.errorCode || x.errorCode === r.query.errorCode))
      .sort((a, b) => b.at.localeCompare(a.at));
    // The last known state per app, kept past retention (the state table), as the bot's "is X provisioned" reads it.
    const states = (
      await Promise.all(
        r.jobs.slice(0, 30).map(async (j) => {
          const found = (await Promise.all(keys.map((k) => store.lastKnownState(k, j.jobKey, r.query.to)))).filter((x): x is EventRow => x !== null).sort((a, b) => b.at.localeCompare(a.at))[0];
          return found ? { app: j.app, action: found.action, status: found.status, at: found.at, errorCode: found.errorCode } : null;
        }),
      )
    ).filter((x) => x !== null);
    return { status: 200, body: { page, total: rows.length, exact: true, person: { name: m.who.displayName, identity: m.who.identity }, states, rows: rows.slice((page - 1) * PAGE, page * PAGE).map((x) => row(x, r.jobs)) } };
  }
  const changeId = (params["changeId"] ?? "").trim().slice(0, 300);
  if (changeId) {
    const wanted = new Set(r.query.jobKeys);
    const found = (await store.getByChangeId(changeId)).filter((e) => wanted.has(jobKeyOf(e, r.jobs)));
    const rows = found.map((e) => ({ at: e.activityDateTime, app: appName(e), jobKey: jobKeyOf(e, r.jobs), action: e.action, status: e.status, errorCode: e.error?.code ?? "", identity: e.sourceIdentity.details["UserPrincipalName"] ?? e.sourceIdentity.id, name: e.sourceIdentity.displayName, identityType: e.sourceIdentity.identityType, changeId: e.changeId, cycleId: e.cycleId, ref: { pk: "", rk: "" } }));
    return { status: 200, body: { page: 1, total: rows.length, exact: true, rows } };
  }
  if (r.query.cycleId) {
    const rows: EventRow[] = [];
    for (const k of r.query.jobKeys) rows.push(...(await store.windowEvents(k, r.query.from, r.query.to, 5_000)).filter((x) => x.cycleId === r.query.cycleId));
    const filtered = rows.filter((x) => (!r.query.status || x.status === r.query.status) && (!r.query.actions || r.query.actions.includes(x.action))).sort((a, b) => b.at.localeCompare(a.at));
    return { status: 200, body: { page, total: filtered.length, exact: true, rows: filtered.slice((page - 1) * PAGE, page * PAGE).map((x) => row(x, r.jobs)) } };
  }
  const list = await store.listEvents({ ...r.query, limit: PAGE, offset: (page - 1) * PAGE });
  return { status: 200, body: { page, total: list.total, exact: list.exact, more: list.more, rows: list.rows.map((x) => row(x, r.jobs)) } };
}

/** The stored job key of an event (the jobs list knows it by job id and service principal). */
function jobKeyOf(e: ProvisioningEvent, jobs: JobInfo[]): string {
  return jobs.find((j) => j.jobId === e.jobId && (!j.servicePrincipalId || j.servicePrincipalId === e.servicePrincipal.id))?.jobKey ?? jobs.find((j) => j.jobId === e.jobId)?.jobKey ?? "";
}

/**
 * Objects touched in the range: distinct people and groups, counted from the events' summary
 * rows. Loaded apart from the overview (it reads every event of the range), and only up to
 * OBJECTS_LIMIT events: beyond that the tile says so rather than guess.
 */
export const OBJECTS_LIMIT = 20_000;

export async function objects(params: Record<string, string>, store: QueryStore, now: Date): Promise<DashboardResult> {
  const r = await listRequest(params, store, now, MAX_DASHBOARD_DAYS);
  if (!r.ok) return failed(r.status, r.error);
  const { total } = await store.countEvents(r.query);
  if (total > OBJECTS_LIMIT) return { status: 200, body: { objects: null, events: total, limit: OBJECTS_LIMIT } };
  const seen = new Set<string>();
  for (const k of r.query.jobKeys) for (const e of await store.windowEvents(k, r.query.from, r.query.to, OBJECTS_LIMIT)) seen.add(e.identity || e.targetId || e.changeId || e.erk);
  return { status: 200, body: { objects: seen.size, events: total, limit: OBJECTS_LIMIT } };
}

/** One event with the portal's four sections, the remedy and the app's provisioning page. */
export async function event(params: Record<string, string>, store: QueryStore): Promise<DashboardResult> {
  const changeId = (params["changeId"] ?? "").slice(0, 300);
  let e: ProvisioningEvent | null = null;
  if (params["pk"] && params["rk"]) e = await store.getEvent(params["pk"].slice(0, 1000), params["rk"].slice(0, 1000));
  else if (changeId) e = (await store.getByChangeId(changeId))[0] ?? null;
  else return failed(400, "changeId, or pk and rk, is needed");
  if (!e) return failed(404, "no such event is stored (the retention period may have passed)");
  const ids = appIds(e);
  const remedy = e.error ? remedyFor(e.error.code, e.error.category, e.error.httpStatus) : null;
  return {
    status: 200,
    body: {
      summary: { at: e.activityDateTime, app: appName(e), action: e.action, status: e.status, changeId: e.changeId, cycleId: e.cycleId, jobId: e.jobId, durationMs: e.durationMs, initiatedBy: e.initiatedBy.displayName, source: e.sourceIdentity, target: e.targetIdentity, sourceSystem: e.sourceSystem.displayName, targetSystem: e.targetSystem.displayName },
      steps: e.steps,
      // A skip is not an error: why it was skipped, in words (scope, in sync, held back).
      skip: e.status === "skipped" || e.action === "stagedDelete" ? explainSkip(e) : null,
      troubleshooting: e.error ? { code: e.error.code, category: e.error.category, reason: e.error.reason, recommendedAction: e.error.recommendedAction, cause: remedy?.cause ?? "", fix: remedy?.fix ?? "", retry: remedy?.retry ?? null, learnMore: remedy?.learnMore ?? null } : null,
      modifiedProperties: e.modifiedProperties,
      portalUrl: provisioningPageUrl(ids.servicePrincipalId, ids.appId),
    },
  };
}

/** Cycles of the selected jobs: time, counts by action and status, newest first. */
export async function cycles(params: Record<string, string>, store: QueryStore, now: Date): Promise<DashboardResult> {
  const r = await listRequest(params, store, now, MAX_DASHBOARD_DAYS);
  if (!r.ok) return failed(r.status, r.error);
  const out = new Map<string, { cycleId: string; app: string; jobKey: string; first: string; last: string; events: number; byAction: Record<string, number>; byStatus: Record<string, number> }>();
  for (const j of r.jobs.slice(0, 20)) {
    for (const e of await store.windowEvents(j.jobKey, r.query.from, r.query.to, 5_000)) {
      if (!e.cycleId) continue;
      const key = `${j.jobKey}|${e.cycleId}`;
      const c = out.get(key) ?? { cycleId: e.cycleId, app: j.app, jobKey: j.jobKey, first: e.at, last: e.at, events: 0, byAction: {}, byStatus: {} };
      c.events++;
      if (e.at < c.first) c.first = e.at;
      if (e.at > c.last) c.last = e.at;
      c.byAction[e.action] = (c.byAction[e.action] ?? 0) + 1;
      c.byStatus[e.status] = (c.byStatus[e.status] ?? 0) + 1;
      out.set(key, c);
    }
  }
  return { status: 200, body: { cycles: [...out.values()].sort((a, b) => b.first.localeCompare(a.first)).slice(0, 200) } };
}
