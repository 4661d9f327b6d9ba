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

  it("a redelivery the service refuses leaves the copy an earlier delivery stored whole", async () => {
    const job = `Faults.${randomBytes(3).toString("hex")}`;
    const record = provisioningRecord({ jobId: job, app: "Faulty", at: at(), user: 7, id: `again-${job}` });
    expect((await ingestItems(items([record]), "test", deps)).accepted).toBe(1);
    proxy.rule = ({ method, path, body }) => (method !== "GET" && `${path}${body}`.includes(`${prefix}ev2`) && body.includes(`again-${job}`) ? 400 : null);
    const again = await ingestItems(items([record]), "test", deps);
    proxy.rule = () => null;
    expect(again.rejected).toEqual([{ index: 0, reason: expect.stringMatching(/cannot be stored/) }]);
    const store = direct();
    expect((await store.getByChangeId(String(record["changeId"]))).map((e) => e.id)).toEqual([record["id"]]);
    expect(await eventRows(store, job)).toEqual([`again-${job}`]);
    expect(await identityRows(store, `again-${job}`)).toBe(1);
  });
});
