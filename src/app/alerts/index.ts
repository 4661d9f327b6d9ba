import type { ProvisioningEvent } from "../../core/event";
import type { Incident } from "../../core/alerts/incident";
import type { Thresholds } from "../../core/alerts/rules";
import { errorField, type Clock } from "../ports";
import type { QueryStore } from "../queryPorts";
import { refOf, type IncidentRef, type AlertLog, type AlertOutbox, type AlertSender, type IncidentStore, type SubscriptionStore, type ThresholdStore } from "../alertPorts";
import { AlertEvaluator } from "./evaluate";
import { AlertDelivery, type Delivered } from "./deliver";
import { AlertCommandHandler } from "./commands";
import { ConversationRegistry } from "./conversations";
import type { JobReading } from "../jobStatusPoll";
import type { AuditStore, JobStatusStore } from "../jobHealthPorts";

export { AlertEvaluator, AlertDelivery, AlertCommandHandler, ConversationRegistry, type Delivered };

/**
 * Proactive alerts, by job: evaluate (rules -> incidents, after each stored batch and on the timer),
 * the outbox (incidents whose cards are due), deliver (outbox -> Teams) and the commands. Ingestion
 * only evaluates and notifies the outbox: it never waits for Teams.
 */
export interface AlertDeps {
  subs: SubscriptionStore;
  incidents: IncidentStore;
  thresholds: ThresholdStore;
  query: QueryStore;
  sender: AlertSender;
  outbox: AlertOutbox;
  conversations: ConversationRegistry;
  clock: Clock;
  jobKeyOf: (e: ProvisioningEvent) => string;
  log?: AlertLog;
  maxAgeMinutes?: number;
  defaults?: Thresholds;
  /** Tenant scoping (on whenever PROVBOT_ALLOWED_TENANTS applies): see deliver.ts and commands.ts. */
  tenantScoped?: boolean;
  tenantGrants?: Readonly<Record<string, string[]>>;
  jobTenant?: (jobKey: string) => Promise<string>;
  statuses?: JobStatusStore;
  audits?: AuditStore;
}

export interface Alerts {
  evaluator: AlertEvaluator;
  delivery: AlertDelivery;
  commands: AlertCommandHandler;
  /**
   * The outbox's consumer (a queue message): deliver, and put a delivery that must wait (429, 5xx,
   * a timeout) back in the outbox for when it is due. The timer retries it too, should that fail.
   */
  send(refs: IncidentRef[]): Promise<Delivered[]>;
  /** After a stored batch: evaluate, then hand what changed to the outbox. */
  afterIngest(events: ProvisioningEvent[]): Promise<Incident[]>;
  /** After a job-status poll: the job-health alerts, handed to the outbox. */
  afterJobStatus(readings: JobReading[]): Promise<Incident[]>;
  /** The timer: silence and resolution, then deliver every active incident (the outbox's safety net). */
  tick(): Promise<{ changed: Incident[]; deliveries: Delivered[] }>;
}

export function createAlerts(deps: AlertDeps): Alerts {
  const evaluator = new AlertEvaluator(deps);
  const delivery = new AlertDelivery(deps);
  const commands = new AlertCommandHandler({ ...deps, evaluator });
  /** The incidents are stored before this: a notification that fails only waits for the timer. */
  const notify = (refs: IncidentRef[], delayMs = 0) =>
    deps.outbox.notify(refs, delayMs).catch((err: unknown) => deps.log?.({ event: "alert.outbox.unavailable", incidents: refs.length, error: errorField(err) }));
  return {
    evaluator,
    delivery,
    commands,
    async afterIngest(events) {
      const changed = await evaluator.afterIngest(events);
      if (changed.length > 0) await notify(changed.map(refOf));
      return changed;
    },
    async afterJobStatus(readings) {
      const changed = await evaluator.afterJobStatus(readings);
      if (changed.length > 0) await notify(changed.map(refOf));
      return changed;
    },
    async send(refs) {
      const deliveries = await delivery.deliverRefs(refs);
      const due = deliveries.flatMap((d) => (d.retryAt ? [Date.parse(d.retryAt)] : []));
      if (due.length > 0) {
        const delayMs = Math.max(0, Math.min(...due) - deps.clock.now().getTime());
        const pending = refs.filter((r) => deliveries.some((d) => d.retryAt && d.incidentId === r.incidentId));
        await notify(pending, delayMs);
      }
      return deliveries;
    },
    async tick() {
      const { changed, active } = await evaluator.tick();
      const byId = new Map(changed.map((i) => [i.id, i]));
      for (const i of active) if (!byId.has(i.id)) byId.set(i.id, i);
      return { changed, deliveries: await delivery.deliverAll([...byId.values()]) };
    },
  };
}
