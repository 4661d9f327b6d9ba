import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { AccessToken } from "@azure/core-auth";
import { GraphProvisioningClient } from "../../src/adapters/graph/client";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableDeadLetterStore } from "../../src/adapters/tables/deadLetters";
import { TableWatermarkStore } from "../../src/adapters/tables/watermarks";
import { pollGraph } from "../../src/app/graphPoll";
import { graphRecord, startGraphServer, type GraphServer } from "../support/graphServer";
import { countShardRows, testTables } from "../support/tables";

/** The real Graph client code against a loopback server speaking the documented protocol. */
const T0 = Date.parse("2026-11-21T08:00:00Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const credential = { getToken: async (): Promise<AccessToken> => ({ token: "test-token", expiresOnTimestamp: Date.now() + 3_600_000 }) };
const clock = { now: () => new Date(at(60 * 24)) };

let server: GraphServer | undefined;
afterEach(async () => server?.close());

function setup(prefixFactory = testTables()) {
  const store = new TableEventStore(prefixFactory.factory);
  const deps = { store, deadLetters: new TableDeadLetterStore(prefixFactory.factory, clock) };
  const watermarks = new TableWatermarkStore(prefixFactory.factory);
  return { ...prefixFactory, store, deps, watermarks };
}

const client = (baseUrl: string, timeoutMs = 2000) => new GraphProvisioningClient({ credential, baseUrl, pageSize: 10, timeoutMs, retryDelayInMs: 50, maxRetryDelayInMs: 200 });
const options = { watermarkName: "graph:test", lookbackMinutes: 60, initialDays: 2 };

beforeAll(() => undefined);

describe("Graph poller", () => {
  it("follows @odata.nextLink through every page with an app token, and advances the watermark", async () => {
    const events = Array.from({ length: 25 }, (_, i) => graphRecord(i, at(i)));
    server = await startGraphServer(events);
    const s = setup();
    const report = await pollGraph(client(server.baseUrl), s.watermarks, s.deps, clock, options);
    expect(report).toMatchObject({ pages: 3, accepted: 25, duplicates: 0, rejected: 0, watermark: at(24).replace("Z", "").slice(0, 19) + ".000Z" });
    expect(await countShardRows(s.factory, "ev")).toBe(25);
    expect(server.requests.every((r) => r.authorization === "Bearer test-token")).toBe(true);
    const filterOf = (i: number) => new URL(server!.requests[i]!.url).searchParams.get("$filter");
    // First run: initialDays (2) back from "now", minus the look-back hour.
    expect(filterOf(0)).toBe("activityDateTime gt 2026-11-20T07:00:00.000Z");
    // The next run reads from watermark - look-back and finds only what it already has.
    const again = await pollGraph(client(server.baseUrl), s.watermarks, s.deps, clock, options);
    expect(filterOf(3)).toBe(`activityDateTime gt ${at(24 - 60).replace("Z", "").slice(0, 19)}.000Z`);
    expect(again).toMatchObject({ accepted: 0 });
  });

  it("survives 429 with Retry-After, 503 and a timed-out request without losing or duplicating", async () => {
    const events = Array.from({ length: 25 }, (_, i) => graphRecord(100 + i, at(i)));
    server = await startGraphServer(events);
    server.faults.push({ status: 429, headers: { "Retry-After": "1" } }, { status: 503 }, { delayMs: 1500 });
    const s = setup();
    const started = Date.now();
    const report = await pollGraph(client(server.baseUrl, 500), s.watermarks, s.deps, clock, options);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000); // waited for Retry-After
    expect(report).toMatchObject({ pages: 3, accepted: 25, duplicates: 0 });
    expect(server.requests.length).toBe(3 + 3);
    expect(await countShardRows(s.factory, "ev")).toBe(25);
  });

  it("does not move the watermark when a run fails midway; the rerun completes without duplicates", async () => {
    const events = Array.from({ length: 25 }, (_, i) => graphRecord(200 + i, at(i)));
    server = await startGraphServer(events);
    const s = setup();
    // Page 1 succeeds, page 2 is refused (a fatal 400, or a restart of the function host).
    await s.store.init();
    server.faults.push({ delayMs: 0 }, { status: 400 });
    await expect(pollGraph(client(server.baseUrl), s.watermarks, s.deps, clock, options)).rejects.toThrow(/400/);
    expect(await s.watermarks.get("graph:test")).toBeNull();
    expect(await countShardRows(s.factory, "ev")).toBe(10);
    const rerun = await pollGraph(client(server.baseUrl), s.watermarks, s.deps, clock, options);
    expect(rerun).toMatchObject({ accepted: 15, duplicates: 10 });
    expect(await countShardRows(s.factory, "ev")).toBe(25);
  });

  it("picks up a late-arriving event inside the look-back window", async () => {
    const events = Array.from({ length: 5 }, (_, i) => graphRecord(300 + i, at(i * 10)));
    server = await startGraphServer(events);
    const s = setup();
    await pollGraph(client(server.baseUrl), s.watermarks, s.deps, clock, options);
    server.events.push(graphRecord(399, at(15))); // written by Entra after the first poll, stamped earlier
    const report = await pollGraph(client(server.baseUrl), s.watermarks, s.deps, clock, options);
    expect(report.accepted).toBe(1);
    expect(await s.store.getByChangeId("graph-chg-399")).toHaveLength(1);
  });

  it("gives up on a persistent 401 with the status in the error", async () => {
    server = await startGraphServer([graphRecord(1, at(1))]);
    server.faults.push({ status: 401 });
    const s = setup();
    await expect(pollGraph(client(server.baseUrl), s.watermarks, s.deps, clock, options)).rejects.toThrow(/401/);
    expect(server.requests.length).toBe(1);
  });

  it("refuses plain http beyond loopback", () => {
    expect(() => new GraphProvisioningClient({ credential, baseUrl: "http://graph.example.com/v1.0" })).toThrow(/https/);
  });
});
