import type { ConversationTarget } from "../../src/core/conversation";
import type { FailingObject, Incident } from "../../src/core/alerts/incident";
import type { Thresholds } from "../../src/core/alerts/rules";
import type { AlertRule, Subscription } from "../../src/core/alerts/subscriptions";
import { optimisticLoop } from "../../src/core/optimistic";
import type { Delivery, IncidentStore, SubscriptionStore, ThresholdStore, Versioned } from "../../src/app/alertPorts";

/**
 * In-memory fakes of the alert stores (subscriptions, incidents, deliveries, digests, thresholds)
 * with the Table Storage adapters' semantics: every row has a version (its ETag); a write under a
 * version that moved is a conflict, and read-modify-writes go through the same core optimistic
 * loop as the adapters. The alert use cases run on them without Azurite;
 * test/integration/alert-store-contract.test.ts proves that they and the adapters behave alike.
 */
class MemoryConflict extends Error {
  constructor(what: string) {
    super(`${what}: another writer got there first`);
  }
}
const isMemoryConflict = (err: unknown) => err instanceof MemoryConflict;

class Rows<T> {
  private readonly rows = new Map<string, { value: T; etag: string }>();
  private seq = 0;
  get(key: string): Versioned<T> | null {
    const r = this.rows.get(key);
    return r ? { value: structuredClone(r.value), etag: r.etag } : null;
  }
  /** Create when `etag` is null (a conflict if the row exists), else replace under that version. */
  put(key: string, value: T, etag: string | null): string {
    const r = this.rows.get(key);
    if (etag === null ? r : !r || r.etag !== etag) throw new MemoryConflict(key);
    const next = `m${++this.seq}`;
    this.rows.set(key, { value: structuredClone(value), etag: next });
    return next;
  }
  upsert(key: string, value: T): void {
    this.rows.set(key, { value: structuredClone(value), etag: `m${++this.seq}` });
  }
  delete(key: string): void {
    this.rows.delete(key);
  }
  entries(): [string, T][] {
    return [...this.rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, r]) => [k, structuredClone(r.value)]);
  }
}

const quick = { pause: async () => undefined };

interface ConversationRow {
  target: ConversationTarget;
  sub: Subscription | null;
}

export class MemorySubscriptionStore implements SubscriptionStore {
  private readonly rows = new Rows<ConversationRow>();

  async touch(target: ConversationTarget): Promise<void> {
    if (!target.conversationId || !target.serviceUrl) return;
    const row = this.rows.get(target.conversationId);
    this.rows.upsert(target.conversationId, { target, sub: row?.value.sub ? { ...row.value.sub, target } : null });
  }

  async remove(conversationId: string): Promise<void> {
    this.rows.delete(conversationId);
  }

  async get(conversationId: string): Promise<Subscription | null> {
    const row = this.rows.get(conversationId)?.value;
    if (!row) return null;
    return row.sub ?? { target: row.target, subscribed: false, apps: [], exceptApps: [], rules: [], mutes: {}, updatedAt: "", changedBy: null };
  }

  async save(sub: Subscription): Promise<void> {
    this.rows.upsert(sub.target.conversationId, { target: sub.target, sub });
  }

  async modify(target: ConversationTarget, change: (current: Subscription | null) => Promise<Subscription> | Subscription): Promise<Subscription> {
    let written: Subscription | null = null;
    await optimisticLoop(
      {
        ...quick,
        what: `subscription of ${target.conversationId}`,
        read: async () => this.rows.get(target.conversationId),
        write: async (row) => {
          const next = await change(row?.value.sub ?? null);
          this.rows.put(target.conversationId, { target: next.target, sub: next }, row?.etag ?? null);
          written = next;
        },
      },
      isMemoryConflict,
    );
    return written!;
  }

  async subscribed(): Promise<Subscription[]> {
    return this.rows.entries().flatMap(([, r]) => (r.sub?.subscribed ? [r.sub] : []));
  }
}

export class MemoryAlertStore implements IncidentStore, ThresholdStore {
  private readonly slots = new Rows<Incident>();
  private readonly deliveryRows = new Rows<Delivery>();
  private readonly digests = new Rows<Record<string, FailingObject>>();
  private readonly thresholds = new Map<string, Partial<Thresholds>>();
  /** Writes of slots (creates and replaces) that succeeded: what a test may count. */
  slotWrites = 0;

  private slotKey(jobKey: string, rule: AlertRule, incidentId?: string): string {
    return `${jobKey}|${rule}${rule === "newFailures" ? `|${incidentId ?? ""}` : ""}`;
  }

  async slot(jobKey: string, rule: AlertRule, incidentId?: string): Promise<Versioned<Incident> | null> {
    if (rule === "newFailures" && !incidentId) return null;
    return this.slots.get(this.slotKey(jobKey, rule, incidentId));
  }

  async modifySlot(jobKey: string, rule: AlertRule, decide: (current: Incident | null) => Promise<Incident | null> | Incident | null, incidentId?: string): Promise<Incident | null> {
    let written: Incident | null = null;
    await optimisticLoop(
      {
        ...quick,
        what: `incident ${jobKey}|${rule}`,
        read: () => this.slot(jobKey, rule, incidentId),
        write: async (current) => {
          written = null;
          const next = await decide(current?.value ?? null);
          if (!next) return;
          this.slots.put(this.slotKey(next.jobKey, next.rule, next.id), next, current?.etag ?? null);
          this.slotWrites++;
          written = next;
        },
      },
      isMemoryConflict,
    );
    return written;
  }

  async activeSlots(since: string): Promise<Incident[]> {
    return this.slots.entries().flatMap(([, i]) => (i.status === "open" || (i.resolvedAt ?? "") >= since ? [i] : []));
  }

  async deliveries(incidentId: string): Promise<Versioned<Delivery>[]> {
    return this.deliveryRows
      .entries()
      .filter(([k]) => k.startsWith(`${incidentId}\u0000`))
      .map(([k]) => this.deliveryRows.get(k)!);
  }

  async createDelivery(d: Delivery): Promise<Versioned<Delivery> | null> {
    try {
      return { value: d, etag: this.deliveryRows.put(`${d.incidentId}\u0000${d.conversationId}`, d, null) };
    } catch (err) {
      if (isMemoryConflict(err)) return null;
      throw err;
    }
  }

  async replaceDelivery(d: Delivery, etag: string): Promise<Versioned<Delivery> | null> {
    try {
      return { value: d, etag: this.deliveryRows.put(`${d.incidentId}\u0000${d.conversationId}`, d, etag) };
    } catch (err) {
      if (isMemoryConflict(err)) return null;
      throw err;
    }
  }

  async digest(jobKey: string): Promise<Versioned<Record<string, FailingObject>> | null> {
    return this.digests.get(jobKey);
  }

  async modifyDigest(jobKey: string, change: (open: Record<string, FailingObject>) => Promise<Record<string, FailingObject>> | Record<string, FailingObject>): Promise<void> {
    await optimisticLoop(
      {
        ...quick,
        what: `digest ${jobKey}`,
        read: () => this.digest(jobKey),
        write: async (current) => void this.digests.put(jobKey, await change(current?.value ?? {}), current?.etag ?? null),
      },
      isMemoryConflict,
    );
  }

  async all(): Promise<Record<string, Partial<Thresholds>>> {
    return Object.fromEntries(this.thresholds);
  }

  async set(key: string, overrides: Partial<Thresholds>): Promise<void> {
    this.thresholds.set(key, overrides);
  }
}
