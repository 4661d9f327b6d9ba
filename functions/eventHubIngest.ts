import { app, type InvocationContext } from "@azure/functions";
import { getServices } from "../src/composition";
import { ingestItems } from "../src/app/ingest";
import { eventHubItems } from "../src/core/ingest/eventHub";

/**
 * Entra diagnostic settings (category ProvisioningLogs) streamed to an Event Hub. Each message is
 * {"records": [...]}. Bad records go to the dead-letter table; only a storage failure throws, so
 * the host retries the batch from its checkpoint and nothing is lost.
 */
export async function eventHubIngest(messages: unknown[], context: InvocationContext): Promise<void> {
  const services = getServices();
  const items = eventHubItems(Array.isArray(messages) ? messages : [messages]);
  const started = Date.now();
  const report = await services.invocation(context, () => ingestItems(items, "eventhub", services.ingest, "eventHub"));
  services.log(context, { event: "ingest.call", source: "eventhub", accepted: report.accepted, duplicates: report.duplicates, ignored: report.ignored, rejected: report.rejectedCount, ms: Date.now() - started });
}

app.eventHub("eventHubIngest", {
  eventHubName: "insights-logs-provisioninglogs",
  connection: "PROVBOT_EVENTHUB",
  // infra/ creates a consumer group of provbot's own (the setting is "$Default" without one).
  consumerGroup: "%PROVBOT_EVENTHUB_CONSUMER_GROUP%",
  cardinality: "many",
  handler: eventHubIngest,
});
