import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { AccessToken } from "@azure/core-auth";
import { GraphProvisioningClient } from "../../src/adapters/graph/client";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableDeadLetterStore } from "../../src/adapters/tables/deadLetters";
import { TableWatermarkStore } from "../../src/adapters/tables/watermarks";
import { pollAudits, pollGraph } from "../../src/app/graphPoll";
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

  it("stores a record Graph publishes two hours late, once, through the late sweep (and the regular window alone would miss it)", async () => {
    const A = T0 + 24 * 3_600_000; // the late record's activity time
    let t = A + 5 * 60_000;
    const moving = { now: () => new Date(t) };
    const late = { ...graphRecord(500, new Date(A).toISOString()), visibleAt: new Date(A + 2 * 3_600_000).toISOString() };
    const steady = (minutes: number) => graphRecord(600 + minutes, new Date(A + minutes * 60_000).toISOString());
    const run = async (withLate: boolean) => {
      server = await startGraphServer([late], { now: () => t });
      const s = setup();
      const opts = { ...options, ...(withLate ? { late: { hours: 3, everyMinutes: 30 } } : {}) };
      const reports = [];
      // Polls every 5 minutes for three hours, with a steady trickle of timely records.
      for (t = A + 5 * 60_000; t <= A + 3 * 3_600_000; t += 5 * 60_000) {
        server.events.push(steady((t - A) / 60_000 - 1));
        reports.push(await pollGraph(client(server.baseUrl), s.watermarks, s.deps, moving, opts));
      }
      const stored = await s.store.getByChangeId("graph-chg-500");
      await server.close();
      return { reports, stored };
    };
    const without = await run(false);
    expect(without.stored).toHaveLength(0);
    const withSweep = await run(true);
    expect(withSweep.stored).toHaveLength(1);
    const sweeps = withSweep.reports.filter((r) => r.late !== null);
    // Every 30 minutes, not on every poll: 36 polls, 6 sweeps.
    expect(sweeps.length).toBe(6);
    expect(sweeps.reduce((n, r) => n + r.late!.accepted, 0)).toBe(1);
    // The sweeps after the one that stored it found it again, as a duplicate.
    expect(sweeps.reduce((n, r) => n + r.late!.duplicates, 0)).toBeGreaterThanOrEqual(1);
    // Every steady record is stored once too.
    expect(withSweep.reports.reduce((n, r) => n + r.accepted + (r.late?.accepted ?? 0), 0)).toBe(36 + 1);
  }, 120_000);

  it("reads the provisioning audit trail with its own watermark, filtered on the Account Provisioning service, and stores each record once", async () => {
    const audit = (i: number, minutes: number, service = "Account Provisioning") => ({
      id: `audit-${i}`,
      activityDateTime: at(minutes),
      loggedByService: service,
      category: "ProvisioningManagement",
      activityDisplayName: i % 2 ? "Update attribute mappings or scope" : "Disable/pause provisioning",
      result: "success",
      initiatedBy: { user: { userPrincipalName: "bob@contoso.com" } },
      targetResources: [{ id: "SP-SNOW", displayName: "ServiceNow", type: "ServicePrincipal", modifiedProperties: [{ displayName: "Scope", oldValue: "\"assigned\"", newValue: "\"all\"" }] }],
    });
    server = await startGraphServer([], { audits: [...Array.from({ length: 23 }, (_, i) => audit(i, i)), audit(99, 5, "Core Directory"), { junk: true }] });
    const s = setup();
    const report = await pollAudits(client(server.baseUrl), s.watermarks, s.store.audits, clock, options);
    expect(report).toMatchObject({ pages: 3, accepted: 23, rejected: 0 });
    expect(new URL(server.requests[0]!.url).searchParams.get("$filter")).toBe("loggedByService eq 'Account Provisioning' and activityDateTime gt 2026-11-20T07:00:00.000Z");
    expect(await s.watermarks.get("graph:test:audits")).toBe(at(22).replace("Z", "").slice(0, 19) + ".000Z");
    // Overlapping polls store nothing twice.
    await s.watermarks.set("graph:test:audits", at(0));
    await pollAudits(client(server.baseUrl), s.watermarks, s.store.audits, clock, options);
    const stored = await s.store.audits.list("sp-snow", at(-1), at(30), 100);
    expect(stored).toHaveLength(23);
    expect(stored[0]).toMatchObject({ id: "audit-22", by: "bob@contoso.com", kind: "pause", appName: "ServiceNow", servicePrincipalId: "sp-snow" });
    expect(stored.find((a) => a.id === "audit-1")).toMatchObject({ kind: "mappings", changes: [{ name: "Scope", old: '"assigned"', new: '"all"' }] });
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
