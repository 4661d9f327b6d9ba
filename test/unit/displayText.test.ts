import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { displayLines, displayText, forDisplay } from "../../src/core/displayText";
import { renderCard } from "../../src/adapters/cards/render";
import { eventDetail } from "../../src/core/ask/views";
import { normaliseRecord } from "../../src/core/ingest/normalise";
import { realGraphRecords } from "../support/hostile";

/**
 * Issue 21, item 15: names and reasons are shown without bidi overrides, zero-width characters or
 * runs of whitespace (so "Mallory\u202Egnp.exe" cannot pose as "Malloryexe.png"); what is stored is
 * kept as it came.
 */
const INVISIBLE = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c", "\u200b", "\u2060", "\ufeff", "\u00ad", "\u0000", "\u0007", "\u009b"];

describe("display text", () => {
  it("removes bidi controls and invisible characters and collapses whitespace, for any text (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...INVISIBLE, " ", "\n", "\r\n", "\t", "\u2028"), fc.string({ unit: "binary", maxLength: 6 })), { maxLength: 12 }).map((a) => a.join("")), (raw) => {
        for (const shown of [displayText(raw), displayLines(raw)]) {
          for (const c of INVISIBLE) expect(shown.includes(c), JSON.stringify(c)).toBe(false);
          expect(shown).not.toMatch(/[ \t]{2,}/);
          expect(shown).toBe(shown.trim());
          // Idempotent: cleaning twice changes nothing.
        }
        expect(displayText(displayText(raw))).toBe(displayText(raw));
        expect(displayText(raw)).not.toMatch(/\n/);
        expect(displayLines(raw)).not.toMatch(/\n{3,}/);
      }),
      { numRuns: 3000 },
    );
  });

  it("keeps emoji sequences and scripts that need joiners", () => {
    expect(displayText("👩🏽‍💻 Dev")).toBe("👩🏽‍💻 Dev");
    expect(displayText("می‌خواهم")).toBe("می‌خواهم");
    expect(displayText("Mallory\u202Egnp.exe")).toBe("Mallorygnp.exe");
    expect(displayLines("StatusCode: BadRequest\r\n\r\n\r\nMessage:\u200b  rejected  ")).toBe("StatusCode: BadRequest\n\nMessage: rejected");
  });

  it("a card shows the cleaned name and reason; the event itself is not changed", () => {
    const n = normaliseRecord(realGraphRecords()[0]!);
    if (n.kind !== "event") throw new Error("sample does not normalise");
    const e = { ...n.event, sourceIdentity: { ...n.event.sourceIdentity, displayName: "Mallory\u202Egnp.exe\u200b\n\nAdmin" }, error: { ...n.event.error!, reason: "Bad\u2066 thing\r\n\r\n\r\n\r\nhappened\u200f" } };
    const frozen = JSON.stringify(e);
    const answer = eventDetail(e);
    if (!("card" in answer) || !answer.card) throw new Error("no card");
    const card = JSON.stringify(renderCard(answer.card, answer.viewModel).content);
    expect(card).not.toMatch(/[\u202e\u200b\u2066\u200f]/);
    expect(card).toContain("Mallorygnp.exe Admin");
    expect(JSON.stringify(e)).toBe(frozen);
  });

  it("the tab cleans what it shows but keeps the identifiers it sends back", () => {
    const row = { name: "Mallory\u202Egnp.exe", app: "Box\u200b  Sync", changeId: "chg\u200b-1", ref: { pk: "p\u202e", rk: "r" }, nested: [{ reason: "a\n\nb" }] };
    expect(forDisplay(row)).toEqual({ name: "Mallorygnp.exe", app: "Box Sync", changeId: "chg\u200b-1", ref: { pk: "p\u202e", rk: "r" }, nested: [{ reason: "a b" }] });
  });
});
