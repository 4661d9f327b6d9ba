import { describe, expect, it } from "vitest";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableQueryStore } from "../../src/adapters/tables/queryStore";
import { TableDeadLetterStore } from "../../src/adapters/tables/deadLetters";
import { ingestItems } from "../../src/app/ingest";
import { answerQuestion } from "../../src/app/answer";
import { canonicalIdentityKey } from "../../src/core/identityKeys";
import { normaliseRecord } from "../../src/core/ingest/normalise";
import { provisioningRecord } from "../support/records";
import { countShardRows, testTables } from "../support/tables";

/**
 * Issue 22: "why did X fail in Y" reads failed events from an index that holds only them, so a
 * person's skipped history costs nothing; a store that held events before that index existed
 * reads its older ranges from the whole index, and finds the same answer.
 */
const NOW = new Date("2026-11-22T12:00:00.000Z");
const at = (h: number) => new Date(NOW.getTime() - h * 3_600_000);

function setup() {
  const t = testTables();
  const store = new TableEventStore(t.factory);
  const deps = { store: new TableQueryStore(store, () => NOW.getTime()), now: () => NOW, version: "t" };
  const ingest = (records: Record<string, unknown>[]) => ingestItems(records.map((record, index) => ({ index, record })), "test", { store, deadLetters: new TableDeadLetterStore(t.factory, { now: () => NOW }), clock: { now: () => NOW } });
  return { ...t, store, deps, ingest };
}

describe("the failures index", () => {
  it("holds the failed events only, and answers 'why did X fail' from them", async () => {
    const s = setup();
    const records = [
      ...Array.from({ length: 40 }, (_, i) => provisioningRecord({ jobId: "BoxOutDelta.f", app: "Box", at: at(1 + i), user: 7, status: "skipped" })),
      provisioningRecord({ jobId: "BoxOutDelta.f", app: "Box", at: at(50), user: 7, status: "failure", errorCode: "BoxEntryConflict" }),
      provisioningRecord({ jobId: "BoxOutDelta.f", app: "Box", at: at(60), user: 8, status: "success" }),
    ];
    expect((await s.ingest(records)).accepted).toBe(42);
    expect(await countShardRows(s.factory, "fx")).toBe(1);
    expect(await s.store.failuresFrom(false)).toBe("1970-01-01T00:00:00.000Z");
    const n = normaliseRecord(records[40]!);
    if (n.kind !== "event") throw new Error("record");
    const rows = await s.store.identityRows(canonicalIdentityKey(n.event), at(24 * 30).toISOString(), NOW.toISOString(), 51, { statuses: ["failure"] });
    expect(rows.map((r) => r.errorCode)).toEqual(["BoxEntryConflict"]);
    expect(JSON.stringify(await answerQuestion("why did user 7 fail in box", s.deps))).toContain("BoxEntryConflict");
  });

  it("a store that held events before the index reads older ranges from the whole index", async () => {
    const s = setup();
    // An earlier version stored a failure (no failures index, no marker): simulate by writing, then removing the index rows and the marker.
    const old = provisioningRecord({ jobId: "BoxOutDelta.g", app: "Box", at: at(100), user: 9, status: "failure", errorCode: "BoxOldFailure" });
    await s.ingest([old]);
    await s.factory.table("jobs").deleteEntity("meta", "v|failuresIndexSince");
    for await (const t of s.factory.service.listTables()) if (String(t.name).startsWith(`${s.prefix}fx`)) await s.factory.service.deleteTable(String(t.name));
    const fresh = new TableEventStore(s.factory);
    const deps = { store: new TableQueryStore(fresh, () => NOW.getTime()), now: () => NOW, version: "t" };
    // The next write starts the index from a day ahead (the store was not empty).
    await ingestItems([{ index: 0, record: provisioningRecord({ jobId: "BoxOutDelta.g", app: "Box", at: at(2), user: 10, status: "success" }) }], "test", { store: fresh, deadLetters: new TableDeadLetterStore(s.factory, { now: () => NOW }), clock: { now: () => NOW } });
    expect(Date.parse((await fresh.failuresFrom(false))!)).toBeGreaterThan(Date.now());
    expect(JSON.stringify(await answerQuestion("why did user 9 fail in box", deps))).toContain("BoxOldFailure");
  });
});
