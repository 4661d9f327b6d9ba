import { loadConfig, type AppConfig } from "./config";
import { packageVersion } from "./packageInfo";
import { createChatHandler } from "./app/chat";
import { createBotEndpoint, type BotEndpoint } from "./adapters/botframework/endpoint";
import { createTableFactory, type TableFactory } from "./adapters/tables/client";
import { TableEventStore } from "./adapters/tables/eventStore";
import { TableQueryStore } from "./adapters/tables/queryStore";
import { TableDeadLetterStore } from "./adapters/tables/deadLetters";
import { systemClock } from "./app/ports";
import type { IngestDeps } from "./app/ingest";
import { TableWatermarkStore } from "./adapters/tables/watermarks";
import { GraphProvisioningClient } from "./adapters/graph/client";
import { graphCredential } from "./adapters/graph/credential";
import type { GraphSource, WatermarkStore } from "./app/graphPoll";
import { AlertService } from "./app/alerts";
import { TableAlertStore, TableSubscriptionStore } from "./adapters/tables/alertStore";
import { createAlertSender } from "./adapters/botframework/sender";
import { jobKey } from "./adapters/tables/keys";

/**
 * Composition root: the one place that reads configuration and wires adapters to use cases.
 * Functions call getServices() and stay thin. Built lazily, once per process (per worker).
 */
export interface Services {
  config: AppConfig;
  tables: TableFactory;
  bot: BotEndpoint;
  store: TableEventStore;
  query: TableQueryStore;
  ingest: IngestDeps;
  deadLetters: TableDeadLetterStore;
  alertStore: TableAlertStore;
  watermarks: WatermarkStore;
  /** Null when Graph polling is not configured. */
  graph: GraphSource | null;
  /** Null when PROVBOT_ALERTS=off. */
  alerts: AlertService | null;
  startedAt: number;
}

let services: Services | undefined;

export function getServices(): Services {
  if (services) return services;
  const config = loadConfig(process.env, packageVersion());
  const tables = createTableFactory(config.storage, config.tablePrefix);
  const store = new TableEventStore(tables, { retentionDays: config.retentionDays });
  const query = new TableQueryStore(store);
  const log = (message: string) => console.log(`[provbot] ${message}`);
  const alertStore = new TableAlertStore(tables);
  const alerts = config.alerts.enabled
    ? new AlertService({
        subs: new TableSubscriptionStore(tables),
        incidents: alertStore,
        thresholds: alertStore,
        query,
        sender: createAlertSender(config.bot),
        clock: systemClock,
        jobKeyOf: (e) => jobKey(e.jobId, e.servicePrincipal.id),
        log,
        maxAgeMinutes: config.alerts.maxAgeMinutes,
      })
    : null;
  const chat = createChatHandler({ version: config.version, store: query, now: () => new Date(), maxQuestionChars: config.limits.questionMaxChars, ...(alerts ? { alerts } : {}), log: (m, err) => console.error(`[provbot] ${m}`, err) });
  const bot = createBotEndpoint(config.bot, chat, {
    error: (message, err) => console.error(`[provbot] ${message}`, err),
  });
  const deadLetters = new TableDeadLetterStore(tables, systemClock);
  const graph = config.graph ? new GraphProvisioningClient({ credential: graphCredential(config.graph.auth), baseUrl: config.graph.baseUrl }) : null;
  services = { config, tables, bot, store, query, deadLetters, alertStore, ingest: { store, deadLetters, clock: systemClock, ...(alerts ? { afterStore: alertHook(alerts) } : {}) }, watermarks: new TableWatermarkStore(tables), graph, alerts, startedAt: Date.now() };
  return services;
}

/** Alerts follow each stored batch; a failure to alert is logged and never fails the ingest. */
function alertHook(alerts: AlertService) {
  return async (events: Parameters<AlertService["afterIngest"]>[0]) => {
    try {
      await alerts.afterIngest(events);
    } catch (err) {
      console.error("[provbot] alert evaluation failed; the timer evaluates again within a minute", err);
    }
  };
}

/** For tests that change the environment between cases. */
export function resetServices(): void {
  services = undefined;
}
