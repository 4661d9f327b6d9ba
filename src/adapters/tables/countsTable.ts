import { odata, type TableClient, type TransactionAction } from "@azure/data-tables";
import type { CountCell, HourCounts } from "../../core/counts";
import { ACTIONS, STATUSES, identityKind, type ProvisioningAction, type ProvisioningEvent, type ProvisioningStatus } from "../../core/event";
import { dayBucket, hourBucket, monthBucket, monthsBetween } from "../../core/timeBuckets";
import { deleteRows, createOnce, mapLimit, type Entity } from "./batch";
import { deflate, putChunks, readChunks } from "./chunks";
import { jobKey } from "./keys";
import { optimistic } from "./optimistic";
import type { TableFactory } from "./client";

/**
 * counts: one row per job and UTC day, holding that day's 24 hours. PK m|yyyyMM, RK
 * yyyyMMdd|job, so the counts of any range are one key-range read per month (a week of 9 jobs is
 * 63 rows, not 1,512), and a batch's updates are one transaction per month under the ETags read.
 * The hours are one deflated JSON property: {"HH": {"t": total, "c": {"action.status": [n,
 * groups]}, "e": {code: failures, the top 25}}}. This module alone knows the encoding; the rest
 * reads HourCounts.
 */
const TOP_ERRORS = 25;

export function countKey(job: string, hour: string): { partitionKey: string; rowKey: string } {
  return { partitionKey: `m|${hour.slice(0, 6)}`, rowKey: `${hour.slice(0, 8)}|${job}` };
}

type Countable = Pick<ProvisioningEvent, "action" | "status" | "error" | "sourceIdentity" | "activityDateTime">;

interface StoredHour {
  t: number;
  c: Record<string, [number, number]>;
  e: Record<string, number>;
}

type StoredDay = Record<string, StoredHour>;

function readDay(row: Record<string, unknown> | undefined): StoredDay {
  if (!row) return Object.create(null) as StoredDay;
  try {
    const text = readChunks(row);
    const v = (text ? JSON.parse(text) : {}) as unknown;
    return Object.assign(Object.create(null) as StoredDay, v && typeof v === "object" && !Array.isArray(v) ? v : {});
  } catch {
    return Object.create(null) as StoredDay;
  }
}

/** Adds events (of one job and day) to a stored row's hours; returns the new row's properties. */
export function mergeCounts(current: Record<string, unknown> | undefined, events: Countable[]): Record<string, unknown> {
  const day = readDay(current);
  for (const e of events) {
    const hh = e.activityDateTime.slice(11, 13);
    // Error codes come from data: null-prototype maps keep "__proto__" or "constructor" as codes.
    const h = (day[hh] ??= { t: 0, c: Object.create(null) as StoredHour["c"], e: Object.create(null) as StoredHour["e"] });
    h.c = Object.assign(Object.create(null) as StoredHour["c"], h.c);
    h.e = Object.assign(Object.create(null) as StoredHour["e"], h.e);
    h.t++;
    const cell = (h.c[`${e.action}.${e.status}`] ??= [0, 0]);
    cell[0]++;
    if (identityKind(e.sourceIdentity.identityType) === "Group") cell[1]++;
    const code = e.error?.code ?? "";
    if (e.status === "failure" && code) h.e[code] = (h.e[code] ?? 0) + 1;
  }
  for (const h of Object.values(day)) h.e = Object.fromEntries(Object.entries(h.e).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, TOP_ERRORS));
  const out: Record<string, unknown> = {};
  putChunks(out, deflate(JSON.stringify(day)));
  return out;
}

/** A stored row as typed counts, one per hour that has events. */
export function decodeCounts(row: Record<string, unknown>): HourCounts[] {
  const rk = String(row["rowKey"]);
  const cut = rk.indexOf("|");
  const date = rk.slice(0, cut);
  const jobKey = rk.slice(cut + 1);
  const out: HourCounts[] = [];
  for (const [hh, h] of Object.entries(readDay(row))) {
    const cells: CountCell[] = [];
    for (const [k, [n, groups]] of Object.entries(h.c ?? {})) {
      const dot = k.indexOf(".");
      const action = k.slice(0, dot);
      const status = k.slice(dot + 1);
      if ((ACTIONS as readonly string[]).includes(action) && (STATUSES as readonly string[]).includes(status)) cells.push({ action: action as ProvisioningAction, status: status as ProvisioningStatus, n: Number(n), groups: Number(groups) });
    }
    out.push({ jobKey, hour: `${date}${hh}`, total: Number(h.t ?? 0), cells, errors: Object.assign(Object.create(null) as Record<string, number>, h.e ?? {}) });
  }
  return out.sort((a, b) => a.hour.localeCompare(b.hour));
}

export class CountsTable {
  readonly table: TableClient;
  readonly init: () => Promise<void>;
  constructor(factory: TableFactory) {
    this.table = factory.table("counts");
    this.init = createOnce(this.table);
  }


  /** Adds new events to their job-hours: per month, read the rows, merge, write under their ETags. */
  async add(events: ProvisioningEvent[], concurrency: number): Promise<void> {
    await this.init();
    const byMonth = new Map<string, Map<string, ProvisioningEvent[]>>();
    for (const e of events) {
      const k = countKey(jobKey(e.jobId, e.servicePrincipal.id), hourBucket(e.activityDateTime));
      let rows = byMonth.get(k.partitionKey);
      if (!rows) byMonth.set(k.partitionKey, (rows = new Map()));
      let list = rows.get(k.rowKey);
      if (!list) rows.set(k.rowKey, (list = []));
      list.push(e);
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
            const entity: Entity = { partitionKey, rowKey, ...mergeCounts(current, list) };
            actions.push(current ? ["update", entity, "Replace", { etag: String(current["etag"]) }] : ["create", entity]);
          }
          // A month holds at most 744 hours per job; each transaction of 100 is all-or-nothing, and
          // a conflict in a later one re-reads and re-merges only what is still to write.
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
          for (const c of decodeCounts(row)) if (c.hour >= fromHour && c.hour <= toHour) out.push(c);
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
