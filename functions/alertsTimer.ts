import { app, type InvocationContext, type Timer } from "@azure/functions";
import { getServices } from "../src/composition";

/**
 * Every minute: silent jobs, resolution of incidents that went quiet, and the outbox's safety net:
 * every active incident is delivered again (retries of throttled or failed sends, cards the queue
 * never delivered, conversations that subscribed since). Delivery rows keep it from posting twice.
 */
export async function alertsTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  const services = getServices();
  const alerts = services.alerts;
  if (!alerts) return;
  const run = await services.invocation(context, () => alerts.tick());
  const sent = run.deliveries.filter((d) => d.action !== "skipped").length;
  if (run.changed.length || sent) services.log(context, { event: "alert.timer", changed: run.changed.length, sent });
}

app.timer("alertsTimer", { schedule: "0 * * * * *", handler: alertsTimer });
