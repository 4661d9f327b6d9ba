import { createHash } from "node:crypto";
import { odata, type TableClient, type TransactionAction } from "@azure/data-tables";
import type { IdentityCandidate } from "../../app/queryPorts";
import type { AliasKind } from "../../core/identityKeys";
import { chunkByPartition, createOnce, mapLimit, rejectionReason, type Entity } from "./batch";
import { bucket, keyPart } from "./keys";
import { getOrNull } from "./reads";
import type { TableFactory } from "./client";

/**
 * directory: every name an admin may use for an identity -> its canonical key. One row per
 * normalised alias, so a lookup is a point read: PK n|hash for names and first names, i|hash for
 * UPNs, their local parts and ids; RK the alias. Each identity the alias names is one property of
 * the row (`p` + a hash of kind and key), written with a merge: adding an identity never reads or
 * conflicts, and rewriting one is harmless. Unsharded: names outlive the events' retention.
 * A row holds at most about 250 identities (the entity's property limit); an alias shared by more
 * (a common first name) keeps the first ones, and the write of the rest is skipped, not failed.
 */
const PARTITIONS = 16;
const NAME_KINDS: ReadonlySet<AliasKind> = new Set(["n", "g"]);

export interface AliasEntry {
  kind: AliasKind;
  value: string;
  identityKey: string;
  displayName: string;
  identity: string;
  identityType: string;
  /** The tenant of the event that named it (absent in entries written before tenants were kept). */
  tenantId?: string;
}

export function aliasKey(kind: AliasKind, value: string): { partitionKey: string; rowKey: string } {
  return { partitionKey: `${NAME_KINDS.has(kind) ? "n" : "i"}|${bucket(value, PARTITIONS)}`, rowKey: keyPart(value) };
}

export function aliasProperty(kind: AliasKind, identityKey: string): string {
  return `p${createHash("sha1").update(`${kind}|${identityKey}`).digest("hex").slice(0, 16)}`;
}

function entries(row: Record<string, unknown>): AliasEntry[] {
  const out: AliasEntry[] = [];
  for (const [k, v] of Object.entries(row)) {
    if (!/^p[0-9a-f]{16}$/.test(k) || typeof v !== "string") continue;
    try {
      out.push(JSON.parse(v) as AliasEntry);
    } catch {
      // A value that is not ours is ignored.
    }
  }
  return out;
}

const candidate = (e: AliasEntry, matchedBy: string): IdentityCandidate => ({ identityKey: e.identityKey, displayName: e.displayName, identity: e.identity, identityType: e.identityType, matchedBy, ...(e.tenantId ? { tenantId: e.tenantId } : {}) });

export class DirectoryTable {
  readonly table: TableClient;
  /** Aliases this process has written: in steady state the directory costs no writes. */
  private readonly known = new Set<string>();
  readonly init: () => Promise<void>;

  constructor(factory: TableFactory) {
    this.table = factory.table("directory");
    this.init = createOnce(this.table);
  }


  /** Adds aliases; resolves with how many could not be stored (skipped, not fatal). */
  async add(aliases: AliasEntry[], concurrency: number): Promise<number> {
    await this.init();
    const rows = new Map<string, Entity>();
    const written: string[] = [];
    for (const a of aliases) {
      const k = aliasKey(a.kind, a.value);
      const prop = aliasProperty(a.kind, a.identityKey);
      const memo = `${k.partitionKey}\u0000${k.rowKey}\u0000${prop}\u0000${a.displayName}\u0000${a.identity}`;
      if (this.known.has(memo)) continue;
      written.push(memo);
      const id = `${k.partitionKey}\u0000${k.rowKey}`;
      let row = rows.get(id);
      if (!row) rows.set(id, (row = { ...k }));
      row[prop] = JSON.stringify(a);
    }
    let skipped = 0;
    const one = async (e: Entity) => {
      try {
        await this.table.upsertEntity(e, "Merge");
      } catch (err) {
        if (!rejectionReason(err)) throw err;
        skipped++;
      }
    };
    await mapLimit(chunkByPartition([...rows.values()]), concurrency, async (chunk) => {
      if (chunk.length === 1) return one(chunk[0]!);
      try {
        await this.table.submitTransaction(chunk.map((e): TransactionAction => ["upsert", e, "Merge"]));
      } catch (err) {
        if (!rejectionReason(err)) throw err;
        for (const e of chunk) await one(e);
      }
    });
    if (this.known.size > 200_000) this.known.clear();
    if (skipped === 0) for (const m of written) this.known.add(m);
    return skipped;
  }

  /** Exact matches of a normalised phrase: two point reads (names; UPNs and ids). */
  async find(value: string): Promise<IdentityCandidate[]> {
    await this.init();
    const rows = await Promise.all((["n", "i"] as const).map((kind) => {
      const k = aliasKey(kind, value);
      return getOrNull<Record<string, unknown>>(this.table, k.partitionKey, k.rowKey);
    }));
    const out = new Map<string, IdentityCandidate>();
    for (const row of rows) for (const e of row ? entries(row) : []) if (!out.has(e.identityKey)) out.set(e.identityKey, candidate(e, e.kind));
    return [...out.values()];
  }

  /** Every display name and first name (near-match suggestions; the caller caches it). */
  async names(): Promise<IdentityCandidate[]> {
    await this.init();
    const out = new Map<string, IdentityCandidate>();
    for await (const row of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey ge ${"n|"} and PartitionKey lt ${"n|~"}` } })) {
      for (const e of entries(row)) out.set(`${e.kind}|${e.value}|${e.identityKey}`, candidate(e, e.value));
    }
    return [...out.values()];
  }
}
