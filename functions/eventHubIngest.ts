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
  const items = eventHubItems(Array.isArray(messages) ? messages : [messages]);
  const report = await ingestItems(items, "eventhub", getServices().ingest, "eventHub");
  context.log(`eventhub: ${report.accepted} accepted, ${report.duplicates} duplicates, ${report.ignored} other categories, ${report.rejectedCount} rejected`);
}

app.eventHub("eventHubIngest", {
  eventHubName: "insights-logs-provisioninglogs",
  connection: "PROVBOT_EVENTHUB",
  cardinality: "many",
  handler: eventHubIngest,
});
