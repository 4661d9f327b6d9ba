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
  watermarks: WatermarkStore;
  /** Null when Graph polling is not configured. */
  graph: GraphSource | null;
  startedAt: number;
}

let services: Services | undefined;

export function getServices(): Services {
  if (services) return services;
  const config = loadConfig(process.env, packageVersion());
  const tables = createTableFactory(config.storage, config.tablePrefix);
  const store = new TableEventStore(tables);
  const query = new TableQueryStore(store, config.retentionDays);
  const chat = createChatHandler({ version: config.version, store: query, now: () => new Date() });
  const bot = createBotEndpoint(config.bot, chat, {
    error: (message, err) => console.error(`[provbot] ${message}`, err),
  });
  const deadLetters = new TableDeadLetterStore(tables, systemClock);
  const graph = config.graph ? new GraphProvisioningClient({ credential: graphCredential(config.graph.auth), baseUrl: config.graph.baseUrl }) : null;
  services = { config, tables, bot, store, query, ingest: { store, deadLetters }, watermarks: new TableWatermarkStore(tables), graph, startedAt: Date.now() };
  return services;
}

/** For tests that change the environment between cases. */
export function resetServices(): void {
  services = undefined;
}
