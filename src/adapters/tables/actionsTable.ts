import { randomUUID } from "node:crypto";
import { odata, type TableClient } from "@azure/data-tables";
import type { ActionStore } from "../../app/actions";
import { JOB_ACTION_KINDS, type ActionRecord, type JobActionKind, type PendingAction } from "../../core/actions";
import { clipText } from "../../core/text";
import { createOnce, deleteWhere } from "./batch";
import type { TableFactory } from "./client";
import { dayBucket, reverseTicks } from "./keys";
import { isConflict } from "./optimistic";
import { getOrNull } from "./reads";

/**
 * Job actions (issue 26) in one table:
 * - confirmations: PK "pending", RK the token; the whole pending action as JSON, and its state.
 *   Moving one on is a write under the ETag read, so of two presses only one wins;
 * - the action log: PK "log-<day>", RK reverse time | uuid (newest first), one row per action done,
 *   failed, throttled, refused or cancelled.
 */
const PENDING = "pending";
const LOG = (iso: string) => `log-${dayBucket(iso)}`;

export class TableActionStore implements ActionStore {
  readonly table: TableClient;
  private readonly init: () => Promise<void>;
  constructor(factory: TableFactory) {
    this.table = factory.table("actions");
    this.init = createOnce(this.table);
  }

  async putPending(p: PendingAction): Promise<void> {
    await this.init();
    await this.table.createEntity({ partitionKey: PENDING, rowKey: p.token, state: p.state, expiresAt: p.expiresAt, body: JSON.stringify(p) });
  }

  async getPending(token: string): Promise<{ pending: PendingAction; etag: string } | null> {
    await this.init();
    // A token is a URL-safe random string: anything else is not one (and never reaches a key).
    if (!/^[A-Za-z0-9_-]{8,100}$/.test(token)) return null;
    const e = await getOrNull<{ body?: unknown; state?: unknown }>(this.table, PENDING, token);
    if (!e || typeof e.body !== "string") return null;
    try {
      const pending = JSON.parse(e.body) as PendingAction;
      return { pending: { ...pending, state: e.state === "used" || e.state === "cancelled" ? e.state : "pending" }, etag: e.etag };
    } catch {
      return null;
    }
  }

  async settle(token: string, etag: string, next: PendingAction): Promise<boolean> {
    await this.init();
    try {
      await this.table.updateEntity({ partitionKey: PENDING, rowKey: token, state: next.state, expiresAt: next.expiresAt, body: JSON.stringify(next) }, "Replace", { etag });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  async record(r: ActionRecord): Promise<void> {
    await this.init();
    const row: Record<string, unknown> = { partitionKey: LOG(r.at), rowKey: `${reverseTicks(r.at)}|${randomUUID()}` };
    for (const [k, v] of Object.entries(r)) row[k] = clipText(String(v), 1000);
    await this.table.createEntity(row as { partitionKey: string; rowKey: string });
  }

  /** Retention: the action log's days before the cutoff, and confirmations that expired before it. */
  async purgeBefore(cutoffIso: string): Promise<number> {
    await this.init();
    const log = await deleteWhere(this.table, odata`PartitionKey ge ${"log-"} and PartitionKey lt ${LOG(cutoffIso)}`);
    const pending = await deleteWhere(this.table, odata`PartitionKey eq ${PENDING} and expiresAt lt ${cutoffIso}`);
    return log + pending;
  }

  async recent(fromIso: string, limit: number): Promise<ActionRecord[]> {
    await this.init();
    const out: ActionRecord[] = [];
    const filter = odata`PartitionKey ge ${LOG(fromIso)} and PartitionKey lt ${"log-~"}`;
    for await (const e of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
      const kind = String(e["kind"] ?? "");
      if (!JOB_ACTION_KINDS.includes(kind as JobActionKind)) continue;
      const s = (k: string) => String(e[k] ?? "");
      if (s("at") < fromIso) continue;
      out.push({ at: s("at"), kind: kind as JobActionKind, outcome: s("outcome") as ActionRecord["outcome"], userObjectId: s("userObjectId"), userName: s("userName"), app: s("app"), jobId: s("jobId"), servicePrincipalId: s("servicePrincipalId"), tenantId: s("tenantId"), subject: s("subject"), detail: s("detail"), conversationId: s("conversationId") });
    }
    return out.sort((a, b) => b.at.localeCompare(a.at)).slice(0, limit);
  }
}
