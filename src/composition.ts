import { graphDataTenant, loadConfig, type AppConfig } from "./config";
import { packageVersion } from "./packageInfo";
import { createChatHandler } from "./app/chat";
import { createBotEndpoint, type BotEndpoint } from "./adapters/botframework/endpoint";
import { createTableFactory, type TableFactory } from "./adapters/tables/client";
import { TableEventStore } from "./adapters/tables/eventStore";
import { TableQueryStore } from "./adapters/tables/queryStore";
import { TableDeadLetterStore } from "./adapters/tables/deadLetters";
import type { IngestDeps } from "./app/ingest";
import { TableWatermarkStore } from "./adapters/tables/watermarks";
import { GraphProvisioningClient } from "./adapters/graph/client";
import { graphCredential } from "./adapters/graph/credential";
import type { RunStore, WatermarkStore } from "./app/graphPoll";
import { createAlerts, ConversationRegistry, type Alerts } from "./app/alerts";
import { TableAlertStore, TableSubscriptionStore } from "./adapters/tables/alertStore";
import { createQueueClient } from "./adapters/queues/client";
import { QueueAlertOutbox } from "./adapters/queues/alertOutbox";
import { structuredLog, withInvocation, type InvocationLogger } from "./adapters/observability/log";
import { errorField, systemClock, type LogEntry } from "./app/ports";
import { tenantList } from "./core/access";
import { AccessControl } from "./app/access";
import { GraphDirectory } from "./adapters/graph/directory";
import { GraphJobControl } from "./adapters/graph/jobControl";
import { TableActionStore } from "./adapters/tables/actionsTable";
import { JobActions } from "./app/actions";
import { createAlertSender } from "./adapters/botframework/sender";
import { jobKey } from "./adapters/tables/keys";
import { createTeamsSsoVerifier } from "./adapters/http/teamsSso";
import type { TabGateDeps } from "./app/tabGate";

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
  /** The job actions' confirmations and log (kept whether actions are on or off, for retention). */
  actionStore: TableActionStore;
  watermarks: WatermarkStore & RunStore;
  /** Null when Graph polling is not configured. One client for logs, audits and job status. */
  graph: GraphProvisioningClient | null;
  /** The tenant Graph is read for ("" with a managed identity or a bare token: the deployment's own). */
  graphTenant: string;
  /** Null when PROVBOT_ALERTS=off. */
  alerts: Alerts | null;
  conversations: ConversationRegistry;
  /** One structured line through this invocation's logger (see adapters/observability/log.ts). */
  log(context: InvocationLogger, entry: LogEntry): void;
  /** The tab's data and downloads: who may read them (src/app/tabGate.ts). */
  tabGate: TabGateDeps;
  /** Runs a handler's work so that the use cases underneath log through its invocation. */
  invocation<T>(context: InvocationLogger, fn: () => Promise<T>): Promise<T>;
  startedAt: number;
}

let services: Services | undefined;

export function getServices(): Services {
  if (services) return services;
  const config = loadConfig(process.env, packageVersion());
  const tables = createTableFactory(config.storage, config.tablePrefix);
  const store = new TableEventStore(tables, { retentionDays: config.retentionDays });
  const query = new TableQueryStore(store, Date.now, config.ownTenant);
  const alertStore = new TableAlertStore(tables);
  // Tenant scoping: whenever there is a tenant rule (PROVBOT_ALLOWED_TENANTS, or bot authentication),
  // a conversation reads only its own tenant's events; only the local demo with neither sees all.
  // Records of the allowed tenants, and of the tenants granted to them, are stored.
  const tenants = tenantList(config.allowedTenants ? [...config.allowedTenants, ...Object.values(config.tenantGrants).flat()] : null);
  const talkers = tenantList(config.allowedTenants);
  const scoping = tenants !== null;
  const jobTenant = scoping ? async (jobKey: string) => (await query.jobs()).find((j) => j.jobKey === jobKey)?.tenantId ?? "" : undefined;
  const subs = new TableSubscriptionStore(tables);
  const conversations = new ConversationRegistry({ store: subs, clock: systemClock, log: structuredLog });
  const alerts = config.alerts.enabled
    ? createAlerts({
        subs,
        incidents: alertStore,
        thresholds: alertStore,
        query,
        sender: createAlertSender(config.bot),
        outbox: new QueueAlertOutbox(() => createQueueClient(config.storage, config.alerts.queue)),
        conversations,
        clock: systemClock,
        jobKeyOf: (e) => jobKey(e.jobId, e.servicePrincipal.id),
        log: structuredLog,
        maxAgeMinutes: config.alerts.maxAgeMinutes,
        statuses: store.statuses,
        audits: store.audits,
        ...(jobTenant ? { tenantScoped: true, jobTenant, tenantGrants: config.tenantGrants } : {}),
      })
    : null;
  // PROVBOT_ACCESS=tenant (the local host) checks no roles: no access rule at all.
  const access =
    config.access.mode === "tenant" || !config.graph
      ? undefined
      : new AccessControl({
          mode: config.access.mode,
          directory: new GraphDirectory({ credential: graphCredential(config.graph.auth), baseUrl: config.graph.baseUrl, maxRetries: 2, timeoutMs: 5_000 }),
          principals: new Set(config.access.principals),
          clock: systemClock,
        });
  const personalSender = createAlertSender(config.bot);
  const actionStore = new TableActionStore(tables);
  // Job actions (issue 26): only when turned on; a write client with no retries of its own.
  const actions =
    config.actions && config.graph
      ? new JobActions({
          confirmMs: config.actionConfirmSeconds * 1000,
          control: new GraphJobControl({ credential: graphCredential(config.graph.auth), baseUrl: config.graph.baseUrl, maxRetries: 0, timeoutMs: 30_000 }),
          store: actionStore,
          // The local host's tenant mode lets everyone act (the demo); elsewhere Entra's roles and owners decide.
          permission: access ?? { mayManage: async () => (config.access.mode === "tenant" ? "yes" : "no") },
          query,
          clock: systemClock,
          log: structuredLog,
          personal: async (userId, target, answer) => (await personalSender.sendPersonal!(userId, target, { kind: "card", card: answer.card, viewModel: answer.viewModel })).kind === "ok",
        })
      : null;
  const chat = createChatHandler({
    personal: async (userId, target, reply) => (await personalSender.sendPersonal!(userId, target, reply)).kind === "ok",
    tenants: talkers,
    tenantScoped: scoping,
    tenantGrants: config.tenantGrants,
    ...(access ? { access } : {}),
    refused: (e) => structuredLog({ event: "access.refused", ...e }),
    version: config.version,
    store: query, now: () => new Date(), maxQuestionChars: config.limits.questionMaxChars, conversations, ...(alerts ? { alerts: alerts.commands } : {}), ...(actions ? { actions } : {}), log: (m, err) => console.error(`[provbot] ${m}`, err) });
  const bot = createBotEndpoint(config.bot, chat, {
    error: (message, err) => console.error(`[provbot] ${message}`, err),
    refused: (status, reason) => structuredLog({ event: "bot.auth.refused", status, reason }),
  });
  const deadLetters = new TableDeadLetterStore(tables, systemClock);
  // Per-call timeout of 30 s (the pipeline retries a timed-out call with back-off).
  const graph = config.graph ? new GraphProvisioningClient({ credential: graphCredential(config.graph.auth), baseUrl: config.graph.baseUrl, timeoutMs: 30_000 }) : null;
  const built: Services = {
    config,
    tables,
    bot,
    store,
    query,
    deadLetters,
    alertStore,
    actionStore,
    ingest: { store, deadLetters, clock: systemClock, log: structuredLog, tenants, ownTenant: config.ownTenant, ...(alerts ? { afterStore: alertHook(alerts) } : {}) },
    watermarks: new TableWatermarkStore(tables),
    graph,
    // Job status read through a managed identity (or a bare token) names no tenant: the deployment's own.
    graphTenant: graphDataTenant(config),
    alerts,
    conversations,
    tabGate: {
      store: query,
      verifier: config.tab ? createTeamsSsoVerifier({ clientId: config.tab.clientId, appIdUri: config.tab.appIdUri, jwksUrl: config.tab.jwksUrl }) : null,
      openLocally: config.localHost && config.bot.mode === "none",
      tenants: talkers,
      tenantScoped: scoping,
      tenantGrants: config.tenantGrants,
      ...(access ? { access } : {}),
      refused: (e) => structuredLog({ event: "access.refused", via: "tab", ...e }),
    },
    log: (context, entry) => withInvocation(context, async () => structuredLog(entry)),
    invocation: withInvocation,
    startedAt: Date.now(),
  };
  services = built;
  return built;
}

/**
 * Alerts follow each stored batch: the rules are evaluated and what changed goes to the outbox
 * (never to Teams from here). A failure to evaluate is logged and never fails the ingest; the
 * timer evaluates again within a minute.
 */
function alertHook(alerts: Alerts) {
  return async (events: Parameters<Alerts["afterIngest"]>[0]) => {
    try {
      await alerts.afterIngest(events);
    } catch (err) {
      structuredLog({ event: "alert.evaluation.failed", events: events.length, error: errorField(err) });
    }
  };
}

/** For tests that change the environment between cases. */
export function resetServices(): void {
  services = undefined;
}
