import type { ConversationTarget } from "../core/conversation";
import type { Incident, FailingObject } from "../core/alerts/incident";
import { ALL_RULES, type AlertRule, type Subscription } from "../core/alerts/subscriptions";
import type { Thresholds } from "../core/alerts/rules";
import type { Reply } from "./chat";
export type { StructuredLog as AlertLog } from "./ports";

/** What proactive alerts need from the outside world (Table Storage, a queue and the Bot Framework). */
export interface ConversationStore {
  /** Installed or messaged: store or refresh the target; keeps any subscription as it is. */
  touch(target: ConversationTarget, now: string): Promise<void>;
  /** Uninstalled, or the conversation is gone (403/404 on send). */
  remove(conversationId: string): Promise<void>;
}

export interface SubscriptionStore extends ConversationStore {
  get(conversationId: string): Promise<Subscription | null>;
  save(sub: Subscription): Promise<void>;
  /**
   * Read-modify-write of one conversation's subscription under its ETag (two edits at the same
   * moment both kept): `change` gets the stored subscription (null when there is none) and
   * returns the new one; the subscription written is returned.
   */
  modify(target: ConversationTarget, change: (current: Subscription | null) => Promise<Subscription> | Subscription): Promise<Subscription>;
  /** Every conversation that has subscribed. */
  subscribed(): Promise<Subscription[]>;
}

export interface ThresholdStore {
  /** thresholdKey(tenant, job) -> overrides of the defaults. */
  all(): Promise<Record<string, Partial<Thresholds>>>;
  set(key: string, overrides: Partial<Thresholds>): Promise<void>;
}

export interface Versioned<T> {
  value: T;
  etag: string;
}

export type DeliveryState = "sending" | "sent" | "pending" | "gone" | "failed";

export interface Delivery {
  incidentId: string;
  conversationId: string;
  state: DeliveryState;
  activityId: string | null;
  /** Incident version the card in the conversation shows (or is being sent). */
  version: number;
  claimedAt: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastResult: string;
}

export interface IncidentStore {
  /**
   * The (job, rule) slot: the current or last incident. Digests (newFailures) are one row per
   * card, so for them the incident id picks the row.
   */
  slot(jobKey: string, rule: AlertRule, incidentId?: string): Promise<Versioned<Incident> | null>;
  /**
   * Read-modify-write of one slot under its version (the one optimistic-concurrency loop): `decide`
   * gets the stored incident (null when there is none) and returns the one to write, or null to
   * write nothing; when another writer got there first it is called again with the newer state.
   * Returns what was written (null: nothing). Throws ConcurrencyExhausted when writers keep winning.
   */
  modifySlot(jobKey: string, rule: AlertRule, decide: (current: Incident | null) => Promise<Incident | null> | Incident | null, incidentId?: string): Promise<Incident | null>;
  /** Slots that are open, or were resolved after `since` (their cards may still need updates). */
  activeSlots(since: string): Promise<Incident[]>;
  deliveries(incidentId: string): Promise<Versioned<Delivery>[]>;
  createDelivery(delivery: Delivery): Promise<Versioned<Delivery> | null>;
  replaceDelivery(delivery: Delivery, etag: string): Promise<Versioned<Delivery> | null>;
  digest(jobKey: string): Promise<Versioned<Record<string, FailingObject>> | null>;
  /** The new-failures digest's open objects, changed under its version the same way. */
  modifyDigest(jobKey: string, change: (open: Record<string, FailingObject>) => Promise<Record<string, FailingObject>> | Record<string, FailingObject>): Promise<void>;
}

/** A send never throws: the result says what happened and what to do next. */
export type SendResult =
  | { kind: "ok"; activityId: string }
  /** 403/404: the bot was removed or the conversation deleted; retire the target. */
  | { kind: "gone"; status: number; reason: string }
  /** 429 that outlasted the waits we allow inline; try again after retryAfterMs. */
  | { kind: "throttled"; retryAfterMs: number; reason: string }
  /** 5xx, timeouts, network: retried with backoff already; try again later. */
  | { kind: "transient"; reason: string }
  /** Anything else (400, 401): a bug or a configuration problem; do not retry. */
  | { kind: "fatal"; status: number; reason: string };

export interface AlertSender {
  send(target: ConversationTarget, message: Reply): Promise<SendResult>;
  update(target: ConversationTarget, activityId: string, message: Reply): Promise<SendResult>;
  /** Opens (or reuses) the bot's personal chat with a user of the target's tenant and posts there. */
  sendPersonal?(userId: string, target: ConversationTarget, message: Reply): Promise<SendResult>;
}

/** An incident as named in the outbox: enough to read it again (the message may be older than the row). */
export interface IncidentRef {
  incidentId: string;
  jobKey: string;
  rule: AlertRule;
  version: number;
}

export const refOf = (i: Incident): IncidentRef => ({ incidentId: i.id, jobKey: i.jobKey, rule: i.rule, version: i.version });

/** A queue message as an IncidentRef, or null when it is not one (a message is data from outside). */
export function parseIncidentRef(value: unknown): IncidentRef | null {
  if (!value || typeof value !== "object") return null;
  const v = value as Record<string, unknown>;
  if (typeof v["incidentId"] !== "string" || typeof v["jobKey"] !== "string" || !ALL_RULES.includes(v["rule"] as AlertRule)) return null;
  return { incidentId: v["incidentId"], jobKey: v["jobKey"], rule: v["rule"] as AlertRule, version: Number(v["version"]) || 0 };
}

/**
 * The outbox: incidents whose cards need posting or updating. The incident rows are already
 * stored when notify is called, so a lost notification only delays delivery until the timer.
 */
export interface AlertOutbox {
  /** `delayMs`: not before then (a retry after a 429 or a 5xx). */
  notify(refs: IncidentRef[], delayMs?: number): Promise<void>;
}
