import { app, type InvocationContext } from "@azure/functions";
import { getServices } from "../src/composition";
import { parseIncidentRef } from "../src/app/alertPorts";

/**
 * The alert outbox's sender: one queue message per changed incident (written by the evaluation
 * after an ingest, or by a card action). Delivery results are kept in the delivery rows; only a
 * storage failure throws, so the host retries the message (and moves it to the poison queue after
 * 5 attempts; the alerts timer still delivers anything left pending).
 */
export async function alertsSend(message: unknown, context: InvocationContext): Promise<void> {
  const services = getServices();
  const alerts = services.alerts;
  if (!alerts) return;
  const ref = parseIncidentRef(message);
  if (!ref) {
    services.log(context, { event: "alert.outbox.unreadable", dequeueCount: Number(context.triggerMetadata?.["dequeueCount"] ?? 0) });
    return;
  }
  const deliveries = await services.invocation(context, () => alerts.send([ref]));
  const sent = deliveries.filter((d) => d.action !== "skipped").length;
  services.log(context, { event: "alert.outbox.done", incidentId: ref.incidentId, version: ref.version, sent, skipped: deliveries.length - sent });
}

app.storageQueue("alertsSend", { queueName: "%PROVBOT_ALERT_QUEUE%", connection: "AzureWebJobsStorage", handler: alertsSend });
