import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { randomBytes } from "node:crypto";
import { createTableFactory } from "../../src/adapters/tables/client";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableDeadLetterStore } from "../../src/adapters/tables/deadLetters";
import { ingestItems, type IngestDeps } from "../../src/app/ingest";
import { jobKey } from "../../src/adapters/tables/keys";
import { startFaultProxy, type FaultProxy } from "../support/faultProxy";
import { provisioningRecord } from "../support/records";

/**
 * Issue 9, case 4: writes of one event are ordered so that a failure leaves nothing visible, or
 * something a retry completes. Faults are injected at the HTTP boundary (a proxy in front of
 * Azurite), with the real Table Storage client and store in the loop.
 */
let proxy: FaultProxy;
const prefix = `f${randomBytes(4).toString("hex")}`;
const direct = () => new TableEventStore(createTableFactory({ kind: "connectionString", connectionString: inject("azurite").connectionString }, prefix));
let faulty: TableEventStore;
let deps: IngestDeps;

beforeAll(async () => {
  proxy = await startFaultProxy(inject("azurite").port);
  // No SDK retries: a fault is a fault, and the test stays fast.
  const factory = createTableFactory({ kind: "connectionString", connectionString: proxy.connectionString }, prefix, { retryOptions: { maxRetries: 0 } });
  faulty = new TableEventStore(factory);
  deps = { store: faulty, deadLetters: new TableDeadLetterStore(factory, { now: () => new Date() }) };
  await faulty.init();
});
afterAll(async () => proxy?.close());

const at = () => new Date(Date.now() - 600_000);
const items = (records: Record<string, unknown>[]) => records.map((record, index) => ({ index, record }));

async function eventRows(store: TableEventStore, job: string): Promise<string[]> {
  const k = jobKey(job, "");
  const ids: string[] = [];
  for await (const e of store.events.allOf(k, ["id"])) ids.push(String(e["id"]));
  return ids.sort();
}

async function identityRows(store: TableEventStore, id: string): Promise<number> {
  let n = 0;
  for await (const e of store.identities.all()) if (e.erk.endsWith(`|${id}`)) n++;
  return n;
}

async function countedTotal(store: TableEventStore, job: string): Promise<number> {
  return (await store.counts.allOf(job)).reduce((n, c) => n + c.total, 0);
}

describe("storage faults", () => {
  it("a record the service refuses is rejected alone, and none of its rows stay visible", async () => {
    const job = `Faults.${randomBytes(3).toString("hex")}`;
    const records = [1, 2, 3].map((user) => provisioningRecord({ jobId: job, app: "Faulty", at: at(), user, id: `r${user}-${job}` }));
    // The service refuses every write that carries the second record's event row.
    proxy.rule = ({ method, path, body }) => (method !== "GET" && `${path}${body}`.includes(`${prefix}ev2`) && body.includes(`r2-${job}`) ? 400 : null);
    const report = await ingestItems(items(records), "test", deps);
    proxy.rule = () => null;
    expect(report.accepted).toBe(2);
    expect(report.rejected).toEqual([{ index: 1, reason: expect.stringMatching(/cannot be stored: Table Storage refused it/) }]);
    const store = direct();
    expect(await eventRows(store, job)).toEqual([`r1-${job}`, `r3-${job}`]);
    expect(await identityRows(store, `r2-${job}`)).toBe(0);
    expect(await store.getByChangeId(String(records[1]!["changeId"]))).toEqual([]);
    for (const r of [records[0]!, records[2]!]) expect((await store.getByChangeId(String(r["changeId"]))).map((e) => e.id)).toEqual([r["id"]]);
    expect(await countedTotal(store, job)).toBe(2);
  });

  it("a transient failure fails the call, and the retry completes every event exactly once", async () => {
    const job = `Faults.${randomBytes(3).toString("hex")}`;
    const records = [1, 2, 3, 4].map((user) => provisioningRecord({ jobId: job, app: "Faulty", at: at(), user, id: `t${user}-${job}` }));
    // The changeId markers cannot be written: the service is busy.
    proxy.rule = ({ method, path, body }) => (method !== "GET" && `${path}${body}`.includes(`${prefix}rf2`) && body.includes(`"PartitionKey":"c|`) ? 503 : null);
    await expect(ingestItems(items(records), "test", deps)).rejects.toThrow();
    proxy.rule = () => null;
    expect(proxy.faults).toBeGreaterThan(0);
    const again = await ingestItems(items(records), "test", deps);
    expect(again.accepted).toBe(4);
    const store = direct();
    for (const r of records) expect((await store.getByChangeId(String(r["changeId"]))).map((e) => e.id)).toEqual([r["id"]]);
    expect(await countedTotal(store, job)).toBe(4);
    const third = await ingestItems(items(records), "test", deps);
    expect(third).toMatchObject({ accepted: 0, duplicates: 4 });
    expect(await countedTotal(store, job)).toBe(4);
  });

  it("a redelivery is recognised before anything is written: the stored copy is left as it is", async () => {
    const job = `Faults.${randomBytes(3).toString("hex")}`;
    const record = provisioningRecord({ jobId: job, app: "Faulty", at: at(), user: 7, id: `again-${job}` });
    expect((await ingestItems(items([record]), "test", deps)).accepted).toBe(1);
    // Every write that carries the event would be refused: a redelivery must not attempt one.
    proxy.rule = ({ method, path, body }) => (method !== "GET" && `${path}${body}`.includes(`again-${job}`) ? 400 : null);
    const faultsBefore = proxy.faults;
    const again = await ingestItems(items([record]), "test", deps);
    proxy.rule = () => null;
    expect(again).toMatchObject({ accepted: 0, duplicates: 1, rejected: [] });
    expect(proxy.faults).toBe(faultsBefore);
    const store = direct();
    expect((await store.getByChangeId(String(record["changeId"]))).map((e) => e.id)).toEqual([record["id"]]);
    expect(await eventRows(store, job)).toEqual([`again-${job}`]);
    expect(await identityRows(store, `again-${job}`)).toBe(1);
    expect(await countedTotal(store, job)).toBe(1);
  });

  it("a crash between storing the events and copying their counts is repaired by the retry, exactly", async () => {
    const job = `Faults.${randomBytes(3).toString("hex")}`;
    const records = [1, 2, 3, 4, 5].map((user) => provisioningRecord({ jobId: job, app: "Faulty", at: at(), user, id: `k${user}-${job}`, status: user % 2 ? "failure" : "success" }));
    // The call dies at its last step: every write to the counts table fails.
    proxy.rule = ({ method, path, body }) => (method !== "GET" && `${path}${body}`.includes(`${prefix}counts`) ? 503 : null);
    await expect(ingestItems(items(records), "test", deps)).rejects.toThrow();
    proxy.rule = () => null;
    const store = direct();
    // The events are stored (and counted in their hour's counter), the copy is behind.
    expect(await eventRows(store, job)).toHaveLength(5);
    expect(await countedTotal(store, job)).toBe(0);
    // The caller retries the same request: nothing is new, and the figures are right at once.
    const again = await ingestItems(items(records), "test", deps);
    expect(again).toMatchObject({ accepted: 0, duplicates: 5 });
    expect(await countedTotal(store, job)).toBe(5);
    const [hour] = await store.counts.allOf(jobKey(job, ""));
    expect(hour!.cells.find((c) => c.status === "failure")?.n).toBe(3);
    // A reconciliation from the stored rows agrees, and a third delivery changes nothing.
    expect((await store.recount(jobKey(job, ""), records[0]!["activityDateTime"] as string)).total).toBe(5);
    expect(await ingestItems(items(records), "test", deps)).toMatchObject({ accepted: 0, duplicates: 5 });
    expect(await countedTotal(store, job)).toBe(5);
  });

  it("the same batch delivered twice at once is stored and counted once", async () => {
    const job = `Faults.${randomBytes(3).toString("hex")}`;
    const records = Array.from({ length: 40 }, (_, user) => provisioningRecord({ jobId: job, app: "Faulty", at: new Date(at().getTime() - user * 60_000), user, id: `c${user}-${job}` }));
    const [a, b] = await Promise.all([ingestItems(items(records), "eventhub", deps), ingestItems(items(records), "eventhub", deps)]);
    expect(a.accepted + b.accepted).toBe(40);
    expect(a.duplicates + b.duplicates).toBe(40);
    const ids = [...a.events, ...b.events].map((e) => e.id);
    expect(new Set(ids).size).toBe(40);
    const store = direct();
    expect(await eventRows(store, job)).toHaveLength(40);
    expect(await countedTotal(store, job)).toBe(40);
  });

  it("a redelivered batch costs fewer storage requests than its first delivery", async () => {
    const job = `Faults.${randomBytes(3).toString("hex")}`;
    const records = Array.from({ length: 200 }, (_, user) => provisioningRecord({ jobId: job, app: "Faulty", at: new Date(at().getTime() - user * 20_000), user, id: `d${user}-${job}` }));
    let requests = 0;
    proxy.rule = () => {
      requests++;
      return null;
    };
    expect((await ingestItems(items(records), "test", deps)).accepted).toBe(200);
    const first = requests;
    requests = 0;
    expect(await ingestItems(items(records), "test", deps)).toMatchObject({ accepted: 0, duplicates: 200 });
    const again = requests;
    proxy.rule = () => null;
    // First: reads, markers, indexes, event transactions, counts. Again: one read per job-hour, counts and job read.
    expect(again).toBeLessThan(first / 3);
  });
});
