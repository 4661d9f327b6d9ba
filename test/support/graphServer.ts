import { createServer, type Server } from "node:http";
import { listenOnLoopback } from "./loopback";

/**
 * A loopback stand-in for Microsoft Graph's GET /auditLogs/provisioning that speaks the documented
 * protocol: $filter on activityDateTime (gt / lt only), $top, @odata.nextLink with a $skiptoken,
 * and scripted faults (429 with Retry-After, 5xx, slow responses, fatal errors).
 */
export type Fault = { status: number; headers?: Record<string, string>; body?: string } | { delayMs: number };

export interface GraphServer {
  baseUrl: string;
  events: Record<string, unknown>[];
  requests: { url: string; authorization: string | undefined; at: number }[];
  /** Faults applied, one per request, to the next requests. */
  faults: Fault[];
  close(): Promise<void>;
}

function parseFilter(filter: string): { gt?: number; lt?: number } {
  const gt = /activityDateTime gt (\S+)/.exec(filter)?.[1];
  const lt = /activityDateTime lt (\S+)/.exec(filter)?.[1];
  return { gt: gt ? Date.parse(gt) : undefined, lt: lt ? Date.parse(lt) : undefined };
}

export async function startGraphServer(events: Record<string, unknown>[] = []): Promise<GraphServer> {
  const state: GraphServer = { baseUrl: "", events, requests: [], faults: [], close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    state.requests.push({ url: url.toString(), authorization: req.headers.authorization, at: Date.now() });
    const fault = state.faults.shift();
    const respond = () => {
      if (url.pathname !== "/v1.0/auditLogs/provisioning") {
        res.writeHead(404).end();
        return;
      }
      if (fault && "status" in fault) {
        res.writeHead(fault.status, { "content-type": "application/json", ...fault.headers });
        res.end(fault.body ?? JSON.stringify({ error: { code: "Simulated", message: `simulated ${fault.status}` } }));
        return;
      }
      const { gt, lt } = parseFilter(url.searchParams.get("$filter") ?? "");
      const top = Number(url.searchParams.get("$top") ?? 100);
      const skip = Number(url.searchParams.get("$skiptoken") ?? 0);
      // Newest first, as Graph mostly (but not reliably) returns them.
      const matching = state.events
        .filter((e) => {
          const t = Date.parse(String(e["activityDateTime"]));
          return (gt === undefined || t > gt) && (lt === undefined || t < lt);
        })
        .sort((a, b) => String(b["activityDateTime"]).localeCompare(String(a["activityDateTime"])));
      const page = matching.slice(skip, skip + top);
      const body: Record<string, unknown> = { "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/provisioning", value: page };
      if (skip + top < matching.length) {
        const next = new URL(url.toString());
        next.searchParams.set("$skiptoken", String(skip + top));
        body["@odata.nextLink"] = `${state.baseUrl}/auditLogs/provisioning?${next.searchParams.toString()}`;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (fault && "delayMs" in fault) {
      setTimeout(() => {
        if (!res.destroyed) respond();
      }, fault.delayMs);
    } else respond();
  });
  const { origin, close } = await listenOnLoopback(server);
  state.baseUrl = `${origin}/v1.0`;
  state.close = close;
  return state;
}

/** A Graph-shaped record for tests. */
export function graphRecord(i: number, atIso: string): Record<string, unknown> {
  return {
    id: `graph-evt-${i}`,
    activityDateTime: atIso,
    changeId: `graph-chg-${i}`,
    cycleId: "graph-cycle-1",
    jobId: "ServiceNowOutDelta.t.j",
    provisioningAction: i % 5 === 0 ? "disable" : "update",
    provisioningStatusInfo: { status: i % 7 === 0 ? "failure" : "success", errorInformation: i % 7 === 0 ? { errorCode: "ServiceNowEntryConflict", reason: "StatusCode: Conflict" } : null },
    servicePrincipal: { id: "sp-snow", displayName: "ServiceNow" },
    sourceIdentity: { id: `obj-${i}`, displayName: `User ${i}`, identityType: "User", details: {} },
    targetIdentity: { id: "", displayName: "", identityType: "User", details: {} },
    provisioningSteps: [],
    modifiedProperties: [],
  };
}
