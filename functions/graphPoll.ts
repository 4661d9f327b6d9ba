import { app, type InvocationContext, type Timer } from "@azure/functions";
import { getServices } from "../src/composition";
import { pollAudits, pollGraph, recordedRun } from "../src/app/graphPoll";
import { errorField, systemClock } from "../src/app/ports";
import { graphWatermarkName } from "../src/config";

/**
 * Every 5 minutes: the provisioning audit trail first (so that a burst in the events that follow
 * finds the configuration change that caused it), then new provisioning events from Microsoft
 * Graph (with the slower sweep for late records when it is due). A failing audit read never holds
 * up the events: it is logged, and the next run reads from its own watermark. A run that Graph's
 * client cut short (a nextLink off the Graph origin, a repeated link, a cap) fails, is logged, and
 * shows on GET /api/health.
 */
export async function graphPoll(_timer: Timer, context: InvocationContext): Promise<void> {
  const services = getServices();
  if (!services.graph || !services.config.graph) {
    context.log("graph polling is not configured (PROVBOT_GRAPH_*); skipping");
    return;
  }
  const graph = services.graph;
  const graphConfig = services.config.graph;
  const watermarkName = graphWatermarkName(graphConfig.auth);
  const options = { watermarkName, lookbackMinutes: graphConfig.lookbackMinutes, initialDays: graphConfig.initialDays };
  try {
    const audits = await services.invocation(context, () => recordedRun("graph.audits", services.watermarks, systemClock, () => pollAudits(graph, services.watermarks, services.store.audits, systemClock, options)));
    services.log(context, { event: "audit.poll", pages: audits.pages, since: audits.since, stored: audits.accepted, rejected: audits.rejected, watermark: audits.watermark });
  } catch (err) {
    services.log(context, { event: "audit.poll.failed", error: errorField(err) });
  }
  const started = Date.now();
  const report = await services.invocation(context, () => recordedRun("graph.events", services.watermarks, systemClock, () => pollGraph(graph, services.watermarks, services.ingest, systemClock, { ...options, late: { hours: graphConfig.lateHours, everyMinutes: graphConfig.lateEveryMinutes } })));
  services.log(context, { event: "ingest.call", source: "graph", pages: report.pages, since: report.since, accepted: report.accepted, duplicates: report.duplicates, rejected: report.rejected, watermark: report.watermark, latePages: report.late?.pages ?? null, lateAccepted: report.late?.accepted ?? null, lateSince: report.late?.since ?? null, ms: Date.now() - started });
}

app.timer("graphPoll", { schedule: "0 */5 * * * *", handler: graphPoll });
