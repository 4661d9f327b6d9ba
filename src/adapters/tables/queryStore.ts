import { odata } from "@azure/data-tables";
import type { ProvisioningEvent } from "../../core/event";
import { normaliseName } from "../../core/names";
import type { CountRow, EventRow, IdentityCandidate, JobInfo, ListQuery, QueryStore } from "../../app/queryPorts";
import { fromEventEntity } from "./eventEntity";
import type { TableEventStore } from "./eventStore";
import { DIRECTORY_BUCKETS, bucket, dayBucket, hourBucketsBetween, keyPart, keys, prefixUpperBound } from "./keys";

/**
 * The read side: every question is answered with a handful of key-range reads. Lists of one job in
 * a time range read only the job-hours whose counts row says they hold matching events, newest
 * first, and stop once the page is full, so their cost does not grow with the store.
 */
const CACHE_MS = 60_000;
const ALIAS_KINDS = ["u", "l", "n", "g", "i"] as const;

export class TableQueryStore implements QueryStore {
  private jobsCache: { at: number; value: JobInfo[] } | null = null;
  private namesCache: { at: number; value: IdentityCandidate[] } | null = null;

  constructor(
    private readonly store: TableEventStore,
    private readonly retentionDays: number,
    private readonly now: () => number = Date.now,
  ) {}

  async findIdentities(phrase: string): Promise<IdentityCandidate[]> {
    await this.store.init();
    const value = normaliseName(phrase);
    if (!value) return [];
    const out = new Map<string, IdentityCandidate>();
    await Promise.all(
      ALIAS_KINDS.map(async (kind) => {
        const pk = `dir|${kind}|${bucket(value, DIRECTORY_BUCKETS)}`;
        const prefix = `${keyPart(value)}|`;
        for await (const row of this.store.directory.listEntities<Record<string, string>>({
          queryOptions: { filter: odata`PartitionKey eq ${pk} and RowKey ge ${prefix} and RowKey lt ${prefixUpperBound(prefix)}` },
        })) {
          const key = row["identityKey"] ?? "";
          if (!out.has(key)) out.set(key, { identityKey: key, displayName: row["displayName"] ?? "", identity: row["identity"] ?? "", identityType: row["identityType"] ?? "", matchedBy: kind });
        }
      }),
    );
    return [...out.values()];
  }

  async allNames(): Promise<IdentityCandidate[]> {
    if (this.namesCache && this.now() - this.namesCache.at < CACHE_MS) return this.namesCache.value;
    await this.store.init();
    const out = new Map<string, IdentityCandidate>();
    for (const kind of ["n", "g"]) {
      for await (const row of this.store.directory.listEntities<Record<string, string>>({
        queryOptions: { filter: odata`PartitionKey ge ${`dir|${kind}|`} and PartitionKey lt ${`dir|${kind}|~`}` },
      })) {
        const alias = String(row["rowKey"] ?? "").split("|")[0] ?? "";
        out.set(`${kind}|${alias}|${row["identityKey"]}`, { identityKey: row["identityKey"] ?? "", displayName: row["displayName"] ?? "", identity: row["identity"] ?? "", identityType: row["identityType"] ?? "", matchedBy: decodeURIComponent(alias) });
      }
    }
    this.namesCache = { at: this.now(), value: [...out.values()] };
    return this.namesCache.value;
  }

  async jobs(fresh = false): Promise<JobInfo[]> {
    if (!fresh && this.jobsCache && this.now() - this.jobsCache.at < CACHE_MS) return this.jobsCache.value;
    await this.store.init();
    const out: JobInfo[] = [];
    for await (const j of this.store.jobs.listEntities<Record<string, string>>({ queryOptions: { filter: odata`PartitionKey eq ${"job"}` } })) {
      out.push({
        jobKey: String(j["rowKey"]),
        jobId: j["jobId"] ?? "",
        servicePrincipalId: j["servicePrincipalId"] ?? "",
        appId: j["appId"] ?? "",
        app: j["app"] ?? "",
        sourceSystem: j["sourceSystem"] ?? "",
        targetSystem: j["targetSystem"] ?? "",
        firstAt: j["firstAt"] ?? "",
        lastAt: j["lastAt"] ?? "",
        lastCycleId: j["lastCycleId"] ?? "",
        cycleStarts: parseCycles(j["cycles"]),
      });
    }
    this.jobsCache = { at: this.now(), value: out };
    return out;
  }

  async identityEvents(identityKey: string, from: string, to: string, limit: number): Promise<EventRow[]> {
    const rows = await this.store.identityRows(identityKey, from, to, limit);
    return rows.map((r) => ({ ...r, action: r.action as EventRow["action"], status: r.status as EventRow["status"] }));
  }

  async lastKnownState(identityKey: string, jobKey: string, now: string): Promise<EventRow | null> {
    const r = await this.store.lastKnownState(identityKey, jobKey, now, this.retentionDays);
    return r ? { ...r, action: r.action as EventRow["action"], status: r.status as EventRow["status"] } : null;
  }

  async getEvent(epk: string, erk: string): Promise<ProvisioningEvent | null> {
    const entity = await this.store.events.getEntity<Record<string, unknown>>(epk, erk).catch(() => null);
    return entity ? fromEventEntity(entity) : null;
  }

  getByChangeId(changeId: string): Promise<ProvisioningEvent[]> {
    return this.store.getByChangeId(changeId);
  }

  async cycle(cycleId: string): Promise<{ jobKey: string; at: string } | null> {
    await this.store.init();
    const k = keys.cycleRef(cycleId);
    const row = await this.store.refs.getEntity<{ jobKey: string; at: string }>(k.partitionKey, k.rowKey).catch(() => null);
    return row ? { jobKey: row.jobKey, at: row.at } : null;
  }

  async cycleEvents(jobKey: string, cycleId: string, around: string, limit: number): Promise<EventRow[]> {
    const t = Date.parse(around);
    const hours = hourBucketsBetween(new Date(t - 2 * 3_600_000).toISOString(), new Date(t + 2 * 3_600_000).toISOString());
    const out: EventRow[] = [];
    for (const hour of hours) {
      for await (const e of this.store.events.listEntities<Record<string, unknown>>({
        queryOptions: { filter: odata`PartitionKey eq ${keys.eventPartition(jobKey, hour)} and cycleId eq ${cycleId}`, select: SUMMARY_COLUMNS },
      })) {
        out.push(rowOf(e));
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  async listEvents(q: ListQuery): Promise<{ rows: EventRow[]; more: boolean; total: number; exact: boolean }> {
    await this.store.init();
    // 1. Which job-hours hold matching events? The counts rows answer with one read per day.
    const counts = await this.counts(q.jobKeys, q.from, q.to);
    // Groups are counted apart, so a question about groups (or users) skips hours without any.
    const matches = (c: CountRow) =>
      (!q.errorCode || (c.errors[q.errorCode] ?? 0) > 0) &&
      Object.entries(c.byActionStatus).some(([k, all]) => {
        const [action, status] = k.split("_");
        const groups = c.groupsByActionStatus[k] ?? 0;
        const n = q.identityType === "Group" ? groups : q.identityType === "User" ? all - groups : all;
        return n > 0 && (!q.actions || q.actions.includes(action as EventRow["action"])) && (!q.status || q.status === status);
      });
    const buckets = counts.filter(matches).sort((a, b) => (a.hour === b.hour ? a.jobKey.localeCompare(b.jobKey) : b.hour.localeCompare(a.hour)));
    // 2. Read those partitions newest first until the page is full, a few hours in flight at once.
    const out: EventRow[] = [];
    let skipped = 0;
    const want = q.offset + q.limit + 1;
    const hours = [...new Set(buckets.map((b) => b.hour))];
    const readHour = async (hour: string): Promise<EventRow[]> => {
      const rows: EventRow[] = [];
      await Promise.all(
        buckets
          .filter((b) => b.hour === hour)
          .map(async (b) => {
            let filter = odata`PartitionKey eq ${keys.eventPartition(b.jobKey, b.hour)} and at ge ${q.from} and at lt ${q.to}`;
            if (q.status) filter += ` and ${odata`status eq ${q.status}`}`;
            if (q.actions) filter += ` and (${q.actions.map((a) => odata`action eq ${a}`).join(" or ")})`;
            if (q.identityType) filter += ` and ${odata`identityType eq ${q.identityType}`}`;
            if (q.errorCode) filter += ` and ${odata`errorCode eq ${q.errorCode}`}`;
            for await (const e of this.store.events.listEntities<Record<string, unknown>>({ queryOptions: { filter, select: SUMMARY_COLUMNS } })) rows.push(rowOf(e));
          }),
      );
      return rows.sort((a, b) => b.at.localeCompare(a.at));
    };
    const WINDOW = 6;
    for (let i = 0; i < hours.length && skipped + out.length < want; i += WINDOW) {
      const groups = await Promise.all(hours.slice(i, i + WINDOW).map(readHour));
      for (const group of groups) {
        for (const r of group) {
          if (skipped < q.offset) skipped++;
          else out.push(r);
        }
        if (skipped + out.length >= want) break;
      }
    }
    const { total, exact } = totalOf(counts, q);
    return { rows: out.slice(0, q.limit), more: out.length > q.limit, total: Math.max(total, q.offset + out.length), exact };
  }

  async countEvents(q: Omit<ListQuery, "limit" | "offset">): Promise<{ total: number; exact: boolean }> {
    return totalOf(await this.counts(q.jobKeys, q.from, q.to), q);
  }

  async windowEvents(jobKey: string, from: string, to: string, limit: number): Promise<EventRow[]> {
    await this.store.init();
    const rows: EventRow[] = [];
    for (const hour of hourBucketsBetween(from, to)) {
      const filter = odata`PartitionKey eq ${keys.eventPartition(jobKey, hour)} and at ge ${from} and at lt ${to}`;
      for await (const e of this.store.events.listEntities<Record<string, unknown>>({ queryOptions: { filter, select: [...SUMMARY_COLUMNS, "cycleId"] } })) {
        rows.push(rowOf(e));
        if (rows.length >= limit) return rows;
      }
    }
    return rows;
  }

  async counts(jobKeys: string[] | null, from: string, to: string): Promise<CountRow[]> {
    await this.store.init();
    const wanted = jobKeys ? new Set(jobKeys) : null;
    const fromHour = from.slice(0, 13).replace(/[-T]/g, "");
    const toHour = to.slice(0, 13).replace(/[-T]/g, "");
    const out: CountRow[] = [];
    const days: string[] = [];
    for (let t = Date.parse(from.slice(0, 10)); t <= Date.parse(to); t += 86_400_000) days.push(dayBucket(new Date(t).toISOString()));
    await Promise.all(
      days.map(async (day) => {
        for await (const row of this.store.counts.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${`d|${day}`}` } })) {
          const rk = String(row["rowKey"]);
          const cut = rk.lastIndexOf("|");
          const jobKey = rk.slice(0, cut);
          const hour = rk.slice(cut + 1);
          if (hour < fromHour || hour > toHour || (wanted && !wanted.has(jobKey))) continue;
          const byActionStatus: Record<string, number> = {};
          const groupsByActionStatus: Record<string, number> = {};
          for (const [k, v] of Object.entries(row)) {
            if (k.startsWith("n_")) byActionStatus[k.slice(2)] = Number(v);
            if (k.startsWith("g_")) groupsByActionStatus[k.slice(2)] = Number(v);
          }
          out.push({ jobKey, hour, total: Number(row["total"] ?? 0), byActionStatus, groupsByActionStatus, errors: JSON.parse(String(row["errors"] ?? "{}")) as Record<string, number> });
        }
      }),
    );
    return out;
  }
}

const SUMMARY_COLUMNS = ["PartitionKey", "RowKey", "at", "jobKey", "action", "status", "errorCode", "identity", "identityName", "identityType", "changeId"];

function rowOf(e: Record<string, unknown>): EventRow {
  const s = (k: string) => String(e[k] ?? "");
  return {
    epk: s("partitionKey"),
    erk: s("rowKey"),
    at: s("at"),
    jobKey: s("jobKey"),
    action: s("action") as EventRow["action"],
    status: s("status") as EventRow["status"],
    errorCode: s("errorCode"),
    identity: s("identity"),
    identityName: s("identityName"),
    identityType: s("identityType"),
    changeId: s("changeId"),
    cycleId: s("cycleId"),
  };
}

function parseCycles(raw: unknown): string[] {
  try {
    const v = JSON.parse(String(raw ?? "[]")) as [string, string][];
    return Array.isArray(v) ? v.map((c) => c[1]).filter(Boolean).sort() : [];
  } catch {
    return [];
  }
}

/**
 * How many events match, from the hourly counts rows: exact when the range starts and ends on
 * whole hours and no error code is asked for (counts keep the top codes of each hour only).
 */
export function totalOf(counts: CountRow[], q: Pick<ListQuery, "actions" | "status" | "identityType" | "errorCode" | "from" | "to">): { total: number; exact: boolean } {
  const wholeHours = (iso: string) => /T\d\d:00:00(\.000)?Z$/.test(iso);
  if (q.errorCode) return { total: counts.reduce((n, c) => n + (c.errors[q.errorCode!] ?? 0), 0), exact: false };
  let total = 0;
  for (const c of counts) {
    for (const [k, all] of Object.entries(c.byActionStatus)) {
      const [action, status] = k.split("_");
      if ((q.actions && !q.actions.includes(action as EventRow["action"])) || (q.status && q.status !== status)) continue;
      const groups = c.groupsByActionStatus[k] ?? 0;
      total += q.identityType === "Group" ? groups : q.identityType === "User" ? all - groups : all;
    }
  }
  return { total, exact: wholeHours(q.from) && wholeHours(q.to) };
}
