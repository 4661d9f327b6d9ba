import { getOrNull, isNotFound } from "./reads";
import { isConflict, optimistic } from "./optimistic";
import { createOnce } from "./batch";
import { odata, type TableClient } from "@azure/data-tables";
import type { ConversationTarget } from "../../core/conversation";
import { conversationTypeFrom } from "../../core/conversation";
import type { FailingObject, Incident } from "../../core/alerts/incident";
import type { Thresholds } from "../../core/alerts/rules";
import { ALL_RULES, type AlertRule, type Subscription } from "../../core/alerts/subscriptions";
import type { Delivery, IncidentStore, SubscriptionStore, ThresholdStore, Versioned } from "../../app/alertPorts";
import type { TableFactory } from "./client";
import { keyPart } from "./keys";
import { deleteWhere } from "./batch";

/**
 * Alert state in Table Storage.
 * - conversations: PK "c", RK conversation id -> target + subscription (one small partition).
 * - alerts: PK "slot", RK job|rule -> the current incident of that (rule, job), ETag-guarded;
 *           PK "d|<incident>", RK conversation -> the delivery claim (create = first claim wins);
 *           PK "digest", RK job -> open failing objects for the new-failures digest;
 *           PK "thr", RK tenant|job -> threshold overrides of one job.
 */

function parse<T>(raw: unknown, fallback: T): T {
  try {
    return raw === undefined || raw === null || raw === "" ? fallback : (JSON.parse(String(raw)) as T);
  } catch {
    return fallback;
  }
}

/** A string property holds at most 32K characters: keep the most recent objects that fit. */
function digestJson(open: Record<string, FailingObject>): string {
  let list = Object.values(open).sort((a, b) => b.lastAt.localeCompare(a.lastAt));
  let json = JSON.stringify(Object.fromEntries(list.map((o) => [o.identity, o])));
  while (json.length > 30_000 && list.length > 0) {
    list = list.slice(0, Math.floor(list.length * 0.8));
    json = JSON.stringify(Object.fromEntries(list.map((o) => [o.identity, o])));
  }
  return json;
}

abstract class Lazy {
  /** Created once per process; a failed creation is forgotten (batch.ts createOnce, as every table). */
  protected readonly init: () => Promise<void>;
  constructor(protected readonly table: TableClient) {
    this.init = createOnce(table);
  }
}

export class TableSubscriptionStore extends Lazy implements SubscriptionStore {
  constructor(factory: TableFactory) {
    super(factory.table("conversations"));
  }

  private toSub(e: Record<string, unknown>): Subscription {
    const s = (k: string) => String(e[k] ?? "");
    return {
      target: { conversationId: s("conversationId"), serviceUrl: s("serviceUrl"), tenantId: s("tenantId"), conversationType: conversationTypeFrom(s("conversationType")) },
      subscribed: e["subscribed"] === true,
      apps: parse<string[]>(e["apps"], []),
      exceptApps: parse<string[]>(e["exceptApps"], []),
      rules: parse<AlertRule[]>(e["rules"], []).filter((r) => ALL_RULES.includes(r)),
      mutes: parse<Record<string, string>>(e["mutes"], {}),
      updatedAt: s("updatedAt"),
      changedBy: parse<Subscription["changedBy"]>(e["changedBy"], null),
    };
  }

  async get(conversationId: string): Promise<Subscription | null> {
    await this.init();
    const e = await this.table.getEntity<Record<string, unknown>>("c", keyPart(conversationId, 500)).catch((err) => {
      if (isNotFound(err)) return null;
      throw err;
    });
    return e ? this.toSub(e) : null;
  }

  async touch(target: ConversationTarget, now: string): Promise<void> {
    if (!target.conversationId || !target.serviceUrl) return;
    await this.init();
    // Merge: refreshes where to post (service URLs can change) without touching the subscription.
    await this.table.upsertEntity({ partitionKey: "c", rowKey: keyPart(target.conversationId, 500), ...target, seenAt: now }, "Merge");
  }

  private subEntity(sub: Subscription) {
    return {
      partitionKey: "c",
      rowKey: keyPart(sub.target.conversationId, 500),
      ...sub.target,
      subscribed: sub.subscribed,
      apps: JSON.stringify(sub.apps),
      exceptApps: JSON.stringify(sub.exceptApps),
      rules: JSON.stringify(sub.rules),
      mutes: JSON.stringify(sub.mutes),
      updatedAt: sub.updatedAt,
      changedBy: JSON.stringify(sub.changedBy),
    };
  }

  async save(sub: Subscription): Promise<void> {
    await this.init();
    await this.table.upsertEntity(this.subEntity(sub), "Merge");
  }

  /** Under the row's ETag, through the one optimistic-concurrency loop (optimistic.ts). */
  async modify(target: ConversationTarget, change: (current: Subscription | null) => Promise<Subscription> | Subscription): Promise<Subscription> {
    await this.init();
    let written: Subscription | null = null;
    const rowKey = keyPart(target.conversationId, 500);
    await optimistic({
      what: `subscription of ${target.conversationId.slice(0, 80)}`,
      read: () => getOrNull<Record<string, unknown>>(this.table, "c", rowKey),
      write: async (row) => {
        // A row that only touch() wrote (no subscription yet) is "no subscription".
        const current = row && typeof row["apps"] === "string" ? this.toSub(row) : null;
        const next = await change(current);
        if (row) await this.table.updateEntity(this.subEntity(next), "Merge", { etag: row.etag });
        else await this.table.createEntity(this.subEntity(next));
        written = next;
      },
    });
    return written!;
  }

  async remove(conversationId: string): Promise<void> {
    await this.init();
    await this.table.deleteEntity("c", keyPart(conversationId, 500)).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }

  async subscribed(): Promise<Subscription[]> {
    await this.init();
    const out: Subscription[] = [];
    for await (const e of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${"c"} and subscribed eq ${true}` } })) out.push(this.toSub(e));
    return out;
  }
}

export class TableAlertStore extends Lazy implements IncidentStore, ThresholdStore {
  constructor(factory: TableFactory) {
    super(factory.table("alerts"));
  }

  private slotKey(jobKey: string, rule: AlertRule, incidentId?: string) {
    const suffix = rule === "newFailures" ? `|${keyPart(incidentId ?? "", 300)}` : "";
    return { partitionKey: "slot", rowKey: `${jobKey}|${rule}${suffix}` };
  }

  private incidentEntity(i: Incident): Record<string, unknown> {
    const { topErrors, affected, notes, ...rest } = i;
    return { ...this.slotKey(i.jobKey, i.rule, i.id), ...rest, cycleId: i.cycleId ?? "", ackBy: i.ackBy ?? "", ackAt: i.ackAt ?? "", resolvedAt: i.resolvedAt ?? "", resolution: i.resolution ?? "", topErrors: JSON.stringify(topErrors), affected: JSON.stringify(affected), notes: JSON.stringify(notes ?? []).slice(0, 30_000) };
  }

  private toIncident(e: Record<string, unknown>): Incident {
    const s = (k: string) => String(e[k] ?? "");
    const n = (k: string) => Number(e[k] ?? 0);
    return {
      id: s("id"),
      rule: s("rule") as AlertRule,
      jobKey: s("jobKey"),
      app: s("app"),
      status: s("status") === "resolved" ? "resolved" : "open",
      count: n("count"),
      baseline: n("baseline"),
      since: s("since"),
      lastSeen: s("lastSeen"),
      topErrors: parse<[string, number][]>(e["topErrors"], []),
      affected: parse<Incident["affected"]>(e["affected"], []),
      cycleId: s("cycleId") || null,
      stagedDeletes: n("stagedDeletes"),
      summary: s("summary"),
      windowMinutes: n("windowMinutes"),
      openedAt: s("openedAt"),
      version: n("version"),
      ackBy: s("ackBy") || null,
      ackAt: s("ackAt") || null,
      resolvedAt: s("resolvedAt") || null,
      resolution: s("resolution") || null,
      notes: parse<NonNullable<Incident["notes"]>>(e["notes"], []),
      ...(s("portalUrl") ? { portalUrl: s("portalUrl") } : {}),
    };
  }

  async slot(jobKey: string, rule: AlertRule, incidentId?: string): Promise<Versioned<Incident> | null> {
    await this.init();
    if (rule === "newFailures" && !incidentId) return null;
    const k = this.slotKey(jobKey, rule, incidentId);
    const e = await this.table.getEntity<Record<string, unknown>>(k.partitionKey, k.rowKey).catch((err) => {
      if (isNotFound(err)) return null;
      throw err;
    });
    return e ? { value: this.toIncident(e), etag: String(e["etag"]) } : null;
  }

  /**
   * Read, decide, write under the slot's ETag, through the one optimistic-concurrency loop: another
   * writer's change (or a row purged since it was read) makes it read and decide again.
   */
  async modifySlot(jobKey: string, rule: AlertRule, decide: (current: Incident | null) => Promise<Incident | null> | Incident | null, incidentId?: string): Promise<Incident | null> {
    await this.init();
    let written: Incident | null = null;
    await optimistic({
      what: `incident ${jobKey.slice(0, 80)}|${rule}`,
      read: () => this.slot(jobKey, rule, incidentId),
      alsoRetry: isNotFound,
      write: async (current) => {
        written = null;
        const next = await decide(current?.value ?? null);
        if (!next) return;
        if (current) await this.table.updateEntity(this.incidentEntity(next) as never, "Replace", { etag: current.etag });
        else await this.table.createEntity(this.incidentEntity(next) as never);
        written = next;
      },
    });
    return written;
  }

  async activeSlots(since: string): Promise<Incident[]> {
    await this.init();
    const out: Incident[] = [];
    const filter = odata`PartitionKey eq ${"slot"} and (status eq ${"open"} or resolvedAt ge ${since})`;
    for await (const e of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) out.push(this.toIncident(e));
    return out;
  }

  private deliveryKey(incidentId: string, conversationId: string) {
    return { partitionKey: `d|${keyPart(incidentId, 400)}`, rowKey: keyPart(conversationId, 500) };
  }

  private toDelivery(e: Record<string, unknown>): Versioned<Delivery> {
    const s = (k: string) => String(e[k] ?? "");
    return {
      value: {
        incidentId: s("incidentId"),
        conversationId: s("conversationId"),
        state: s("state") as Delivery["state"],
        activityId: s("activityId") || null,
        version: Number(e["version"] ?? 0),
        claimedAt: s("claimedAt"),
        attempts: Number(e["attempts"] ?? 0),
        nextAttemptAt: s("nextAttemptAt") || null,
        lastResult: s("lastResult"),
      },
      etag: String(e["etag"]),
    };
  }

  async deliveries(incidentId: string): Promise<Versioned<Delivery>[]> {
    await this.init();
    const pk = `d|${keyPart(incidentId, 400)}`;
    const out: Versioned<Delivery>[] = [];
    for await (const e of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${pk}` } })) out.push(this.toDelivery(e));
    return out;
  }

  private deliveryEntity(d: Delivery) {
    return { ...this.deliveryKey(d.incidentId, d.conversationId), ...d, activityId: d.activityId ?? "", nextAttemptAt: d.nextAttemptAt ?? "" };
  }

  async createDelivery(d: Delivery): Promise<Versioned<Delivery> | null> {
    await this.init();
    try {
      const res = await this.table.createEntity(this.deliveryEntity(d));
      return { value: d, etag: String(res.etag) };
    } catch (err) {
      if (isConflict(err)) return null;
      throw err;
    }
  }

  async replaceDelivery(d: Delivery, etag: string): Promise<Versioned<Delivery> | null> {
    await this.init();
    try {
      const res = await this.table.updateEntity(this.deliveryEntity(d), "Replace", { etag });
      return { value: d, etag: String(res.etag) };
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) return null;
      throw err;
    }
  }

  async digest(jobKey: string): Promise<Versioned<Record<string, FailingObject>> | null> {
    await this.init();
    const e = await this.table.getEntity<Record<string, unknown>>("digest", jobKey).catch((err) => {
      if (isNotFound(err)) return null;
      throw err;
    });
    return e ? { value: parse<Record<string, FailingObject>>(e["open"], {}), etag: String(e["etag"]) } : null;
  }

  /** The digest's open objects, changed under the row's ETag through the one optimistic loop. */
  async modifyDigest(jobKey: string, change: (open: Record<string, FailingObject>) => Promise<Record<string, FailingObject>> | Record<string, FailingObject>): Promise<void> {
    await this.init();
    await optimistic({
      what: `digest ${jobKey.slice(0, 80)}`,
      read: () => this.digest(jobKey),
      write: async (current) => {
        const entity = { partitionKey: "digest", rowKey: jobKey, open: digestJson(await change(current?.value ?? {})) };
        if (current) await this.table.updateEntity(entity, "Replace", { etag: current.etag });
        else await this.table.createEntity(entity);
      },
    });
  }

  /** Retention: resolved incidents and the delivery rows of incidents no longer open, older than the cutoff. */
  async purgeBefore(cutoffIso: string): Promise<number> {
    await this.init();
    const open = new Set((await this.activeSlots("\uffff")).filter((i) => i.status === "open").map((i) => `d|${keyPart(i.id, 400)}`));
    const doomed: string[] = [];
    for await (const e of this.table.listEntities<Record<string, unknown>>({
      queryOptions: { filter: odata`PartitionKey ge ${"d|"} and PartitionKey lt ${"d}"} and claimedAt lt ${cutoffIso}`, select: ["PartitionKey"] },
    })) {
      const pk = String(e.partitionKey);
      if (!open.has(pk) && !doomed.includes(pk)) doomed.push(pk);
    }
    let n = 0;
    for (const pk of doomed) n += await deleteWhere(this.table, odata`PartitionKey eq ${pk}`);
    n += await deleteWhere(this.table, odata`PartitionKey eq ${"slot"} and status eq ${"resolved"} and resolvedAt lt ${cutoffIso}`);
    return n;
  }

  async all(): Promise<Record<string, Partial<Thresholds>>> {
    await this.init();
    const out: Record<string, Partial<Thresholds>> = {};
    // Rows written before thresholds were per tenant and job (keyed by app name alone) are not read.
    for await (const e of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${"thr"}` } })) {
      if (typeof e["key"] === "string") out[e["key"]] = parse<Partial<Thresholds>>(e["overrides"], {});
    }
    return out;
  }

  /** `key`: thresholdKey(tenant, job). */
  async set(key: string, overrides: Partial<Thresholds>): Promise<void> {
    await this.init();
    await this.table.upsertEntity({ partitionKey: "thr", rowKey: keyPart(key, 600), key, overrides: JSON.stringify(overrides) }, "Replace");
  }
}
