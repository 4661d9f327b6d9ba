import { odata, type TableClient } from "@azure/data-tables";
import { bucketEnd, dayBucket, daysBetween, monthBucket, monthsBetween } from "../../core/timeBuckets";
import { bucket } from "./keys";
import { isTableMissing, type TableFactory } from "./client";
import { ChangeMarkers, MARKER_CHECK_MS } from "./markers";

/**
 * Time-sharded tables. Events and the indexes that grow with them live in one table per period
 * (`ev20261201` per day, `ix202612h0a` per month and identity hash, `rf202612` per month), created
 * on first write. A question's time range names the shards it reads, and retention drops whole
 * tables: one request per shard, whatever the store holds. Table Storage (and Azurite, which scans
 * a whole table for every filtered query) then never work on more than one period's rows.
 */
export type ShardPeriod = "day" | "month";

export interface ShardFamily {
  /** Two lowercase letters, the table name's stem. */
  stem: string;
  period: ShardPeriod;
  /** Tables per period, chosen by a hash of the row's lookup key (1: no split). */
  split: number;
}

export const SHARDS = {
  events: { stem: "ev", period: "day", split: 1 },
  identities: { stem: "ix", period: "month", split: 16 },
  /** The identity index of failed events only: "why did X fail" reads no skipped history. */
  failures: { stem: "fx", period: "month", split: 16 },
  refs: { stem: "rf", period: "month", split: 1 },
} as const satisfies Record<string, ShardFamily>;

export function periodOf(family: ShardFamily, iso: string): string {
  return family.period === "day" ? dayBucket(iso) : monthBucket(iso);
}

export function periodsBetween(family: ShardFamily, fromIso: string, toIso: string): string[] {
  return family.period === "day" ? daysBetween(fromIso, toIso) : monthsBetween(fromIso, toIso);
}

/** The table name (without the deployment prefix) of one shard. */
export function shardName(family: ShardFamily, period: string, splitKey?: string): string {
  if (family.split === 1) return `${family.stem}${period}`;
  return `${family.stem}${period}h${bucket(splitKey ?? "", family.split)}`;
}

/** Parses a table name of this family (prefix already removed) back to its period. */
export function periodOfName(family: ShardFamily, name: string): string | null {
  const digits = family.period === "day" ? 8 : 6;
  const m = new RegExp(`^${family.stem}(\\d{${digits}})(h[0-9a-f]{2})?$`).exec(name);
  return m ? m[1]! : null;
}


/**
 * One family of shards: clients cached per table, each created once per process on first write.
 * Reads of a shard that was never written (or already dropped) are empty, not errors.
 */
export class ShardSet {
  private readonly clients = new Map<string, TableClient>();
  private readonly created = new Map<string, Promise<void>>();

  private readonly prefix: string;
  private readonly markers: ChangeMarkers;
  /** The change marker other instances compare to see that this family has a new shard. */
  private readonly marker: string;
  constructor(
    private readonly factory: TableFactory,
    readonly family: ShardFamily,
  ) {
    this.prefix = factory.prefix;
    this.markers = new ChangeMarkers(factory);
    this.marker = `shards|${family.stem}`;
  }

  client(period: string, splitKey?: string): TableClient {
    return this.clientByName(shardName(this.family, period, splitKey));
  }

  clientByName(name: string): TableClient {
    let c = this.clients.get(name);
    if (!c) this.clients.set(name, (c = this.factory.table(name)));
    return c;
  }

  /** The shard for a row at `iso`, created if it does not exist yet. */
  async forWrite(iso: string, splitKey?: string): Promise<TableClient> {
    const client = this.client(periodOf(this.family, iso), splitKey);
    let done = this.created.get(client.tableName);
    if (!done) {
      // Created (or found) once per process; the marker is stamped after the table exists, so an
      // instance that relists on seeing it finds the table.
      done = client
        .createTable()
        .then(() => this.markers.stamp(this.marker))
        .catch((err: unknown) => {
          this.created.delete(client.tableName);
          throw err;
        });
      this.created.set(client.tableName, done);
    }
    await done;
    return client;
  }

  /**
   * Runs a write against the shard for `iso`. A shard this process believed created may have been
   * dropped since (another instance's retention purge, for a late event): it is created again and
   * the write retried once.
   */
  async write<T>(iso: string, splitKey: string | undefined, fn: (table: TableClient) => Promise<T>): Promise<T> {
    const table = await this.forWrite(iso, splitKey);
    try {
      return await fn(table);
    } catch (err) {
      if (!isTableMissing(err)) throw err;
      this.created.delete(table.tableName);
      return fn(await this.forWrite(iso, splitKey));
    }
  }

  /** The shards that exist, with their period, oldest first. */
  async existing(): Promise<{ name: string; period: string }[]> {
    const stem = `${this.prefix}${this.family.stem}`;
    const out: { name: string; period: string }[] = [];
    for await (const t of this.factory.service.listTables({ queryOptions: { filter: odata`TableName ge ${stem} and TableName lt ${`${stem}~`}` } })) {
      const name = String(t.name ?? "");
      const period = periodOfName(this.family, name.slice(this.prefix.length));
      if (period) out.push({ name: name.slice(this.prefix.length), period });
    }
    return out.sort((a, b) => a.period.localeCompare(b.period) || a.name.localeCompare(b.name));
  }

  private listed: { at: number; checked: number; marker: string; names: Set<string> } | null = null;

  /**
   * Names of the shards that exist: listed once a minute at most, and again as soon as the family's
   * change marker shows that another instance created a shard (checked every MARKER_CHECK_MS, one
   * point read), plus those this process created since. Reads skip shards that do not exist (a
   * request saved, and billed 404s avoided). `maxAgeMs` 0 lists now.
   */
  async names(maxAgeMs = 60_000): Promise<Set<string>> {
    const now = Date.now();
    let stale = !this.listed || now - this.listed.at > maxAgeMs;
    if (!stale && this.listed && now - this.listed.checked >= MARKER_CHECK_MS) {
      const marker = await this.markers.read(this.marker);
      this.listed.checked = now;
      stale = marker !== this.listed.marker;
    }
    if (stale) {
      // The marker first: a shard created while the list is taken moves it again, and is seen next time.
      const marker = await this.markers.read(this.marker);
      this.listed = { at: now, checked: now, marker, names: new Set((await this.existing()).map((s) => s.name)) };
    }
    const all = new Set(this.listed!.names);
    for (const name of this.created.keys()) all.add(name.slice(this.prefix.length));
    return all;
  }

  /** Periods that have a shard, newest first. */
  async periods(maxAgeMs = 60_000): Promise<string[]> {
    const periods = new Set<string>();
    for (const name of await this.names(maxAgeMs)) {
      const p = periodOfName(this.family, name);
      if (p) periods.add(p);
    }
    return [...periods].sort().reverse();
  }

  /**
   * For lookups that have no time (a changeId, a cycle id): the periods that have a shard, newest
   * first, from the cached list; when the caller has not found what it looks for in those, the
   * periods a fresh list adds. A point read never misses a shard another instance just created.
   */
  async *periodsForLookup(): AsyncGenerator<string> {
    const tried = new Set<string>();
    for (const p of await this.periods()) {
      tried.add(p);
      yield p;
    }
    for (const p of await this.periods(0)) if (!tried.has(p)) yield p;
  }

  /**
   * The shards a time range touches that exist, newest first. The newest period is always read
   * (another instance may have created it since the list was taken), and so is every period in
   * `mustRead` (periods the caller knows hold rows, from the counts).
   */
  async forRangeStored(fromIso: string, toIso: string, splitKey?: string, mustRead?: ReadonlySet<string>): Promise<TableClient[]> {
    const known = await this.names();
    return periodsBetween(this.family, fromIso, toIso)
      .filter((p, i) => i === 0 || mustRead?.has(p) || known.has(shardName(this.family, p, splitKey)))
      .map((p) => this.client(p, splitKey));
  }

  /** Shards whose whole period ended before the cutoff. */
  async expired(cutoffIso: string): Promise<{ name: string; period: string }[]> {
    return (await this.existing()).filter((s) => bucketEnd(s.period) <= cutoffIso);
  }

  /** Drops one shard (one request); a shard already gone is fine. */
  async drop(name: string): Promise<void> {
    const client = this.clientByName(name);
    this.created.delete(client.tableName);
    this.listed = null;
    await client.deleteTable();
  }
}

/** Runs a read against a shard; a shard that does not exist reads as empty. */
export async function readShard<T>(read: () => Promise<T>, empty: T): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (isTableMissing(err)) return empty;
    throw err;
  }
}
