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
  const graph = services.graph;
  const graphConfig = services.config.graph;
  const auth = graphConfig.auth;
  const watermarkName = `graph:${auth.kind === "managedIdentity" ? "mi" : auth.tenantId}`;
  const started = Date.now();
  const report = await services.invocation(context, () => pollGraph(graph, services.watermarks, services.ingest, systemClock, {
    watermarkName,
    lookbackMinutes: graphConfig.lookbackMinutes,
    initialDays: graphConfig.initialDays,
  }));
  services.log(context, { event: "ingest.call", source: "graph", pages: report.pages, since: report.since, accepted: report.accepted, duplicates: report.duplicates, rejected: report.rejected, watermark: report.watermark, ms: Date.now() - started });
}

app.timer("graphPoll", { schedule: "0 */5 * * * *", handler: graphPoll });
