import type { ProvisioningEvent } from "../../core/event";
import { MARKER_CHECK_MS } from "./markers";
import { normaliseName } from "../../core/names";
import { hourCount, totalOf, type HourCounts } from "../../core/counts";
import { dayBucket, hourStart } from "../../core/timeBuckets";
import type { EventRow, ExportQuery, IdentityCandidate, IdentityFilter, JobInfo, ListQuery, QueryStore } from "../../app/queryPorts";
import type { TableEventStore } from "./eventStore";
import type { JobStatusChange, StoredJobStatus } from "../../app/jobHealthPorts";
import type { ProvisioningAudit } from "../../core/jobs/audit";

/**
 * The read side, over the table modules of the write side (never their clients). Every answer is
 * a handful of point reads and key-range reads in the shards its time range touches:
 * - a changeId: one point read in the newest month of refs (a second in the month before), then
 *   the event (a point read);
 * - a person: two point reads in the directory, one range read per month of identities;
 * - a list page: one range read per month of counts, then one range read per day shard, from the
 *   newest, just far back enough to fill the page;
 * - statistics: the counts alone.
 */
const CACHE_MS = 60_000;
/** The most events read to count the hours a range cuts exactly (beyond, the count says "about"). */
const EDGE_READ = 5_000;

interface Marked<T> {
  at: number;
  checked: number;
  value: T;
  version: number;
  marker: string;
}
interface MarkedCaches {
  jobs: JobInfo[];
  statuses: StoredJobStatus[];
}

export class TableQueryStore implements QueryStore {
  private readonly caches: { [K in keyof MarkedCaches]?: Marked<MarkedCaches[K]> } = {};
  private namesCache: { at: number; value: IdentityCandidate[]; version: number } | null = null;

  /** What this process has written (events, job rows, statuses): a cache older than it is not used. */
  private localVersion(): number {
    return this.store.jobs.localVersion + this.store.statuses.localVersion;
  }

  /**
   * `ownTenant`: the deployment's own tenant. Rows stored without a tenant id (before stamping, or
   * from a source that had none) are read as its data, so that tenant scoping never shows them to
   * every tenant.
   */
  constructor(
    private readonly store: TableEventStore,
    private readonly now: () => number = Date.now,
    private readonly ownTenant = "",
  ) {}

  private owned<T extends { tenantId?: string | undefined }>(x: T): T {
    return x.tenantId || !this.ownTenant ? x : { ...x, tenantId: this.ownTenant };
  }

  async findIdentities(phrase: string): Promise<IdentityCandidate[]> {
    const value = normaliseName(phrase);
    return value ? (await this.store.directory.find(value)).map((c) => this.owned(c)) : [];
  }

  async allNames(): Promise<IdentityCandidate[]> {
    const version = this.localVersion();
    if (this.namesCache && this.namesCache.version === version && this.now() - this.namesCache.at < CACHE_MS) return this.namesCache.value;
    this.namesCache = { at: this.now(), value: (await this.store.directory.names()).map((c) => this.owned(c)), version };
    return this.namesCache.value;
  }

  /**
   * The jobs of stored events, and the jobs known only from their status (no event yet): cached
   * for a minute at most, and never older than what this process wrote, nor than the newest job or
   * status change another instance stored (their markers, checked every MARKER_CHECK_MS).
   */
  async jobs(fresh = false): Promise<JobInfo[]> {
    return this.marked("jobs", fresh, async () => {
      const [jobs, statuses] = await Promise.all([this.store.jobs.list(), this.jobStatuses(true)]);
      const known = new Set(jobs.map((j) => j.jobKey));
      const only = statuses.filter((s) => !known.has(s.jobKey)).map((s): JobInfo => ({ jobKey: s.jobKey, jobId: s.jobId, servicePrincipalId: s.servicePrincipalId, appId: "", app: s.appName || s.jobId, sourceSystem: "", targetSystem: s.appName, firstAt: "", lastAt: "", lastCycleId: "", cycleStarts: [], tenantId: s.tenantId, statusOnly: true }));
      return [...jobs, ...only].map((j) => this.owned(j));
    });
  }

  /** Every job's latest status, cached like the jobs. */
  async jobStatuses(fresh = false): Promise<StoredJobStatus[]> {
    return this.marked("statuses", fresh, async () => (await this.store.statuses.all()).map((r) => this.owned(r)));
  }

  /** Both markers as one value: a new job or a changed status anywhere moves it. */
  private async markers(): Promise<string> {
    const [jobs, statuses] = await Promise.all([this.store.jobs.marker(), this.store.statuses.marker()]);
    return `${jobs}|${statuses}`;
  }

  /** One cache discipline for the job list and the statuses (see `jobs`). */
  private async marked<K extends keyof MarkedCaches>(key: K, fresh: boolean, load: () => Promise<MarkedCaches[K]>): Promise<MarkedCaches[K]> {
    const version = this.localVersion();
    const c = this.caches[key] as Marked<MarkedCaches[K]> | undefined;
    if (!fresh && c && c.version === version && this.now() - c.at < CACHE_MS) {
      if (this.now() - c.checked < MARKER_CHECK_MS) return c.value;
      const marker = await this.markers();
      c.checked = this.now();
      if (marker === c.marker) return c.value;
    }
    // The markers first: a change made while loading moves them again, and is seen at the next check.
    const marker = await this.markers();
    const value = await load();
    (this.caches as Record<K, Marked<MarkedCaches[K]>>)[key] = { at: this.now(), checked: this.now(), value, version, marker };
    return value;
  }

  statusHistory(jobKey: string, limit: number): Promise<JobStatusChange[]> {
    return this.store.statuses.history(jobKey, limit);
  }

  audits(servicePrincipalId: string, from: string, to: string, limit: number): Promise<ProvisioningAudit[]> {
    return this.store.audits.list(servicePrincipalId, from, to, limit);
  }

  async identityEvents(identityKey: string, from: string, to: string, limit: number, filter: IdentityFilter = {}): Promise<EventRow[]> {
    return this.store.identityRows(identityKey, from, to, limit, filter);
  }

  async lastKnownState(identityKey: string, jobKey: string, now: string): Promise<EventRow | null> {
    return this.store.lastKnownState(identityKey, jobKey, now);
  }

  async getEvent(epk: string, erk: string): Promise<ProvisioningEvent | null> {
    const e = await this.store.events.get(epk, erk);
    return e && this.owned(e);
  }

  async getByChangeId(changeId: string): Promise<ProvisioningEvent[]> {
    return (await this.store.getByChangeId(changeId)).map((e) => this.owned(e));
  }

  cycle(cycleId: string): Promise<{ jobKey: string; at: string } | null> {
    return this.store.cycle(cycleId);
  }

  async cycleEvents(jobKey: string, cycleId: string, around: string, limit: number): Promise<EventRow[]> {
    const t = Date.parse(around);
    const rows = await this.store.events.range([jobKey], new Date(t - 2 * 3_600_000).toISOString(), new Date(t + 2 * 3_600_000).toISOString(), { cycleId });
    return rows.slice(0, limit);
  }

  async listEvents(q: ListQuery): Promise<{ rows: EventRow[]; more: boolean; total: number; exact: boolean }> {
    // 1. Which hours hold matching events? The counts answer with one read per month.
    const counts = await this.counts(q.jobKeys, q.from, q.to);
    // 2. From the newest hour back, just far enough that the page (and one more) is surely in it.
    const want = q.offset + q.limit + 1;
    const perHour = new Map<string, number>();
    for (const c of counts) {
      const n = hourCount(c, q);
      if (n > 0) perHour.set(c.hour, (perHour.get(c.hour) ?? 0) + n);
    }
    const hours = [...perHour.keys()].sort().reverse();
    let floorHour = hours[hours.length - 1];
    let seen = 0;
    for (const h of hours) {
      seen += perHour.get(h)!;
      if (seen >= want) {
        floorHour = h;
        break;
      }
    }
    const { total, exact } = totalOf(counts, q);
    if (floorHour === undefined) return { rows: [], more: false, total, exact };
    // The counts know no reference problems: with that filter the whole range is read (newest first, stopping at the page).
    const floor = !q.referenceProblem && hourStart(floorHour) > q.from ? hourStart(floorHour) : q.from;
    // 3. One range read per day shard in [floor, to), newest first.
    // The days the counts say hold matching events are read whatever the shard list says, so the
    // rows never contradict the total (a day backfilled through another instance a moment ago).
    const rows = await this.store.events.range(q.jobKeys, floor, q.to, q, (found) => found.length >= want, daysHolding(counts, q));
    rows.sort((a, b) => b.at.localeCompare(a.at) || a.erk.localeCompare(b.erk));
    const page = rows.slice(q.offset, q.offset + q.limit + 1);
    return { rows: page.slice(0, q.limit), more: page.length > q.limit, total: page.length > 0 ? Math.max(total, q.offset + page.length) : total, exact };
  }

  /**
   * How many events match: the hourly counts for the hours wholly inside [from, to), and the
   * events themselves for the hour cut at each end (at most EDGE_READ of them), so a count said
   * without "about" is exact. With an error code the counts keep each hour's top codes only: "about".
   */
  async countEvents(q: Omit<ListQuery, "limit" | "offset">): Promise<{ total: number; exact: boolean }> {
    const counts = await this.counts(q.jobKeys, q.from, q.to);
    if (q.errorCode) return totalOf(counts, q);
    const from = Date.parse(q.from);
    const to = Date.parse(q.to);
    const HOUR = 3_600_000;
    const edges: [number, number][] = [];
    const firstWhole = Math.ceil(from / HOUR) * HOUR;
    const lastWhole = Math.floor(to / HOUR) * HOUR;
    if (firstWhole >= lastWhole) edges.push([from, to]);
    else {
      if (from < firstWhole) edges.push([from, firstWhole]);
      if (lastWhole < to) edges.push([lastWhole, to]);
    }
    const inEdge = (hourMs: number) => edges.some(([a, b]) => hourMs < b && hourMs + HOUR > a);
    let total = 0;
    let edgeHours = 0;
    for (const c of counts) {
      const n = hourCount(c, q);
      if (inEdge(Date.parse(hourStart(c.hour)))) edgeHours += n;
      else total += n;
    }
    if (edgeHours === 0) return { total, exact: true };
    if (edgeHours > EDGE_READ) return totalOf(counts, q);
    const holds = daysHolding(counts, q);
    for (const [a, b] of edges) total += (await this.store.events.range(q.jobKeys, new Date(a).toISOString(), new Date(b).toISOString(), q, undefined, holds)).length;
    return { total, exact: true };
  }

  async windowEvents(jobKey: string, from: string, to: string, limit: number): Promise<EventRow[]> {
    const rows = await this.store.events.range([jobKey], from, to, {}, (found) => found.length >= limit);
    return rows.slice(0, limit);
  }

  async *exportEvents(q: ExportQuery): AsyncIterable<ProvisioningEvent> {
    for await (const e of this.store.events.stream(q.jobKeys, q.from, q.to, q)) yield this.owned(e);
  }

  counts(jobKeys: string[] | null, from: string, to: string): Promise<HourCounts[]> {
    return this.store.counts.read(jobKeys, from, to);
  }
}

/** The day shards that the hourly counts say hold events matching the query. */
function daysHolding(counts: HourCounts[], q: Parameters<typeof hourCount>[1]): Set<string> {
  return new Set(counts.filter((c) => hourCount(c, q) > 0).map((c) => dayBucket(hourStart(c.hour))));
}
