import type { ConversationTarget } from "../../core/conversation";
import type { Incident } from "../../core/alerts/incident";
import { wants, type Subscription } from "../../core/alerts/subscriptions";
import { alertCard } from "../../core/alerts/views";
import type { Clock } from "../ports";
import type { AlertLog, AlertSender, Delivery, IncidentRef, IncidentStore, SubscriptionStore, Versioned } from "../alertPorts";
import type { ConversationRegistry } from "./conversations";
import { isoPlus } from "./time";
import { dataTenantsOf } from "../scope";
import { mapLimit } from "../../core/concurrency";

/**
 * Alert delivery: the outbox's consumer. Given incidents (from the queue, or every active one on
 * the timer), it posts a card to each subscribed conversation that has not had it and brings every
 * card already posted up to the incident's version. The delivery row per (incident, conversation)
 * is the claim: only the writer that creates it (or moves its ETag) talks to that conversation, so
 * a message delivered twice, or a queue and a timer racing, post once.
 */
export interface DeliveryDeps {
  subs: SubscriptionStore;
  incidents: IncidentStore;
  sender: AlertSender;
  conversations: ConversationRegistry;
  clock: Clock;
  log?: AlertLog;
  /**
   * With tenant scoping on: the tenant a job runs in. A conversation gets an incident's card only
   * when the job is of its own tenant (or carried no tenant id).
   */
  jobTenant?: (jobKey: string) => Promise<string>;
  /** Conversation tenant -> other tenants whose alerts it receives (PROVBOT_TENANT_GRANTS). */
  tenantGrants?: Readonly<Record<string, string[]>>;
}

export interface Delivered {
  incidentId: string;
  conversationId: string;
  action: "sent" | "updated" | "skipped";
  result?: "ok" | "gone" | "throttled" | "transient" | "fatal";
  /** Set when the delivery is pending: when it may be tried again. */
  retryAt?: string;
}

/** One post to one conversation: an incident, where to, and the delivery row found for it. */
interface Post {
  incident: Incident;
  target: ConversationTarget;
  row: Versioned<Delivery> | null;
}

/**
 * Conversations posted to side by side. Each conversation is a lane of its own: its cards go in
 * order, and a conversation whose Teams does not answer holds up only its own lane, for at most
 * the sender's time limit per post.
 */
export const DELIVERY_LANES = 32;

/** A claim older than this belongs to a sender that died: another may take it over. */
export const STALE_CLAIM_MS = 2 * 60_000;
const MAX_ATTEMPTS = 10;
/** The longest a throttled card waits before it is tried again, whatever Retry-After says. */
export const MAX_THROTTLED_WAIT_MS = 5 * 60_000;

export class AlertDelivery {
  constructor(private readonly deps: DeliveryDeps) {}

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  private log(entry: Parameters<AlertLog>[0]): void {
    this.deps.log?.(entry);
  }

  /** Queue messages name incidents; the incident is read again (the message may be old). */
  async deliverRefs(refs: IncidentRef[]): Promise<Delivered[]> {
    const incidents: Incident[] = [];
    for (const ref of refs) {
      const slot = await this.deps.incidents.slot(ref.jobKey, ref.rule, ref.incidentId);
      if (slot && slot.value.id === ref.incidentId) incidents.push(slot.value);
    }
    return this.deliverAll(incidents);
  }

  /**
   * Delivers incidents to every conversation that should have them. Conversations do not wait for
   * each other: one lane per conversation, lanes side by side (DELIVERY_LANES at a time). Within a
   * lane, once a post is left pending (no answer in time, throttled, 5xx), that conversation's
   * other cards wait for the timer instead of queueing behind it in this run.
   */
  async deliverAll(incidents: Incident[]): Promise<Delivered[]> {
    if (incidents.length === 0) return [];
    const subs = await this.deps.subs.subscribed();
    const plans = await mapLimit(incidents, 8, (incident) => this.plan(incident, subs));
    return this.post(plans.flat());
  }

  /**
   * Sends a new card to each subscribed conversation that wants it and has not had it, and brings
   * every card already sent up to the incident's version. The delivery row is the claim: only
   * the writer that creates it (or moves its ETag) talks to that conversation.
   */
  async deliver(incident: Incident, subs: Subscription[]): Promise<Delivered[]> {
    return this.post(await this.plan(incident, subs));
  }

  /** Who should get this incident's card (or its update): storage reads only, nothing sent. */
  private async plan(incident: Incident, subs: Subscription[]): Promise<Post[]> {
    const now = this.now();
    const rows = new Map((await this.deps.incidents.deliveries(incident.id)).map((d) => [d.value.conversationId, d]));
    const targets = new Map<string, ConversationTarget>();
    const tenant = this.deps.jobTenant ? (await this.deps.jobTenant(incident.jobKey)).toLowerCase() : "";
    for (const s of subs) {
      // Scoped by tenant: a job of no known tenant is delivered nowhere (never to every tenant).
      if (this.deps.jobTenant && (!tenant || !dataTenantsOf(s.target.tenantId.toLowerCase(), this.deps.tenantGrants ?? {}).includes(tenant))) continue;
      const wanted = incident.status === "open" && wants(s, incident.app, incident.rule, now);
      if (wanted || rows.has(s.target.conversationId)) targets.set(s.target.conversationId, s.target);
    }
    // A card already posted is kept up to date even where the conversation unsubscribed since.
    for (const id of rows.keys()) {
      if (targets.has(id)) continue;
      const known = await this.deps.subs.get(id);
      if (known?.target.serviceUrl) targets.set(id, known.target);
    }
    return [...targets.values()].map((target) => ({ incident, target, row: rows.get(target.conversationId) ?? null }));
  }

  /** Posts, one lane per conversation; the results in the order of the posts. */
  private async post(posts: Post[]): Promise<Delivered[]> {
    const lanes = new Map<string, number[]>();
    posts.forEach((p, i) => {
      const lane = lanes.get(p.target.conversationId);
      if (lane) lane.push(i);
      else lanes.set(p.target.conversationId, [i]);
    });
    const out = new Array<Delivered>(posts.length);
    await mapLimit([...lanes.values()], DELIVERY_LANES, async (lane) => {
      let waitUntil: string | undefined;
      for (const i of lane) {
        const { incident, target, row } = posts[i]!;
        if (waitUntil) {
          // Not tried in this run: due when the post it queued behind is (the outbox and the timer come back).
          out[i] = { incidentId: incident.id, conversationId: target.conversationId, action: "skipped", retryAt: waitUntil };
          continue;
        }
        out[i] = await this.deliverTo(incident, target, row);
        waitUntil = out[i]!.retryAt;
      }
    });
    return out;
  }

  private async deliverTo(incident: Incident, target: ConversationTarget, row: Versioned<Delivery> | null): Promise<Delivered> {
    const now = this.now();
    const base = { incidentId: incident.id, conversationId: target.conversationId };
    let claim: Versioned<Delivery> | null;
    if (!row) {
      claim = await this.deps.incidents.createDelivery({ ...base, state: "sending", activityId: null, version: incident.version, claimedAt: now, attempts: 0, nextAttemptAt: null, lastResult: "" });
    } else {
      const d = row.value;
      const stale = (d.state === "sending") && Date.parse(now) - Date.parse(d.claimedAt) > STALE_CLAIM_MS;
      const due = d.state === "pending" && (!d.nextAttemptAt || d.nextAttemptAt <= now);
      const behind = d.state === "sent" && d.version < incident.version;
      if (!stale && !due && !behind) return { ...base, action: "skipped" };
      claim = await this.deps.incidents.replaceDelivery({ ...d, state: "sending", version: incident.version, claimedAt: now }, row.etag);
    }
    if (!claim) return { ...base, action: "skipped" };
    const message = { kind: "card" as const, card: "alert" as const, viewModel: alertCard(incident, target.conversationType) };
    const activityId = claim.value.activityId;
    const started = Date.now();
    const result = activityId ? await this.deps.sender.update(target, activityId, message) : await this.deps.sender.send(target, message);
    this.log({ event: "alert.send", incidentId: incident.id, version: incident.version, conversationId: target.conversationId, kind: activityId ? "update" : "post", result: result.kind, attempt: claim.value.attempts + 1, ms: Date.now() - started, ...("status" in result ? { status: result.status } : {}) });
    const d = claim.value;
    const attempts = d.attempts + 1;
    let next: Delivery;
    switch (result.kind) {
      case "ok":
        next = { ...d, state: "sent", activityId: activityId ?? result.activityId, attempts: 0, nextAttemptAt: null, lastResult: "ok" };
        break;
      case "gone":
        next = { ...d, state: "gone", attempts, lastResult: `gone ${result.status}` };
        await this.deps.conversations.uninstalled(target);
        break;
      case "throttled":
      case "transient": {
        // Teams' Retry-After is honoured up to MAX_THROTTLED_WAIT_MS (a value of an hour, or a date far
        // ahead, would hold the card back that long); the card stays pending meanwhile and the timer
        // tries again when it is due (another 429 waits again).
        const wait = result.kind === "throttled" ? Math.min(Math.max(0, result.retryAfterMs), MAX_THROTTLED_WAIT_MS) : Math.min(30 * 60_000, 60_000 * 2 ** Math.min(attempts - 1, 5));
        // Pending covers both a card not yet posted and an update not yet applied (activityId says which).
        next = { ...d, state: attempts >= MAX_ATTEMPTS ? "failed" : "pending", attempts, nextAttemptAt: isoPlus(this.now(), wait), lastResult: `${result.kind}: ${result.reason}` };
        break;
      }
      case "fatal":
        next = { ...d, state: "failed", attempts, lastResult: `fatal ${result.status}: ${result.reason}` };
        break;
    }
    await this.deps.incidents.replaceDelivery(next, claim.etag);
    if (result.kind === "ok") {
      // The incident may have moved on while we were sending: bring the card up to date once.
      const latest = await this.deps.incidents.slot(incident.jobKey, incident.rule, incident.id);
      if (latest && latest.value.id === incident.id && latest.value.version > incident.version) {
        const again = (await this.deps.incidents.deliveries(incident.id)).find((x) => x.value.conversationId === target.conversationId) ?? null;
        await this.deliverTo(latest.value, target, again);
      }
    }
    return { ...base, action: activityId ? "updated" : "sent", result: result.kind, ...(next.state === "pending" && next.nextAttemptAt ? { retryAt: next.nextAttemptAt } : {}) };
  }
}
