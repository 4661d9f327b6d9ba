import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { unzipSync, strFromU8 } from "fflate";
import { normaliseRecord } from "../../src/core/ingest/normalise";
import { parsePayload } from "../../src/core/ingest/payload";
import { csvCell } from "../../src/core/export";
import { exportCsvZip, exportJson } from "../../src/app/export";
import type { ProvisioningEvent } from "../../src/core/event";
import { applyMutations, mutation, realEventHubRecords, realGraphRecords } from "../support/hostile";

/**
 * Property: any event provbot stores (real records of every source, mutated with hostile values)
 * comes out of both downloads as a record that reads back as the same event: same id and change
 * ID (so a re-ingest is a duplicate), same action, status, people, steps and modified properties.
 */
const bases = [...realGraphRecords(), ...realEventHubRecords()];
const runs = Number(process.env["PROVBOT_PROPERTY_RUNS"] ?? 60);

const stored = fc
  .tuple(fc.constantFrom(...bases), fc.array(mutation, { maxLength: 3 }), fc.integer({ min: 0, max: 1e6 }))
  .map(([base, mutations, n]) => {
    const raw = applyMutations(base, mutations);
    const result = normaliseRecord(raw);
    if (result.kind !== "event") return null;
    const event = { ...result.event, id: `${result.event.id}-${n}`, changeId: `${result.event.changeId || "chg"}-${n}` };
    // As the store hands it back: every string well-formed (a lone surrogate is stored as U+FFFD).
    return JSON.parse(JSON.stringify(event), (_k, v: unknown) => (typeof v === "string" ? v.toWellFormed() : v)) as ProvisioningEvent;
  })
  .filter((e): e is ProvisioningEvent => e !== null);

/** What must survive a download: what identifies the event and what the cards show. */
const essence = (e: ProvisioningEvent) => {
  return {
    id: e.id,
    changeId: e.changeId,
    jobId: e.jobId,
    action: e.action,
    status: e.status,
    at: e.activityDateTime,
    source: e.sourceIdentity.displayName,
    errorCode: e.error?.code ?? "",
    steps: e.steps.map((s) => [s.name, s.status]),
    modified: e.modifiedProperties.map((m) => m.displayName),
  };
};

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

async function* each(events: ProvisioningEvent[]) {
  for (const e of events) yield e;
}

describe("downloads of any stored event (property)", () => {
  it("the JSON download reads back as the same events", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stored, { minLength: 1, maxLength: 6 }), async (events) => {
        const text = strFromU8(await collect(exportJson(each(events))));
        const back = (JSON.parse(text) as unknown[]).map((r) => normaliseRecord(r));
        expect(back.map((b) => (b.kind === "event" ? essence(b.event) : b.kind))).toEqual(events.map((e) => essence(e)));
      }),
      { numRuns: runs },
    );
  });

  it("the three CSV files read back as the same events, a formula-like text defused", async () => {
    await fc.assert(
      // The store holds one event per change ID (the CSV files join on it).
      fc.asyncProperty(fc.uniqueArray(stored, { minLength: 1, maxLength: 6, selector: (e) => e.changeId }), async (events) => {
        const files = unzipSync(await collect(exportCsvZip(() => each(events))));
        const parsed = await parsePayload(Object.entries(files).map(([name, bytes]) => ({ name, text: strFromU8(bytes).replace(/^\ufeff/, "") })));
        const back = parsed.items.map((i) => normaliseRecord(i.record));
        const got = back.map((b) => (b.kind === "event" ? essence(b.event) : b.kind));
        const unique = events;
        expect(got.map((g) => (typeof g === "string" ? g : g.id))).toEqual(unique.map((e) => e.id));
        for (const [i, e] of unique.entries()) {
          const g = got[i] as ReturnType<typeof essence>;
          expect({ ...g, source: undefined }).toEqual({ ...essence(e), source: undefined });
          // The one change a CSV makes: a name a spreadsheet would run as a formula gets an apostrophe.
          const name = e.sourceIdentity.displayName;
          expect(g.source).toBe(/^[=+\-@\t\r]/.test(name) && !/^[+-]?\d+(\.\d+)?$/.test(name) ? `'${name}` : name);
        }
      }),
      { numRuns: runs },
    );
  });

  it("defuses what a spreadsheet would run, and quotes what CSV needs quoted", () => {
    expect(csvCell("=HYPERLINK(\"http://x\")")).toBe("\"'=HYPERLINK(\"\"http://x\"\")\"");
    expect(csvCell("+1 555")).toBe("'+1 555");
    expect(csvCell("-42")).toBe("-42");
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell("line\r\nbreak")).toBe('"line\r\nbreak"');
    expect(csvCell(null)).toBe("");
  });
});
