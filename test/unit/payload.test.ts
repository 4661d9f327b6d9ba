import { describe, expect, it } from "vitest";
import { MAX_RECORDS_PER_REQUEST, nestingDepth, parsePayload, PayloadError, sniffFormat } from "../../src/core/ingest/payload";

/** Bounded work per request: caps that refuse early, and format sniffing from a prefix (issue 9, case 3). */
describe("request caps and format detection", () => {
  it("refuses a CSV with more rows than one request takes, without holding them all", async () => {
    const rows = Array.from({ length: MAX_RECORDS_PER_REQUEST + 5 }, (_, i) => `2026-11-20T10:00:00Z,id-${i},success`).join("\n");
    await expect(parsePayload([{ contentType: "text/csv", text: `Date,Id,Status\n${rows}` }])).rejects.toThrow(/rows or more; one request takes at most 50,000/);
  });

  it("reads a CSV at the cap in slices", async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => `2026-11-20T10:00:00Z,id-${i},success`).join("\n");
    const parsed = await parsePayload([{ contentType: "text/csv", text: `Date,Id,Status\n${rows}` }]);
    expect(parsed.items).toHaveLength(1000);
  });

  it("refuses junk without a provisioning header after its first line", async () => {
    await expect(parsePayload([{ text: "lorem ipsum dolor ".repeat(100_000) }])).rejects.toBeInstanceOf(PayloadError);
  });

  it.each([
    [{ text: '{"id":1}\n{"id":2}' }, "ndjson"],
    [{ text: '{\n  "value": []\n}' }, "json"],
    [{ text: "[{}]" }, "json"],
    [{ text: "Date,Id,Status\n" }, "csv"],
    [{ name: "x.jsonl", text: "{}" }, "ndjson"],
  ] as const)("%j is %s", (file, format) => {
    expect(sniffFormat(file)).toBe(format);
  });

  it("measures nesting without recursion and ignores brackets in strings", () => {
    expect(nestingDepth('[[{"a":"[[[["}]]]')).toBe(3);
    expect(nestingDepth(`${"[".repeat(300_000)}${"]".repeat(300_000)}`, 200_000)).toBe(200_001);
  });
});
