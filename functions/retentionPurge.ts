import { app, type InvocationContext, type Timer } from "@azure/functions";
import { getServices } from "../src/composition";
import { runRetention } from "../src/app/retention";

/** Daily at 03:30 UTC: drop events and indexes older than PROVBOT_RETENTION_DAYS (default 30). */
export async function retentionPurge(_timer: Timer, context: InvocationContext): Promise<void> {
  const s = getServices();
  const outcome = await runRetention({ store: s.store, deadLetters: s.deadLetters, alerts: s.alertStore, actions: s.actionStore, retentionDays: s.config.retentionDays, now: () => new Date() });
  context.log(`retention: removed before ${outcome.cutoff}: ${JSON.stringify(outcome)}`);
}

app.timer("retentionPurge", { schedule: "0 30 3 * * *", handler: retentionPurge });
