import { odata, type TableClient, type TransactionAction } from "@azure/data-tables";
import type { CountCell, HourCounts } from "../../core/counts";
import { ACTIONS, STATUSES, identityKind, type ProvisioningAction, type ProvisioningEvent, type ProvisioningStatus } from "../../core/event";
import { dayBucket, hourBucket, hourInRange, monthBucket, monthsBetween } from "../../core/timeBuckets";
import { deleteRows, createOnce, mapLimit, type Entity } from "./batch";
import { deflate, inflate, putChunks, readChunks } from "./chunks";
import { optimistic } from "./optimistic";
import type { TableFactory } from "./client";

/**
 * counts: one row per job and UTC day, holding that day's 24 hours. PK m|yyyyMM, RK
 * yyyyMMdd|job, so the counts of any range are one key-range read per month (a week of 9 jobs is
 * 63 rows, not 1,512). The hours are one deflated JSON property: {"HH": {"t": total, "c":
 * {"action.status": [n, groups]}, "e": {code: failures, the top 25}, "v": version}}.
 *
 * The authority for an hour is its counter: a row kept in the events partition of that job-hour
 * (eventsTable.ts), written in the same entity-group transaction as the events it counts, so an
 * event is stored and counted at once or not at all. The day rows here are a copy for fast reads:
 * each hour carries the counter version it was copied from, and a copy only ever replaces an older
 * version (idempotent, in any order, by any writer), so a crash between the two writes is repaired
 * by the next write of that job-hour, a redelivery included. This module alone knows the encoding.
 */
const TOP_ERRORS = 25;

export function countKey(job: string, hour: string): { partitionKey: string; rowKey: string } {
  return { partitionKey: `m|${hour.slice(0, 6)}`, rowKey: `${hour.slice(0, 8)}|${job}` };
}

/** What counting needs of one event. */
export interface CountInput {
  action: string;
  status: string;
  errorCode: string;
  group: boolean;
}

export function countInputOf(e: Pick<ProvisioningEvent, "action" | "status" | "error" | "sourceIdentity">): CountInput {
  return { action: e.action, status: e.status, errorCode: e.error?.code ?? "", group: identityKind(e.sourceIdentity.identityType) === "Group" };
}

interface StoredHour {
  t: number;
  c: Record<string, [number, number]>;
  e: Record<string, number>;
  /** The counter version this copy was taken from (absent in rows written before counters). */
  v?: number;
}

type StoredDay = Record<string, StoredHour>;

function emptyHour(): StoredHour {
  return { t: 0, c: Object.create(null) as StoredHour["c"], e: Object.create(null) as StoredHour["e"] };
}

/** Error codes come from data: null-prototype maps keep "__proto__" or "constructor" as codes. */
function asHour(v: unknown): StoredHour {
  const h = v && typeof v === "object" && !Array.isArray(v) ? (v as Partial<StoredHour>) : {};
  return {
    t: Number(h.t ?? 0),
    c: Object.assign(Object.create(null) as StoredHour["c"], h.c ?? {}),
    e: Object.assign(Object.create(null) as StoredHour["e"], h.e ?? {}),
    ...(typeof h.v === "number" ? { v: h.v } : {}),
  };
}

function addTo(h: StoredHour, x: CountInput): void {
  h.t++;
  const cell = (h.c[`${x.action}.${x.status}`] ??= [0, 0]);
  cell[0]++;
  if (x.group) cell[1]++;
  if (x.status === "failure" && x.errorCode) h.e[x.errorCode] = (h.e[x.errorCode] ?? 0) + 1;
}

function trimErrors(h: StoredHour): void {
  h.e = Object.assign(Object.create(null) as StoredHour["e"], Object.fromEntries(Object.entries(h.e).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, TOP_ERRORS)));
}

function readDay(row: Record<string, unknown> | undefined): StoredDay {
  const day = Object.create(null) as StoredDay;
  if (!row) return day;
  try {
    const text = readChunks(row);
    const v = (text ? JSON.parse(text) : {}) as unknown;
    if (v && typeof v === "object" && !Array.isArray(v)) for (const [hh, h] of Object.entries(v)) day[hh] = asHour(h);
  } catch {
    // An unreadable row reads as empty; the next copy of each hour replaces it.
  }
  return day;
}

function writeDay(day: StoredDay): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  putChunks(out, deflate(JSON.stringify(day)));
  return out;
}

// ---- The job-hour counter (stored by eventsTable beside the events it counts) ----------------

/** The counter's properties: a version and the hour's counts (names no event row uses). */
export const COUNTER_COLUMNS = ["cv", "cd"] as const;

/** One job-hour's counts at one counter version. */
export interface HourSnapshot {
  job: string;
  /** yyyyMMddHH */
  hour: string;
  version: number;
  counts: StoredHour;
}

export function readCounter(job: string, hour: string, row: Record<string, unknown> | null): HourSnapshot | null {
  if (!row || row["cv"] === undefined || row["cv"] === null) return null;
  let counts = emptyHour();
  try {
    const raw = row["cd"];
    const bytes = raw instanceof Uint8Array ? Buffer.from(raw) : typeof raw === "string" ? Buffer.from(raw, "base64") : null;
    if (bytes) counts = asHour(JSON.parse(inflate(bytes)));
  } catch {
    // An unreadable counter is rebuilt by recount().
  }
  return { job, hour, version: Number(row["cv"]), counts };
}

/** The counter after adding some events: the next version and its properties. */
export function nextCounter(current: HourSnapshot | null, job: string, hour: string, added: CountInput[]): { snapshot: HourSnapshot; properties: Record<string, unknown> } {
  const counts = asHour(current?.counts ?? emptyHour());
  delete counts.v;
  for (const x of added) addTo(counts, x);
  trimErrors(counts);
  const snapshot = { job, hour, version: (current?.version ?? 0) + 1, counts };
  return { snapshot, properties: counterProperties(snapshot) };
}

export function counterProperties(s: HourSnapshot): Record<string, unknown> {
  return { cv: s.version, cd: new Uint8Array(deflate(JSON.stringify(s.counts))) };
}

/** A counter computed from the stored rows of a job-hour (reconciliation, and hours written before counters). */
export function recount(job: string, hour: string, rows: CountInput[]): HourSnapshot {
  const counts = emptyHour();
  for (const x of rows) addTo(counts, x);
  trimErrors(counts);
  return { job, hour, version: 0, counts };
}

/** Copies counter snapshots into a day row's hours, each only over an older version. Null: nothing to change. */
export function copyHours(current: Record<string, unknown> | undefined, snapshots: HourSnapshot[]): Record<string, unknown> | null {
  const day = readDay(current);
  let changed = false;
  for (const s of snapshots) {
    const hh = s.hour.slice(8, 10);
    const have = day[hh];
    if (have && (have.v ?? -1) >= s.version) continue;
    day[hh] = { ...asHour(s.counts), v: s.version };
    changed = true;
  }
  return changed ? writeDay(day) : null;
}

/** A stored row as typed counts, one per hour that has events. */
export function decodeCounts(row: Record<string, unknown>): HourCounts[] {
  const rk = String(row["rowKey"]);
  const cut = rk.indexOf("|");
  const date = rk.slice(0, cut);
  const jobKey = rk.slice(cut + 1);
  const out: HourCounts[] = [];
  for (const [hh, h] of Object.entries(readDay(row))) out.push(hourCountsOf(jobKey, `${date}${hh}`, h));
  return out.sort((a, b) => a.hour.localeCompare(b.hour));
}

function hourCountsOf(jobKey: string, hour: string, h: StoredHour): HourCounts {
  const cells: CountCell[] = [];
  for (const [k, [n, groups]] of Object.entries(h.c)) {
    const dot = k.indexOf(".");
    const action = k.slice(0, dot);
    const status = k.slice(dot + 1);
    if ((ACTIONS as readonly string[]).includes(action) && (STATUSES as readonly string[]).includes(status)) cells.push({ action: action as ProvisioningAction, status: status as ProvisioningStatus, n: Number(n), groups: Number(groups) });
  }
  return { jobKey, hour, total: h.t, cells, errors: Object.assign(Object.create(null) as Record<string, number>, h.e) };
}

/** A counter snapshot as typed counts (reconciliation reports, tests). */
export function snapshotCounts(s: HourSnapshot): HourCounts {
  return hourCountsOf(s.job, s.hour, s.counts);
}

export class CountsTable {
  readonly table: TableClient;
  readonly init: () => Promise<void>;
  constructor(factory: TableFactory) {
    this.table = factory.table("counts");
    this.init = createOnce(this.table);
  }


  /**
   * Copies counter snapshots into the day rows (see the module comment): per month, read the rows
   * touched, replace the hours that are older, write under their ETags. Rows that would not change
   * are not written, so a redelivered batch costs one read per month.
   */
  async sync(snapshots: HourSnapshot[], concurrency: number): Promise<void> {
    await this.init();
    const byMonth = new Map<string, Map<string, HourSnapshot[]>>();
    for (const s of snapshots) {
      const k = countKey(s.job, s.hour);
      let rows = byMonth.get(k.partitionKey);
      if (!rows) byMonth.set(k.partitionKey, (rows = new Map()));
      let list = rows.get(k.rowKey);
      if (!list) rows.set(k.rowKey, (list = []));
      list.push(s);
    }
    await mapLimit([...byMonth.entries()], concurrency, async ([partitionKey, rows]) => {
      const rowKeys = [...rows.keys()].sort();
      await optimistic({
        what: `counts ${partitionKey}`,
        read: async () => {
          const existing = new Map<string, Record<string, unknown>>();
          const filter = odata`PartitionKey eq ${partitionKey} and RowKey ge ${rowKeys[0]!} and RowKey le ${rowKeys[rowKeys.length - 1]!}`;
          for await (const row of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) if (rows.has(String(row["rowKey"]))) existing.set(String(row["rowKey"]), row);
          return existing;
        },
        write: async (existing) => {
          const actions: TransactionAction[] = [];
          for (const [rowKey, list] of rows) {
            const current = existing.get(rowKey);
            const next = copyHours(current, list);
            if (!next) {
              rows.delete(rowKey);
              continue;
            }
            const entity: Entity = { partitionKey, rowKey, ...next };
            actions.push(current ? ["update", entity, "Replace", { etag: String(current["etag"]) }] : ["create", entity]);
          }
          // A month holds at most 31 rows per job; each transaction of 100 is all-or-nothing, and
          // a conflict in a later one re-reads and re-copies only what is still to write.
          for (let i = 0; i < actions.length; i += 100) {
            await this.table.submitTransaction(actions.slice(i, i + 100));
            for (const a of actions.slice(i, i + 100)) rows.delete(String((a[1] as Entity).rowKey));
          }
        },
      });
    });
  }

  /** Counts of some jobs (null: all) for the hours touching [from, to]: one range read per month. */
  async read(jobKeys: string[] | null, fromIso: string, toIso: string): Promise<HourCounts[]> {
    await this.init();
    const wanted = jobKeys ? new Set(jobKeys) : null;
    const fromHour = hourBucket(fromIso);
    const toHour = hourBucket(toIso);
    const perMonth = await Promise.all(
      monthsBetween(fromIso, toIso).map(async (month) => {
        const out: HourCounts[] = [];
        const filter = odata`PartitionKey eq ${`m|${month}`} and RowKey ge ${`${fromHour.slice(0, 8)}|`} and RowKey lt ${`${toHour.slice(0, 8)}|~`}`;
        for await (const row of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
          const rk = String(row["rowKey"]);
          if (wanted && !wanted.has(rk.slice(rk.indexOf("|") + 1))) continue;
          for (const c of decodeCounts(row)) if (hourInRange(c.hour, fromIso, toIso)) out.push(c);
        }
        return out;
      }),
    );
    return perMonth.flat();
  }

  /** Every stored job-hour of one job (audits and tests; answers read a time range). */
  async allOf(job: string): Promise<HourCounts[]> {
    await this.init();
    const out: HourCounts[] = [];
    for await (const row of this.table.listEntities<Record<string, unknown>>()) for (const c of decodeCounts(row)) if (c.jobKey === job) out.push(c);
    return out;
  }

  /** Retention: the rows of days that ended before the cutoff (a day is one transaction). */
  async purgeBefore(cutoffIso: string, concurrency: number): Promise<number> {
    await this.init();
    const cutoffHour = dayBucket(cutoffIso);
    const doomed: Entity[] = [];
    for await (const row of this.table.listEntities({ queryOptions: { filter: odata`PartitionKey le ${`m|${monthBucket(cutoffIso)}`} and RowKey lt ${cutoffHour}`, select: ["PartitionKey", "RowKey"] } })) {
      doomed.push({ partitionKey: String(row.partitionKey), rowKey: String(row.rowKey) });
    }
    await deleteRows(this.table, doomed, concurrency);
    return doomed.length;
  }
}
