import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A loopback Microsoft Graph for `npm start` and the tests (dev tooling, not product code). It
 * speaks the documented protocol of the endpoints provbot reads:
 * - GET /v1.0/auditLogs/provisioning and /v1.0/auditLogs/directoryAudits: $filter on
 *   activityDateTime (gt / lt) and loggedByService (eq), $top, @odata.nextLink with a $skiptoken;
 * - GET /v1.0/servicePrincipals ($select, $top, paged) and
 *   /v1.0/servicePrincipals/{id}/synchronization/jobs (404 for an unknown service principal);
 * - scripted faults (429 with Retry-After, 5xx, slow answers), and `throttleEvery` for a 429 on
 *   every Nth request, as a busy tenant gives.
 * A `tail` adds records made as the clock reaches them (the demo tenant keeps running).
 * A record with `visibleAt` is served only from that time on (Graph publishes some records hours
 * late); the field itself is not served.
 */
export type Fault = { status: number; headers?: Record<string, string>; body?: string } | { delayMs: number };

export interface GraphState {
  baseUrl: string;
  events: Record<string, unknown>[];
  /** Records made as the clock reaches them (the demo's live tail): those in (from, to]. */
  tail: ((fromMs: number, toMs: number) => Record<string, unknown>[]) | null;
  audits: Record<string, unknown>[];
  servicePrincipals: { id: string; appId: string; displayName: string }[];
  /** Service principal id -> its synchronizationJob objects (or a function of the emulator's clock). */
  jobs: Record<string, Record<string, unknown>[] | ((nowMs: number) => Record<string, unknown>[])>;
  requests: { url: string; authorization: string | undefined; at: number }[];
  /** Faults applied, one per request, to the next requests. */
  faults: Fault[];
  /** A 429 with Retry-After: 1 on every Nth request (0: never). */
  throttleEvery: number;
  /** Page size of the service principal list when the request has no $top. */
  servicePrincipalPage: number;
  /** The emulator's clock (records with a later visibleAt are not published yet). */
  now: () => number;
  close(): Promise<void>;
}

function parseFilter(filter: string): { gt?: number; lt?: number; service?: string } {
  const gt = /activityDateTime gt (\S+)/.exec(filter)?.[1];
  const lt = /activityDateTime lt (\S+)/.exec(filter)?.[1];
  const service = /loggedByService eq '([^']*)'/.exec(filter)?.[1];
  return { gt: gt ? Date.parse(gt) : undefined, lt: lt ? Date.parse(lt) : undefined, service };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(typeof body === "string" ? body : JSON.stringify(body));
}

function paged(state: GraphState, url: URL, items: unknown[], defaultTop: number, context: string): Record<string, unknown> {
  const top = Math.max(1, Math.min(999, Number(url.searchParams.get("$top") ?? defaultTop) || defaultTop));
  const skip = Number(url.searchParams.get("$skiptoken") ?? 0) || 0;
  const body: Record<string, unknown> = { "@odata.context": `https://graph.microsoft.com/v1.0/$metadata#${context}`, value: items.slice(skip, skip + top) };
  if (skip + top < items.length) {
    const next = new URL(url.toString());
    next.searchParams.set("$skiptoken", String(skip + top));
    body["@odata.nextLink"] = `${state.baseUrl}${url.pathname.replace(/^\/v1\.0/, "")}?${next.searchParams.toString()}`;
  }
  return body;
}

/** Records in the filter's window that are published by now, newest first (as Graph mostly returns them). */
function windowOf(state: GraphState, records: Record<string, unknown>[], filter: string, tail: GraphState["tail"] = null): Record<string, unknown>[] {
  const { gt, lt, service } = parseFilter(filter);
  const now = state.now();
  const live = tail ? tail(gt ?? 0, Math.min(now, (lt ?? Infinity) - 1)) : [];
  return [...records, ...live]
    .filter((e) => {
      const t = Date.parse(String(e["activityDateTime"]));
      const visible = e["visibleAt"] === undefined || Date.parse(String(e["visibleAt"])) <= now;
      return visible && (gt === undefined || t > gt) && (lt === undefined || t < lt) && (service === undefined || e["loggedByService"] === service);
    })
    .sort((a, b) => String(b["activityDateTime"]).localeCompare(String(a["activityDateTime"])))
    .map(({ visibleAt: _v, ...rest }) => rest);
}

function route(state: GraphState, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const path = url.pathname;
  if (req.method !== "GET") return send(res, 405, { error: { code: "MethodNotAllowed", message: "read-only emulator" } });
  if (path === "/v1.0/auditLogs/provisioning") return send(res, 200, paged(state, url, windowOf(state, state.events, url.searchParams.get("$filter") ?? "", state.tail), 100, "auditLogs/provisioning"));
  if (path === "/v1.0/auditLogs/directoryAudits") return send(res, 200, paged(state, url, windowOf(state, state.audits, url.searchParams.get("$filter") ?? ""), 100, "auditLogs/directoryAudits"));
  if (path === "/v1.0/servicePrincipals") {
    const top = url.searchParams.get("$top") ? Number(url.searchParams.get("$top")) : state.servicePrincipalPage;
    // Graph caps a page at what it likes; the emulator uses the smaller of $top and its own page size.
    const u = new URL(url.toString());
    u.searchParams.set("$top", String(Math.min(top, state.servicePrincipalPage)));
    return send(res, 200, paged(state, u, state.servicePrincipals, state.servicePrincipalPage, "servicePrincipals(id,appId,displayName)"));
  }
  const jobs = /^\/v1\.0\/servicePrincipals\/([^/]+)\/synchronization\/jobs$/.exec(path);
  if (jobs) {
    const id = decodeURIComponent(jobs[1]!);
    if (!state.servicePrincipals.some((s) => s.id === id) && !state.jobs[id]) return send(res, 404, { error: { code: "Request_ResourceNotFound", message: `Resource '${id}' does not exist.` } });
    const list = state.jobs[id] ?? [];
    return send(res, 200, { "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals('id')/synchronization/jobs", value: typeof list === "function" ? list(state.now()) : list });
  }
  send(res, 404, { error: { code: "ResourceNotFound", message: `no route for ${path}` } });
}

export async function startGraphEmulator(init: Partial<Omit<GraphState, "baseUrl" | "close" | "requests">> = {}, port = 0): Promise<GraphState> {
  const state: GraphState = {
    baseUrl: "",
    events: init.events ?? [],
    tail: init.tail ?? null,
    audits: init.audits ?? [],
    servicePrincipals: init.servicePrincipals ?? [],
    jobs: init.jobs ?? {},
    requests: [],
    faults: init.faults ?? [],
    throttleEvery: init.throttleEvery ?? 0,
    servicePrincipalPage: init.servicePrincipalPage ?? 100,
    now: init.now ?? Date.now,
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    state.requests.push({ url: new URL(req.url ?? "/", "http://127.0.0.1").toString(), authorization: req.headers.authorization, at: Date.now() });
    if (!req.headers.authorization?.startsWith("Bearer ")) return send(res, 401, { error: { code: "InvalidAuthenticationToken", message: "Access token is empty." } });
    const fault = state.faults.shift();
    if (fault && "status" in fault) return send(res, fault.status, fault.body ?? { error: { code: "Simulated", message: `simulated ${fault.status}` } }, fault.headers ?? {});
    if (state.throttleEvery > 0 && state.requests.length % state.throttleEvery === 0) {
      return send(res, 429, { error: { code: "TooManyRequests", message: "Too many requests (emulated throttling)." } }, { "retry-after": "1" });
    }
    if (fault && "delayMs" in fault) {
      setTimeout(() => {
        if (!res.destroyed) route(state, req, res);
      }, fault.delayMs);
      return;
    }
    route(state, req, res);
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1.0`;
  state.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return state;
}
