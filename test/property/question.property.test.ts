import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { DEFAULT_QUESTION_MAX_CHARS, parseQuestion } from "../../src/core/ask/question";
import { tooLong } from "../../src/app/answer";
import { renderCard } from "../../src/adapters/cards/render";
import { hostilePiece } from "../support/hostile";

/**
 * Property: the question parser takes any text up to the length cap (random Unicode, hostile
 * pieces, words it knows in random order) and returns a structured question without throwing, in
 * bounded time; anything longer is answered with the limit before it is parsed.
 */
const NOW = "2026-11-22T12:00:00.000Z";
const WORDS = ["why", "did", "fail", "in", "from", "to", "for", "the", "last", "days", "failures", "users", "removed", "top", "errors", "how", "is", "doing", "change", "cycle", "job", "since", "monday", "alice", "ServiceNow", "@", "?", "'s", "3", "24", "hours", "with", "code", "was", "skipped"];
const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: DEFAULT_QUESTION_MAX_CHARS }),
  fc.array(fc.oneof(fc.constantFrom(...WORDS), hostilePiece), { maxLength: 80 }).map((w) => w.join(" ").slice(0, DEFAULT_QUESTION_MAX_CHARS)),
  fc.constantFrom("a".repeat(500), "in ".repeat(166), "why did ".repeat(62), "from to ".repeat(62), "é ".repeat(250), "😀".repeat(250)),
);
/** A bound for one parse (the benchmark measures the real figure), far above it, so it never flakes. */
const PARSE_BOUND_MS = 250;

describe("question parser on any text (property)", () => {
  it("parses any text up to the cap without throwing, in bounded time", () => {
    fc.assert(
      fc.property(text, (t) => {
        const started = performance.now();
        const q = parseQuestion(t, NOW);
        expect(performance.now() - started).toBeLessThan(PARSE_BOUND_MS);
        expect(q.kind).toBeTypeOf("string");
        expect(tooLong(t)).toBeNull();
      }),
      { numRuns: Number(process.env["PROVBOT_PROPERTY_RUNS"] ?? 500) },
    );
  });

  it("answers a message over the cap with the limit, in a card that renders", () => {
    fc.assert(
      fc.property(fc.string({ minLength: DEFAULT_QUESTION_MAX_CHARS + 1, maxLength: 30_000, unit: "binary" }), (t) => {
        const a = tooLong(t);
        expect(a).not.toBeNull();
        const card = renderCard(a!.card, a!.viewModel);
        expect(JSON.stringify(card.content)).toContain(t.length.toLocaleString("en-US"));
      }),
      { numRuns: 50 },
    );
  });
});
