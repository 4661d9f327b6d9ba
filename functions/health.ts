import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getServices } from "../src/composition";
import { checkStorage } from "../src/adapters/tables/client";

/** GET /api/health: version, whether Table Storage answers, and uptime. 503 when storage is down. */
export async function health(_request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  const services = getServices();
  const storage = await checkStorage(services.tables);
  return {
    status: storage.reachable ? 200 : 503,
    jsonBody: {
      status: storage.reachable ? "ok" : "degraded",
      version: services.config.version,
      storage,
      uptimeSeconds: Math.round((Date.now() - services.startedAt) / 1000),
    },
  };
}

app.http("health", { route: "health", methods: ["GET"], authLevel: "anonymous", handler: health });
