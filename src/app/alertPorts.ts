import type { ConversationTarget } from "../core/conversation";
import type { Incident, FailingObject } from "../core/alerts/incident";
import type { AlertRule, Subscription } from "../core/alerts/subscriptions";
import type { Thresholds } from "../core/alerts/rules";
import type { Reply } from "./chat";

/** What proactive alerts need from the outside world (Table Storage and the Bot Framework). */
export interface SubscriptionStore {
  get(conversationId: string): Promise<Subscription | null>;
  /** Installed or messaged: store or refresh the target; keeps the subscription as it is. */
  touch(target: ConversationTarget, now: string): Promise<void>;
  save(sub: Subscription): Promise<void>;
  /** Uninstalled, or the conversation is gone (403/404 on send). */
  remove(conversationId: string): Promise<void>;
  /** Every conversation that has subscribed. */
  subscribed(): Promise<Subscription[]>;
}

export interface ThresholdStore {
  /** Normalised app name -> overrides of the defaults. */
  all(): Promise<Record<string, Partial<Thresholds>>>;
  set(app: string, overrides: Partial<Thresholds>): Promise<void>;
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
  /** False when another writer got there first (409 / 412): read again and retry. */
  createSlot(incident: Incident): Promise<boolean>;
  replaceSlot(incident: Incident, etag: string): Promise<boolean>;
  /** Slots that are open, or were resolved after `since` (their cards may still need updates). */
  activeSlots(since: string): Promise<Incident[]>;
  deliveries(incidentId: string): Promise<Versioned<Delivery>[]>;
  createDelivery(delivery: Delivery): Promise<Versioned<Delivery> | null>;
  replaceDelivery(delivery: Delivery, etag: string): Promise<Versioned<Delivery> | null>;
  digest(jobKey: string): Promise<Versioned<Record<string, FailingObject>> | null>;
  saveDigest(jobKey: string, open: Record<string, FailingObject>, etag: string | null): Promise<boolean>;
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
}
