import { describe, expect, it } from "vitest";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableQueryStore } from "../../src/adapters/tables/queryStore";
import { TableDeadLetterStore } from "../../src/adapters/tables/deadLetters";
import { TableWatermarkStore } from "../../src/adapters/tables/watermarks";
import { jobKey } from "../../src/adapters/tables/keys";
import { ingestItems } from "../../src/app/ingest";
import { provisioningRecord } from "../support/records";
import { testTables } from "../support/tables";

/**
 * Tables that disappear under a running host (deleted, or lost by an Azurite killed before it saved
 * them), deterministically: every table of the store is deleted after the first batch. Writes
 * create them again and succeed; reads of a missing table are empty, never an error.
 */
async function deleteAll(t: ReturnType<typeof testTables>): Promise<string[]> {
  const names: string[] = [];
  for await (const table of t.factory.service.listTables()) if (String(table.name).startsWith(t.prefix)) names.push(String(table.name));
  for (const n of names) await t.factory.service.deleteTable(n);
  return names;
}

describe("tables lost under a running host", () => {
  it("the next write creates them again and stores everything; reads before it are empty, not errors", async () => {
    const t = testTables();
    const store = new TableEventStore(t.factory);
    const query = new TableQueryStore(store);
    const watermarks = new TableWatermarkStore(t.factory);
    const deps = { store, deadLetters: new TableDeadLetterStore(t.factory, { now: () => new Date() }) };
    const jobId = `Lost.${Date.now().toString(36)}`;
    const at = (m: number) => new Date(Date.now() - m * 60_000);
    const first = await ingestItems([1, 2, 3].map((u, index) => ({ index, record: provisioningRecord({ jobId, app: "Lost App", at: at(5), user: u }) })), "test", deps);
    expect(first.accepted).toBe(3);
    await watermarks.set("w", "2026-01-01T00:00:00.000Z");
    expect((await deleteAll(t)).length).toBeGreaterThan(5);

    // Reads of the missing tables: empty, no error.
    expect(await query.jobs(true)).toEqual([]);
    expect(await query.findIdentities("User 1")).toEqual([]);
    expect(await watermarks.get("w")).toBeNull();
    expect(await watermarks.runs()).toEqual({});
    const now = new Date().toISOString();
    expect(await query.counts(null, at(60).toISOString(), now)).toEqual([]);

    // Writes: every table is created again, and the batch is stored whole, counted once.
    const second = await ingestItems([4, 5].map((u, index) => ({ index, record: provisioningRecord({ jobId, app: "Lost App", at: at(4), user: u }) })), "test", deps);
    expect(second).toMatchObject({ accepted: 2, rejectedCount: 0 });
    const job = jobKey(jobId, `sp-${jobId}`);
    expect((await query.jobs(true)).map((j) => j.jobKey)).toContain(job);
    expect((await store.counts.allOf(job)).reduce((n, c) => n + c.total, 0)).toBe(2);
    expect((await query.findIdentities("User 4")).length).toBe(1);
    await watermarks.set("w", "2026-02-01T00:00:00.000Z");
    expect(await watermarks.get("w")).toBe("2026-02-01T00:00:00.000Z");
  });
});

describe("a table whose creation failed once (issue 23, item 8)", () => {
  it("is created on the next call: watermarks, dead letters and the alert tables forget a failed creation", async () => {
    const { TableAlertStore, TableSubscriptionStore } = await import("../../src/adapters/tables/alertStore.js");
    const t = testTables();
    let failures = 0;
    // The first createTable of every table fails, as on a storage outage at first use.
    const failing = new Set<string>();
    const factory = {
      ...t.factory,
      table: (name: string) => {
        const real = t.factory.table(name);
        return new Proxy(real, {
          get(target, prop) {
            if (prop === "createTable") {
              return async () => {
                if (!failing.has(name)) {
                  failing.add(name);
                  failures++;
                  throw Object.assign(new Error("storage unavailable"), { statusCode: 503 });
                }
                return target.createTable();
              };
            }
            const v = Reflect.get(target, prop, target) as unknown;
            return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          },
        });
      },
    };
    const watermarks = new TableWatermarkStore(factory);
    await expect(watermarks.set("w", "2026-01-01T00:00:00.000Z")).rejects.toThrow(/unavailable/);
    await watermarks.set("w", "2026-01-01T00:00:00.000Z");
    expect(await watermarks.get("w")).toBe("2026-01-01T00:00:00.000Z");
    const dead = new TableDeadLetterStore(factory, { now: () => new Date() });
    await expect(dead.put({ source: "t", count: 1, rejections: [{ index: 0, reason: "x" }], raw: [], rawDropped: 0 })).rejects.toThrow(/unavailable/);
    expect(await dead.put({ source: "t", count: 1, rejections: [{ index: 0, reason: "x" }], raw: [], rawDropped: 0 })).toMatch(/\//);
    const subs = new TableSubscriptionStore(factory);
    await expect(subs.subscribed()).rejects.toThrow(/unavailable/);
    expect(await subs.subscribed()).toEqual([]);
    const alerts = new TableAlertStore(factory);
    await expect(alerts.activeSlots("2000-01-01")).rejects.toThrow(/unavailable/);
    expect(await alerts.activeSlots("2000-01-01")).toEqual([]);
    expect(failures).toBe(4);
  });
});
