import { app, type InvocationContext, type Timer } from "@azure/functions";
import { getServices } from "../src/composition";

/**
 * Every minute: silent jobs, resolution of incidents that went quiet, retries of throttled or
 * failed sends, and open incidents for conversations that subscribed since.
 */
export async function alertsTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  const alerts = getServices().alerts;
  if (!alerts) return;
  const run = await alerts.tick();
  const sent = run.deliveries.filter((d) => d.action !== "skipped");
  if (run.changed.length || sent.length) context.log(`alerts: ${run.changed.length} incidents changed, ${sent.length} cards sent or updated`);
}

app.timer("alertsTimer", { schedule: "0 * * * * *", handler: alertsTimer });
