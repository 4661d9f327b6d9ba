import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getServices } from "../src/composition";
import { checkStorage } from "../src/adapters/tables/client";

/**
 * GET /api/health: version, whether Table Storage answers, uptime, and how each Graph poller's last
 * run ended (a run cut short says why). 503 when storage is down.
 */
export async function health(_request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  const services = getServices();
  const storage = await checkStorage(services.tables);
  const graph = storage.reachable && services.graph ? await services.watermarks.runs().catch(() => null) : null;
  return {
    status: storage.reachable ? 200 : 503,
    jsonBody: {
      status: storage.reachable ? "ok" : "degraded",
      version: services.config.version,
      storage,
      ...(graph ? { graph, graphCutShort: Object.values(graph).some((r) => r.outcome === "cut-short") } : {}),
      uptimeSeconds: Math.round((Date.now() - services.startedAt) / 1000),
    },
  };
}

app.http("health", { route: "health", methods: ["GET"], authLevel: "anonymous", handler: health });
