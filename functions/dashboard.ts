import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getServices } from "../src/composition";
import { cycles, event, events, objects, overview, type DashboardResult } from "../src/app/dashboard";
import { openTabStore } from "../src/app/tabGate";
import type { QueryStore } from "../src/app/queryPorts";

/**
 * GET /api/dashboard/{view}: the Teams tab's data (overview, objects, events, event, cycles), read through
 * the same query layer as the bot's answers, for the person the Teams SSO token names and as the
 * bot's access rule allows (src/app/tabGate.ts).
 */
const VIEWS: Record<string, (params: Record<string, string>, store: QueryStore, now: Date) => Promise<DashboardResult>> = {
  overview,
  events,
  event: (params, store) => event(params, store),
  cycles,
  objects,
};

export async function dashboard(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const services = getServices();
  const name = request.params["view"] ?? "";
  // Own keys only: "__proto__" from the path must not find Object.prototype.
  if (!Object.hasOwn(VIEWS, name)) return { status: 404, jsonBody: { error: `no view "${name.slice(0, 40)}"; views: ${Object.keys(VIEWS).join(", ")}` } };
  const view = VIEWS[name]!;
  const gate = await openTabStore(services.tabGate, request.headers.get("authorization"));
  if (!gate.ok) return { status: gate.status, jsonBody: { error: gate.error } };
  const result = await services.invocation(context, () => view(Object.fromEntries(request.query.entries()), gate.store, new Date()));
  return { status: result.status, jsonBody: result.body, headers: { "cache-control": "no-store" } };
}

app.http("dashboard", { route: "dashboard/{view}", methods: ["GET"], authLevel: "anonymous", handler: dashboard });
