import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getServices } from "../src/composition";
import { checkStorage } from "../src/adapters/tables/client";
import { checkQueue } from "../src/adapters/queues/client";

/**
 * GET /api/health: version, whether Table Storage answers, whether the alert queue answers and
 * exists, uptime, and how each Graph poller's last run ended (a run cut short or failed says why:
 * a 403 there is a missing Graph permission). 503 when storage is down. `npm run verify` reads it.
 */
export async function health(_request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  const services = getServices();
  const [storage, alertQueue] = await Promise.all([checkStorage(services.tables), services.alerts ? checkQueue(services.config.storage, services.config.alerts.queue) : null]);
  const graph = storage.reachable && services.graph ? await services.watermarks.runs().catch(() => null) : null;
  return {
    status: storage.reachable ? 200 : 503,
    jsonBody: {
      status: storage.reachable ? "ok" : "degraded",
      version: services.config.version,
      storage,
      ...(alertQueue ? { alertQueue } : {}),
      ...(graph ? { graph, graphCutShort: Object.values(graph).some((r) => r.outcome === "cut-short") } : {}),
      uptimeSeconds: Math.round((Date.now() - services.startedAt) / 1000),
    },
  };
}

app.http("health", { route: "health", methods: ["GET"], authLevel: "anonymous", handler: health });
