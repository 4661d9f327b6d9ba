import { afterEach, describe, expect, inject, it } from "vitest";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { AccessToken } from "@azure/core-auth";
import { GraphProvisioningClient, type GraphLimits } from "../../src/adapters/graph/client";
import { GraphDirectory } from "../../src/adapters/graph/directory";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableDeadLetterStore } from "../../src/adapters/tables/deadLetters";
import { TableWatermarkStore } from "../../src/adapters/tables/watermarks";
import { pollAudits, pollGraph, recordedRun } from "../../src/app/graphPoll";
import { pollJobStatus } from "../../src/app/jobStatusPoll";
import { graphRecord } from "../support/graphServer";
import { testTables } from "../support/tables";
import { startHostProcess } from "../support/stack";

/**
 * Graph is an untrusted server too (issue 21, items 3, 9, 11, 12, 13): the real Graph client
 * against loopback servers that send what a hostile or broken Graph could. The token never leaves
 * the configured origin, every read is bounded, and a run cut short fails, says why, and moves no
 * watermark.
 */
const TOKEN = "secret-graph-token-4242";
const credential = { getToken: async (): Promise<AccessToken> => ({ token: TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 }) };
const clock = { now: () => new Date("2026-11-21T08:00:00Z") };

interface Seen {
  url: string;
  authorization: string | undefined;
}
interface Loopback {
  url: string;
  seen: Seen[];
  written: number;
  closed: Promise<void>;
  server: Server;
}
const open: Server[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse, self: Loopback) => void): Promise<Loopback> {
  const self = { seen: [] as Seen[], written: 0 } as unknown as Loopback;
  const server = createServer((req, res) => {
    self.seen.push({ url: req.url ?? "", authorization: req.headers.authorization });
    handler(req, res, self);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  open.push(server);
  self.server = server;
  self.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return self;
}

const json = (res: ServerResponse, body: unknown, status = 200, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
};

const limits = (l: Partial<GraphLimits> = {}) => ({ maxPages: 20, maxRunMs: 10_000, maxRetryAfterMs: 5_000, maxResponseBytes: 1024 * 1024, ...l });
const client = (base: string, l: Partial<GraphLimits> = {}) => new GraphProvisioningClient({ credential, baseUrl: `${base}/v1.0`, pageSize: 10, timeoutMs: 3000, retryDelayInMs: 20, maxRetryDelayInMs: 50, maxRetries: 3, limits: limits(l) });
const directory = (base: string) => new GraphDirectory({ credential, baseUrl: `${base}/v1.0`, timeoutMs: 3000, retryDelayInMs: 20, maxRetryDelayInMs: 50, maxRetries: 2, limits: limits() });

function storeSetup() {
  const t = testTables();
  const store = new TableEventStore(t.factory);
  return { store, deps: { store, deadLetters: new TableDeadLetterStore(t.factory, clock) }, watermarks: new TableWatermarkStore(t.factory) };
}
const options = { watermarkName: "graph:hostile", lookbackMinutes: 60, initialDays: 1 };

/** Every Graph read provbot makes, against one base URL whose first page links elsewhere. */
function everyRead(base: string): [string, () => Promise<unknown>][] {
  const s = storeSetup();
  const c = client(base);
  const d = directory(base);
  const oid = "00000000-0000-0000-0000-0000000000aa";
  return [
    ["provisioning logs", () => pollGraph(c, s.watermarks, s.deps, clock, options)],
    ["audit logs", () => pollAudits(c, s.watermarks, s.store.audits, clock, options)],
    ["service principals", () => c.servicePrincipals()],
    ["jobs", () => c.jobsOf("sp-1")],
    ["directory roles", () => d.roleTemplateIds(oid)],
    ["custom roles", () => d.customRoleAllows(oid)],
    ["owned apps", () => d.ownedServicePrincipalIds(oid)],
    ["groups", () => d.groupIds(oid)],
  ];
}

describe("a nextLink off the Graph origin", () => {
  for (const where of ["another port", "another host"] as const) {
    it(`is not followed to ${where}, for every read (logs, audits, service principals, jobs, access look-ups), and the run fails saying why`, async () => {
      const elsewhere = await serve((_req, res) => json(res, { value: [] }));
      const target = where === "another port" ? elsewhere.url : elsewhere.url.replace("127.0.0.1", "localhost");
      const graph = await serve((req, res) => {
        const first = !req.url!.includes("skiptoken");
        json(res, { value: first ? [graphRecord(1, "2026-11-21T07:30:00Z")] : [], "@odata.nextLink": `${target}/v1.0/next?skiptoken=1` });
      });
      for (const [name, read] of everyRead(graph.url)) {
        await expect(read(), name).rejects.toMatchObject({ cutShort: true, reason: "nextlink-origin" });
      }
      expect(elsewhere.seen).toEqual([]);
      expect(graph.seen.every((s) => s.authorization === `Bearer ${TOKEN}`)).toBe(true);
    });
  }

  it("moves no watermark and records the cut-short run for the health endpoint", async () => {
    const elsewhere = await serve((_req, res) => json(res, { value: [] }));
    const graph = await serve((_req, res) => json(res, { value: [graphRecord(2, "2026-11-21T07:30:00Z")], "@odata.nextLink": `${elsewhere.url}/steal` }));
    const s = storeSetup();
    await expect(recordedRun("graph.events", s.watermarks, clock, () => pollGraph(client(graph.url), s.watermarks, s.deps, clock, options))).rejects.toThrow(/cut short \(nextlink-origin\)/);
    expect(await s.watermarks.get(options.watermarkName)).toBeNull();
    expect((await s.watermarks.runs())["graph.events"]).toMatchObject({ outcome: "cut-short", reason: "nextlink-origin" });
    expect(elsewhere.seen).toEqual([]);
  });
});

describe("bounded whatever Graph sends", () => {
  it("a nextLink that points to itself stops at once (one page)", async () => {
    const graph = await serve((req, res) => json(res, { value: [{ id: "sp-1", displayName: "Loop" }], "@odata.nextLink": `http://${req.headers.host}${req.url}` }));
    await expect(client(graph.url).servicePrincipals()).rejects.toMatchObject({ reason: "nextlink-repeated" });
    expect(graph.seen.length).toBe(1);
  });

  it("an endless chain of new links stops at the page cap", async () => {
    const graph = await serve((req, res) => json(res, { value: [], "@odata.nextLink": `http://${req.headers.host}/v1.0/servicePrincipals?skiptoken=${Math.random()}` }));
    await expect(client(graph.url, { maxPages: 7 }).servicePrincipals()).rejects.toMatchObject({ reason: "page-cap" });
    expect(graph.seen.length).toBe(7);
  });

  it("an endless chain of slow pages stops at the time cap", async () => {
    const graph = await serve((req, res) => setTimeout(() => json(res, { value: [], "@odata.nextLink": `http://${req.headers.host}/v1.0/x?s=${Math.random()}` }), 60));
    const started = Date.now();
    await expect(client(graph.url, { maxRunMs: 400, maxPages: 10_000 }).servicePrincipals()).rejects.toMatchObject({ reason: "time-cap" });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  for (const retryAfter of ["86400", String(2 ** 31 / 1000 + 5), "Wed, 21 Oct 2099 07:28:00 GMT"]) {
    it(`Retry-After: ${retryAfter} gives up the run at once instead of sleeping or retrying in a loop`, async () => {
      const graph = await serve((_req, res) => json(res, { error: { code: "TooManyRequests" } }, 429, { "Retry-After": retryAfter }));
      const s = storeSetup();
      const started = Date.now();
      await expect(pollGraph(client(graph.url), s.watermarks, s.deps, clock, options)).rejects.toMatchObject({ reason: "retry-after-cap" });
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(graph.seen.length).toBe(1);
    });
  }

  it("a Retry-After within the cap is still waited for", async () => {
    let n = 0;
    const graph = await serve((_req, res) => (n++ === 0 ? json(res, {}, 429, { "Retry-After": "1" }) : json(res, { value: [{ id: "sp-1", displayName: "A" }] })));
    const started = Date.now();
    expect(await client(graph.url).servicePrincipals()).toEqual([{ id: "sp-1", displayName: "A" }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("a response larger than the cap is refused while it streams (not read whole), with or without Content-Length", async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const endless = await serve((_req, res, self) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"value":[');
      const pump = () => {
        while (self.written < 64 * 1024 * 1024) {
          self.written += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end("]}");
      };
      res.on("close", () => undefined);
      pump();
    });
    await expect(client(endless.url).servicePrincipals()).rejects.toMatchObject({ reason: "response-too-large" });
    expect(endless.written).toBeLessThan(16 * 1024 * 1024);
    const declared = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": String(256 * 1024 * 1024) });
      res.write('{"value":[');
    });
    await expect(client(declared.url).servicePrincipals()).rejects.toMatchObject({ reason: "response-too-large" });
  });

  it("an error body is never put in the error (it may echo the token): status and Graph's error code only", async () => {
    const graph = await serve((req, res) => json(res, { error: { code: "InvalidAuthenticationToken", message: `token ${req.headers.authorization} is bad` } }, 401));
    const err = await client(graph.url).servicePrincipals().then(() => null, (e: unknown) => e as Error);
    expect(err?.message).toContain("401");
    expect(err?.message).toContain("InvalidAuthenticationToken");
    expect(JSON.stringify({ message: err?.message, stack: err?.stack })).not.toContain(TOKEN);
  });

  it("the job status poll fails (not skips) when a listing is cut short, and reads no job for a self-linked list", async () => {
    const graph = await serve((req, res) => {
      if (req.url!.includes("/synchronization/jobs")) return json(res, { value: [] });
      json(res, { value: [{ id: "sp-1", displayName: "Loop" }], "@odata.nextLink": `http://${req.headers.host}${req.url}` });
    });
    const s = storeSetup();
    await expect(pollJobStatus({ source: client(graph.url), store: s.store.statuses, jobKeyOf: (j) => j, tenantId: "t" }, [], clock.now().toISOString())).rejects.toMatchObject({ reason: "nextlink-repeated" });
    expect(graph.seen.filter((x) => x.url.includes("/synchronization/jobs"))).toEqual([]);
  });
});

describe("through the built host", () => {
  it("a Graph poll cut short by a nextLink off the origin fails, is logged, and GET /api/health says so", async () => {
    const elsewhere = await serve((_req, res) => json(res, { value: [] }));
    const graph = await serve((req, res) => {
      if (req.url!.includes("directoryAudits")) return json(res, { value: [] });
      json(res, { value: [graphRecord(3, new Date(Date.now() - 60_000).toISOString())], "@odata.nextLink": `${elsewhere.url}/v1.0/auditLogs/provisioning?skiptoken=x` });
    });
    const host = await startHostProcess(inject("azurite").port, { PROVBOT_TABLE_PREFIX: `gh${Date.now().toString(36)}`, PROVBOT_GRAPH_BASE_URL: `${graph.url}/v1.0`, PROVBOT_GRAPH_ACCESS_TOKEN: TOKEN, PROVBOT_ALERTS: "off" });
    try {
      const res = await fetch(`${host.url}/admin/functions/graphPoll`, { method: "POST", headers: { "x-functions-key": host.functionKey } });
      expect(res.status).toBe(202);
      const deadline = Date.now() + 20_000;
      while (!host.output().includes("[graphPoll] admin run") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(host.output()).toMatch(/\[graphPoll\] admin run failed/);
      expect(host.output()).toContain("nextlink-origin");
      expect(host.output()).not.toContain(TOKEN);
      const health = (await (await fetch(`${host.url}/api/health`)).json()) as { graphCutShort?: boolean; graph?: Record<string, { outcome: string; reason: string }> };
      expect(health.graphCutShort).toBe(true);
      expect(health.graph?.["graph.events"]).toMatchObject({ outcome: "cut-short", reason: "nextlink-origin" });
      expect(elsewhere.seen).toEqual([]);
    } finally {
      await host.stop();
    }
  }, 60_000);
});
