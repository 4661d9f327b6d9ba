import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ingestPayload, type IngestDeps } from "../../src/app/ingest";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableDeadLetterStore } from "../../src/adapters/tables/deadLetters";
import { jobKey } from "../../src/adapters/tables/keys";
import { testTables } from "../support/tables";
import { applyMutations, freshen, mutation, realEventHubRecords, realGraphRecords, toJsonText } from "../support/hostile";

/**
 * Property: whatever hostile records are mixed into a batch of real ones, the batch is stored
 * through the real ingest path into Azurite such that every good record is answerable by its
 * changeId, every record is accounted for (accepted, duplicate, ignored or rejected with a
 * reason), nothing is half-stored (every event row of the job has its changeId marker and is in
 * the hourly counts), redelivery adds nothing, and no batch takes longer than its bound.
 */
const { factory } = testTables();
const store = new TableEventStore(factory);
const deadLetters = new TableDeadLetterStore(factory, { now: () => new Date() });
const deps: IngestDeps = { store, deadLetters };
const bases = [...realGraphRecords(), ...realEventHubRecords()];
/** A bound, not a speed target: a batch of at most 12 records on loopback Azurite. */
const BATCH_BOUND_MS = 15_000;

let run = 0;

describe("ingest of hostile records mixed with real ones (property)", () => {
  it("stores every good record, rejects each bad one alone, half-stores nothing, and redelivery changes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(bases.length - 1), { minLength: 1, maxLength: 5 }),
        fc.array(fc.tuple(fc.nat(bases.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 })), { minLength: 1, maxLength: 6 }),
        fc.infiniteStream(fc.boolean()),
        async (goodPicks, mutantSpecs, order) => {
          const tag = `p${++run}${Date.now().toString(36)}`;
          const jobId = `Prop.${tag}`;
          const at = new Date(Date.now() - 60_000).toISOString();
          const goods = goodPicks.map((b, n) => freshen(bases[b]!, n, `${tag}g`, jobId, at));
          const mutants = mutantSpecs.map(([b, ms], n) => applyMutations(freshen(bases[b]!, n, `${tag}m`, jobId, at), ms));
          // Interleave goods and mutants in a random order, remembering which index is good.
          const batch: { good: boolean; n: number; record: unknown }[] = [];
          let gi = 0;
          let mi = 0;
          while (gi < goods.length || mi < mutants.length) {
            const takeGood = mi >= mutants.length || (gi < goods.length && order.next().value);
            if (takeGood) batch.push({ good: true, n: gi, record: goods[gi++] });
            else batch.push({ good: false, n: mi, record: mutants[mi++] });
          }
          const body = `[${batch.map((b) => toJsonText(b.record)).join(",")}]`;

          const started = performance.now();
          const report = await ingestPayload([{ contentType: "application/json", text: body }], "property", deps);
          expect(performance.now() - started).toBeLessThan(BATCH_BOUND_MS);

          // Every record is accounted for; rejections carry reasons and are never good records.
          expect(report.accepted + report.duplicates + report.ignored + report.rejectedCount).toBe(batch.length);
          for (const r of report.rejected) {
            expect(r.reason.length).toBeGreaterThan(0);
            expect(batch[r.index]?.good, `good record ${r.index} rejected: ${r.reason}`).toBe(false);
          }
          // Every good record is answerable by its changeId.
          for (const b of batch.filter((x) => x.good)) {
            const found = await store.getByChangeId(`${tag}g-chg-${b.n}`);
            expect(found.map((e) => e.id)).toContain(`${tag}g-${b.n}`);
          }
          // Nothing half-stored: each event row of the job has its marker, and the counts hold them all.
          const job = jobKey(jobId, "");
          const rows: { changeId: string; id: string }[] = [];
          for await (const e of store.events.allOf(job, ["changeId", "id"])) rows.push({ changeId: String(e["changeId"]), id: String(e["id"]) });
          for (const row of rows) expect((await store.getByChangeId(row.changeId)).map((e) => e.id)).toContain(row.id);
          const total = async () => (await store.counts.allOf(job)).reduce((n, c) => n + c.total, 0);
          const counted = await total();
          expect(counted).toBe(rows.length);

          // Redelivery: nothing new, counts unchanged.
          const again = await ingestPayload([{ contentType: "application/json", text: body }], "property", deps);
          expect(again.accepted).toBe(0);
          expect(again.rejectedCount).toBe(report.rejectedCount);
          expect(await total()).toBe(counted);
        },
      ),
      { numRuns: Number(process.env["PROVBOT_PROPERTY_RUNS"] ?? 30), interruptAfterTimeLimit: 120_000 },
    );
  }, 180_000);
});
