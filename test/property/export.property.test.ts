import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { unzipSync, strFromU8 } from "fflate";
import { parse } from "csv-parse/sync";
import { normaliseRecord } from "../../src/core/ingest/normalise";
import { parsePayload } from "../../src/core/ingest/payload";
import { csvCell } from "../../src/core/export";
import { defuseCell, restoreCell } from "../../src/core/spreadsheetCells";
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

/** What a hostile directory or SCIM server puts in identifier columns: text a spreadsheet would run. */
const formula = fc.tuple(fc.constantFrom("=", "+", "-", "@", "\t", "\r", "'=", "''+", "'"), fc.constantFrom("cmd|' /C calc'!A0", "HYPERLINK(\"http://evil\")", "SUM(1+1)", "1", "x@contoso.com", "")).map(([a, b]) => a + b);
const FORMULA_PATHS = ["sourceIdentity.details.UserPrincipalName", "provisioningStatusInfo.errorInformation.errorCode", "provisioningSteps.0.name", "sourceIdentity.id", "targetIdentity.id", "sourceIdentity.displayName", "servicePrincipal.id", "cycleId", "modifiedProperties.0.displayName", "provisioningStatusInfo.errorInformation.reason"];
const formulaMutation = fc.record({ kind: fc.constant("set" as const), path: fc.constantFrom(...FORMULA_PATHS), value: formula });

const stored = fc
  .tuple(fc.constantFrom(...bases), fc.array(fc.oneof(mutation, formulaMutation, formulaMutation), { maxLength: 4 }), fc.integer({ min: 0, max: 1e6 }))
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
    upn: e.sourceIdentity.details["UserPrincipalName"] ?? "",
    sourceId: e.sourceIdentity.id,
    cycleId: e.cycleId,
    reason: e.error?.reason ?? "",
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

  it("the three CSV files read back as exactly the same events, and no cell of any column is a live formula", async () => {
    await fc.assert(
      // The store holds one event per change ID (the CSV files join on it).
      fc.asyncProperty(fc.uniqueArray(stored, { minLength: 1, maxLength: 6, selector: (e) => e.changeId }), async (events) => {
        const files = unzipSync(await collect(exportCsvZip(() => each(events))));
        const parsed = await parsePayload(Object.entries(files).map(([name, bytes]) => ({ name, text: strFromU8(bytes).replace(/^\ufeff/, "") })));
        const back = parsed.items.map((i) => normaliseRecord(i.record));
        const got = back.map((b) => (b.kind === "event" ? essence(b.event) : b.kind));
        const unique = events;
        expect(got.map((g) => (typeof g === "string" ? g : g.id))).toEqual(unique.map((e) => e.id));
        for (const [i, e] of unique.entries()) expect(got[i]).toEqual(essence(e));
        // Every cell of every file, as a spreadsheet reads it: nothing it would run.
        for (const [name, bytes] of Object.entries(files)) {
          const rows = parse(strFromU8(bytes).replace(/^\ufeff/, ""), { relax_column_count: true }) as string[][];
          for (const cell of rows.flat()) expect(/^[=+\-@\t\r\n]/.test(cell) && !/^[+-]?\d+(\.\d+)?$/.test(cell), `${name}: ${JSON.stringify(cell)}`).toBe(false);
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

  it("defusing is undone exactly by the reader, for any text (property)", () => {
    fc.assert(
      fc.property(fc.tuple(fc.array(fc.constantFrom("'", "=", "+", "-", "@", "\t", "\r", "\n"), { maxLength: 4 }), fc.string({ unit: "binary", maxLength: 12 })), ([head, tail]) => {
        const value = head.join("") + tail;
        const cell = defuseCell(value);
        expect(restoreCell(cell)).toBe(value);
        expect(/^[=+\-@\t\r\n]/.test(cell) && !/^[+-]?\d+(\.\d+)?$/.test(cell)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
