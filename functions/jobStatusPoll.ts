import { app, type InvocationContext, type Timer } from "@azure/functions";
import { getServices } from "../src/composition";
import { pollJobStatus } from "../src/app/jobStatusPoll";
import { recordedRun } from "../src/app/graphPoll";
import { systemClock } from "../src/app/ports";
import { jobKey } from "../src/adapters/tables/keys";

/**
 * Every 5 minutes: every provisioning job's status (the provisioning summary report) from
 * Microsoft Graph, kept with its history; then the job-health alerts (quarantine, paused, initial
 * cycle completed, the forecast).
 */
export async function jobStatusPoll(_timer: Timer, context: InvocationContext): Promise<void> {
  const services = getServices();
  const graph = services.graph;
  if (!graph) {
    context.log("job status is not read: Graph is not configured (PROVBOT_GRAPH_*); skipping");
    return;
  }
  const started = Date.now();
  const outcome = await services.invocation(context, () => recordedRun("graph.jobs", services.watermarks, systemClock, async () => {
    // Service principals known from stored events, and every one Graph lists (a job quarantined
    // for credentials logs no event to find it by).
    const known = (await services.query.jobs(true)).filter((j) => !j.statusOnly && j.servicePrincipalId).map((j) => ({ id: j.servicePrincipalId!, displayName: j.app }));
    const result = await pollJobStatus({ source: graph, store: services.store.statuses, jobKeyOf: jobKey, tenantId: services.graphTenant }, known, new Date().toISOString());
    // This instance's answers see the new status at once (other instances within their cache minute).
    await services.query.jobs(true);
    const alerts = services.alerts ? await services.alerts.afterJobStatus(result.readings) : [];
    return { ...result, alerts: alerts.length };
  }));
  services.log(context, {
    event: "jobstatus.poll",
    servicePrincipals: outcome.servicePrincipals,
    jobs: outcome.jobs,
    changes: outcome.readings.filter((r) => r.transitions.length > 0).map((r) => `${r.record.jobKey}:${r.transitions.join("+")}`).join(" ").slice(0, 2000),
    failed: outcome.failed.length,
    // Incidents opened or changed by this reading and handed to the outbox (0: no card will follow).
    alerts: outcome.alerts,
    ms: Date.now() - started,
  });
}

app.timer("jobStatusPoll", { schedule: "30 */5 * * * *", handler: jobStatusPoll });
