import { odata, type TableClient, type TransactionAction } from "@azure/data-tables";
import type { CountCell, HourCounts } from "../../core/counts";
import { ACTIONS, STATUSES, identityKind, type ProvisioningAction, type ProvisioningEvent, type ProvisioningStatus } from "../../core/event";
import { hourBucket, monthBucket, monthsBetween } from "../../core/timeBuckets";
import { deleteRows, ensureTables, mapLimit, type Entity } from "./batch";
import { jobKey } from "./keys";
import { optimistic } from "./optimistic";
import type { TableFactory } from "./client";

/**
 * counts: one row per job-hour. PK m|yyyyMM, RK yyyyMMddHH|job, so the counts of any range are one
 * key-range read per month, and a batch's updates are one transaction per month (under the ETags
 * read). Columns: total, n_<action>_<status>, g_<action>_<status> (groups alone), errors (JSON,
 * the top 25 failure codes). This module alone knows the encoding; the rest reads HourCounts.
 */
const TOP_ERRORS = 25;

export function countKey(job: string, hour: string): { partitionKey: string; rowKey: string } {
  return { partitionKey: `m|${hour.slice(0, 6)}`, rowKey: `${hour}|${job}` };
}

type Countable = Pick<ProvisioningEvent, "action" | "status" | "error" | "sourceIdentity">;

const column = (prefix: "n" | "g", action: string, status: string) => `${prefix}_${action}_${status}`;

/** Adds events to a stored row's columns. */
export function mergeCounts(current: Record<string, unknown> | undefined, events: Countable[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(current ?? {})) if (k === "total" || k.startsWith("n_") || k.startsWith("g_")) out[k] = Number(v);
  // Error codes come from data: a null-prototype map keeps "__proto__" or "constructor" as codes.
  const errors = Object.assign(Object.create(null) as Record<string, number>, parseErrors(current?.["errors"]));
  for (const e of events) {
    out["total"] = Number(out["total"] ?? 0) + 1;
    const n = column("n", e.action, e.status);
    out[n] = Number(out[n] ?? 0) + 1;
    if (identityKind(e.sourceIdentity.identityType) === "Group") {
      const g = column("g", e.action, e.status);
      out[g] = Number(out[g] ?? 0) + 1;
    }
    const code = e.error?.code ?? "";
    if (e.status === "failure" && code) errors[code] = (errors[code] ?? 0) + 1;
  }
  out["errors"] = JSON.stringify(Object.fromEntries(Object.entries(errors).sort((a, b) => b[1] - a[1]).slice(0, TOP_ERRORS)));
  return out;
}

function parseErrors(raw: unknown): Record<string, number> {
  try {
    const v = JSON.parse(String(raw ?? "{}")) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, number>) : {};
  } catch {
    return {};
  }
}

/** A stored row as typed counts. */
export function decodeCounts(row: Record<string, unknown>): HourCounts {
  const rk = String(row["rowKey"]);
  const cut = rk.indexOf("|");
  const cells: CountCell[] = [];
  for (const action of ACTIONS) {
    for (const status of STATUSES) {
      const n = Number(row[column("n", action, status)] ?? 0);
      if (n > 0) cells.push({ action: action as ProvisioningAction, status: status as ProvisioningStatus, n, groups: Number(row[column("g", action, status)] ?? 0) });
    }
  }
  return { hour: rk.slice(0, cut), jobKey: rk.slice(cut + 1), total: Number(row["total"] ?? 0), cells, errors: Object.assign(Object.create(null) as Record<string, number>, parseErrors(row["errors"])) };
}

export class CountsTable {
  readonly table: TableClient;
  private ready: Promise<void> | null = null;
  constructor(factory: TableFactory) {
    this.table = factory.table("counts");
  }

  init(): Promise<void> {
    this.ready ??= ensureTables([this.table]).catch((err: unknown) => {
      this.ready = null;
      throw err;
    });
    return this.ready;
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
        const filter = odata`PartitionKey eq ${`m|${month}`} and RowKey ge ${`${fromHour}|`} and RowKey lt ${`${toHour}|~`}`;
        for await (const row of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
          const c = decodeCounts(row);
          if (!wanted || wanted.has(c.jobKey)) out.push(c);
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
    for await (const row of this.table.listEntities<Record<string, unknown>>()) {
      const c = decodeCounts(row);
      if (c.jobKey === job) out.push(c);
    }
    return out;
  }

  /** Retention: the rows of hours before the cutoff (a day is one or two transactions). */
  async purgeBefore(cutoffIso: string, concurrency: number): Promise<number> {
    await this.init();
    const cutoffHour = hourBucket(cutoffIso);
    const doomed: Entity[] = [];
    for await (const row of this.table.listEntities({ queryOptions: { filter: odata`PartitionKey le ${`m|${monthBucket(cutoffIso)}`} and RowKey lt ${cutoffHour}`, select: ["PartitionKey", "RowKey"] } })) {
      doomed.push({ partitionKey: String(row.partitionKey), rowKey: String(row.rowKey) });
    }
    await deleteRows(this.table, doomed, concurrency);
    return doomed.length;
  }
}
