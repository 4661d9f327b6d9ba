import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A loopback Microsoft Graph for `npm start` and the tests (dev tooling, not product code). It
 * speaks the documented protocol of the endpoints provbot reads:
 * - GET /v1.0/auditLogs/provisioning and /v1.0/auditLogs/directoryAudits: $filter on
 *   activityDateTime (gt / lt) and loggedByService (eq), $top, @odata.nextLink with a $skiptoken;
 * - GET /v1.0/servicePrincipals ($select, $top, paged) and
 *   /v1.0/servicePrincipals/{id}/synchronization/jobs (404 for an unknown service principal);
 * - the synchronization actions (issue 26): GET .../jobs/{id}/schema, POST .../provisionOnDemand
 *   (at most `onDemandLimit` a window, then 429 with Retry-After), .../restart, .../pause and
 *   .../start, which change the job's status as Graph reports it; and the directory reads of access
 *   control (a user's directory roles and owned service principals) from `directory`;
 * - scripted faults (429 with Retry-After, 5xx, slow answers), and `throttleEvery` for a 429 on
 *   every Nth request, as a busy tenant gives.
 * A `tail` adds records made as the clock reaches them (the demo tenant keeps running).
 * A record with `visibleAt` is served only from that time on (Graph publishes some records hours
 * late); the field itself is not served.
 */
/** A directory user as access control and job actions read it: directory roles (template ids) and owned service principals. */
export interface EmulatedUser {
  roles?: string[];
  owns?: string[];
  groups?: string[];
}

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
  /** Directory users by object id (null: the directory endpoints answer 404 for everyone). */
  directory: Record<string, EmulatedUser> | null;
  /** The synchronization actions received (POSTs), with their bodies, in order. */
  actions: { path: string; body: unknown; at: number }[];
  /** Provision-on-demand requests Graph takes per window before it answers 429 (Graph: about 5 in 10 s per tenant). */
  onDemandLimit: { max: number; ms: number };
  /** What a provision on demand does to an object: the steps Graph answers with (default: created). */
  onDemand: (servicePrincipalId: string, jobId: string, subject: { objectId: string; objectTypeName: string }) => Record<string, unknown>[];
  /** Job states changed by actions (job id -> code), laid over the jobs' own status. */
  jobState: Record<string, { code: "Active" | "Paused"; quarantineCleared: boolean; restarts: number }>;
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

/** The default on-demand answer: the portal's four steps, ending in a create. */
export function onDemandSteps(subject: { objectId: string; objectTypeName: string }, target = "the app"): Record<string, unknown>[] {
  return [
    { name: "EntryImport", type: "Import", status: "Success", description: `Retrieved ${subject.objectTypeName} '${subject.objectId}' from Microsoft Entra ID`, details: { objectId: subject.objectId } },
    { name: "EntrySynchronizationScoping", type: "Scoping", status: "Success", description: `Determine if ${subject.objectTypeName} in scope by evaluating against each scoping filter`, details: { "Active in the source system": "True", "Assigned to the application": "True", "Scoping filter evaluation passed": "True" } },
    { name: "EntryImportByMatching", type: "Matching", status: "Success", description: `Retrieved ${subject.objectTypeName} from ${target} by matching on userName`, details: {} },
    { name: "EntryExportUpdate", type: "Export", status: "Success", description: `${subject.objectTypeName} '${subject.objectId}' was updated in ${target}`, details: {} },
  ];
}

function directoryRoute(state: GraphState, url: URL, res: ServerResponse): boolean {
  const m = /^\/v1\.0\/users\/([^/]+)\/(transitiveMemberOf|ownedObjects)\/microsoft\.graph\.(directoryRole|group|servicePrincipal)$/.exec(url.pathname);
  if (m) {
    const user = state.directory?.[decodeURIComponent(m[1]!).toLowerCase()];
    if (!user) {
      send(res, 404, { error: { code: "Request_ResourceNotFound", message: "no such user" } });
      return true;
    }
    const value = m[3] === "directoryRole" ? (user.roles ?? []).map((r, i) => ({ id: `role-${i}`, roleTemplateId: r })) : m[3] === "group" ? (user.groups ?? []).map((id) => ({ id })) : (user.owns ?? []).map((id) => ({ id }));
    send(res, 200, { value });
    return true;
  }
  if (url.pathname === "/v1.0/roleManagement/directory/roleAssignments") {
    send(res, 200, { value: [] });
    return true;
  }
  return false;
}

function withState(state: GraphState, job: Record<string, unknown>): Record<string, unknown> {
  const over = state.jobState[String(job["id"])];
  if (!over) return job;
  const status = { ...(job["status"] as Record<string, unknown>), code: over.code, ...(over.quarantineCleared ? { quarantine: null } : {}) };
  return { ...job, status, schedule: { ...(job["schedule"] as Record<string, unknown>), state: over.code === "Paused" ? "Paused" : "Active" } };
}

function jobsOfSp(state: GraphState, id: string): Record<string, unknown>[] {
  const list = state.jobs[id] ?? [];
  return (typeof list === "function" ? list(state.now()) : list).map((j) => withState(state, j));
}

function actionRoute(state: GraphState, req: IncomingMessage, url: URL, body: unknown, res: ServerResponse): void {
  const m = /^\/v1\.0\/servicePrincipals\/([^/]+)\/synchronization\/jobs\/([^/]+)\/(provisionOnDemand|restart|pause|start)$/.exec(url.pathname);
  if (!m) return send(res, 405, { error: { code: "MethodNotAllowed", message: `no action at ${url.pathname}` } });
  const [sp, jobId, verb] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), m[3]!];
  const job = jobsOfSp(state, sp).find((j) => j["id"] === jobId);
  if (!job) return send(res, 404, { error: { code: "Request_ResourceNotFound", message: `Job '${jobId}' does not exist.` } });
  if (verb === "provisionOnDemand") {
    const now = Date.now();
    const recent = state.actions.filter((a) => a.path.endsWith("/provisionOnDemand") && now - a.at < state.onDemandLimit.ms).length;
    if (recent >= state.onDemandLimit.max) return send(res, 429, { error: { code: "TooManyRequests", message: "Too many provision on demand requests." } }, { "retry-after": String(Math.ceil(state.onDemandLimit.ms / 1000)) });
    const p = (body as { parameters?: { ruleId?: unknown; subjects?: { objectId?: unknown; objectTypeName?: unknown }[] }[] } | null)?.parameters?.[0];
    const subject = p?.subjects?.[0];
    if (typeof p?.ruleId !== "string" || typeof subject?.objectId !== "string" || typeof subject.objectTypeName !== "string") return send(res, 400, { error: { code: "BadRequest", message: "parameters[0] needs a ruleId and one subject with objectId and objectTypeName" } });
    state.actions.push({ path: url.pathname, body, at: now });
    const steps = state.onDemand(sp, jobId, { objectId: subject.objectId, objectTypeName: subject.objectTypeName });
    return send(res, 200, { "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.stringKeyStringValuePair", key: "Microsoft.Identity.Health.CPP.Common.DataContracts.SyncFromAADService.DirectoryEventBatch", value: JSON.stringify([{ provisioningSteps: steps, modifiedProperties: [] }]) });
  }
  state.actions.push({ path: url.pathname, body, at: Date.now() });
  const current = state.jobState[jobId] ?? { code: "Active", quarantineCleared: false, restarts: 0 };
  if (verb === "pause") state.jobState[jobId] = { ...current, code: "Paused" };
  if (verb === "start") state.jobState[jobId] = { ...current, code: "Active", quarantineCleared: true };
  if (verb === "restart") state.jobState[jobId] = { code: "Active", quarantineCleared: true, restarts: current.restarts + 1 };
  res.writeHead(204);
  res.end();
}

function route(state: GraphState, req: IncomingMessage, res: ServerResponse, body: unknown = null): void {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const path = url.pathname;
  if (req.method === "POST") return actionRoute(state, req, url, body, res);
  if (req.method !== "GET") return send(res, 405, { error: { code: "MethodNotAllowed", message: "GET and the synchronization actions only" } });
  if (directoryRoute(state, url, res)) return;
  const schema = /^\/v1\.0\/servicePrincipals\/([^/]+)\/synchronization\/jobs\/([^/]+)\/schema$/.exec(path);
  if (schema) {
    const job = jobsOfSp(state, decodeURIComponent(schema[1]!)).find((j) => j["id"] === decodeURIComponent(schema[2]!));
    if (!job) return send(res, 404, { error: { code: "Request_ResourceNotFound", message: "no such job" } });
    const inbound = /^workday/i.test(String(job["templateId"] ?? job["id"]));
    const source = inbound ? "worker" : "User";
    return send(res, 200, { synchronizationRules: [{ id: `${String(job["templateId"] ?? "job")}.rule`, name: inbound ? "WORKER_INBOUND" : "USER_OUTBOUND", objectMappings: [{ sourceObjectName: source, targetObjectName: "User", enabled: true }, ...(inbound ? [] : [{ sourceObjectName: "Group", targetObjectName: "Group", enabled: true }])] }] });
  }
  const members = /^\/v1\.0\/groups\/([^/]+)\/members$/.exec(path);
  if (members) return send(res, 200, { value: Array.from({ length: 3 }, (_, i) => ({ id: `member-${i}` })) });
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
    return send(res, 200, { "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals('id')/synchronization/jobs", value: jobsOfSp(state, id) });
  }
  send(res, 404, { error: { code: "ResourceNotFound", message: `no route for ${path}` } });
}

export async function startGraphEmulator(init: Partial<Omit<GraphState, "baseUrl" | "close" | "requests" | "actions" | "jobState">> = {}, port = 0): Promise<GraphState> {
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
    directory: init.directory ?? null,
    actions: [],
    onDemandLimit: init.onDemandLimit ?? { max: 5, ms: 10_000 },
    onDemand: init.onDemand ?? ((_sp, _job, subject) => onDemandSteps(subject)),
    jobState: {},
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
    if (req.method !== "POST") return route(state, req, res);
    // A POST's body, bounded: the synchronization actions take a small JSON body (or none).
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= 64 * 1024) chunks.push(c);
    });
    req.on("end", () => {
      if (size > 64 * 1024) return send(res, 413, { error: { code: "RequestTooLarge", message: "body too large" } });
      let body: unknown = null;
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : null;
      } catch {
        return send(res, 400, { error: { code: "BadRequest", message: "body is not JSON" } });
      }
      route(state, req, res, body);
    });
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
