import { app, type InvocationContext, type Timer } from "@azure/functions";
import { getServices } from "../src/composition";
import { deleteWhere } from "../src/adapters/tables/batch";
import { odata } from "@azure/data-tables";
import { TableAlertStore } from "../src/adapters/tables/alertStore";

/** Daily at 03:30 UTC: drop events and indexes older than PROVBOT_RETENTION_DAYS (default 30). */
export async function retentionPurge(_timer: Timer, context: InvocationContext): Promise<void> {
  const services = getServices();
  const cutoff = new Date(Date.now() - services.config.retentionDays * 86_400_000).toISOString();
  const report = await services.store.purgeBefore(cutoff);
  const dead = services.tables.table("deadletters");
  report.deadLetters = await deleteWhere(dead, odata`PartitionKey lt ${cutoff.slice(0, 10).replace(/-/g, "")}`).catch(() => 0);
  const alerts = await new TableAlertStore(services.tables).purgeBefore(cutoff).catch(() => 0);
  context.log(`retention: ${alerts} alert rows (deliveries, resolved incidents)`);
  context.log(`retention: removed before ${cutoff}: ${JSON.stringify(report)}`);
}

app.timer("retentionPurge", { schedule: "0 30 3 * * *", handler: retentionPurge });
