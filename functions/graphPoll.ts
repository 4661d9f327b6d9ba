import { app, type InvocationContext, type Timer } from "@azure/functions";
import { getServices } from "../src/composition";
import { pollGraph } from "../src/app/graphPoll";
import { systemClock } from "../src/app/ports";

/** Every 5 minutes: read new provisioning events from Microsoft Graph (when configured). */
export async function graphPoll(_timer: Timer, context: InvocationContext): Promise<void> {
  const services = getServices();
  if (!services.graph || !services.config.graph) {
    context.log("graph polling is not configured (PROVBOT_GRAPH_*); skipping");
    return;
  }
  const report = await pollGraph(services.graph, services.watermarks, services.ingest, systemClock, {
    watermarkName: `graph:${services.config.graph.auth.kind === "managedIdentity" ? "mi" : services.config.graph.auth.tenantId}`,
    lookbackMinutes: services.config.graph.lookbackMinutes,
    initialDays: services.config.graph.initialDays,
  });
  context.log(`graph: ${report.pages} pages since ${report.since}: ${report.accepted} new, ${report.duplicates} already stored, ${report.rejected} rejected; watermark ${report.watermark}`);
}

app.timer("graphPoll", { schedule: "0 */5 * * * *", handler: graphPoll });
