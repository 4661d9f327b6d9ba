import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { MAX_CARD_BYTES, renderCard, utf16Size } from "../../src/adapters/cards/render";
import { choice, eventDetail, eventList, info, stats, type Answer } from "../../src/core/ask/views";
import { helpViewModel } from "../../src/core/help";
import { alertCard } from "../../src/core/alerts/views";
import { normaliseRecord } from "../../src/core/ingest/normalise";
import type { Incident } from "../../src/core/alerts/incident";
import type { ProvisioningEvent } from "../../src/core/event";
import { displayText } from "../../src/core/displayText";
import { hostileString, realEventHubRecords, realGraphRecords } from "../support/hostile";

/**
 * Property: whatever strings a view-model carries (names, reasons, ids, codes with ${...},
 * markdown, lone surrogates, 40,000 characters), every card renders, within Teams' 40 KB, with
 * every data string shown as text: short hostile strings appear verbatim (markdown-escaped), never
 * evaluated, and no markdown link made of data survives unescaped.
 */
const events: ProvisioningEvent[] = [...realGraphRecords(), ...realEventHubRecords()].flatMap((r) => {
  const n = normaliseRecord(r);
  return n.kind === "event" ? [n.event] : [];
});

const s = hostileString;
const hostileEvent = fc
  .record({ base: fc.constantFrom(...events), name: s, upn: s, reason: s, code: s, app: s, step: s, description: s, prop: s, value: s, id: s, steps: fc.integer({ min: 0, max: 300 }) })
  .map(({ base, name, upn, reason, code, app, step, description, prop, value, id, steps }): ProvisioningEvent => ({
    ...base,
    changeId: id,
    sourceIdentity: { ...base.sourceIdentity, displayName: name, details: { ...base.sourceIdentity.details, UserPrincipalName: upn } },
    servicePrincipal: { ...base.servicePrincipal, displayName: app },
    error: { code, reason, category: "nonServiceFailure", additionalDetails: reason, recommendedAction: reason, httpStatus: null, retryCount: null, nextRetryAt: null },
    steps: Array.from({ length: steps }, (_, i) => ({ name: step, type: "export", status: i === steps - 1 ? "failure" : "success", description, details: { [prop]: value } })),
    modifiedProperties: Array.from({ length: Math.min(steps, 80) }, () => ({ displayName: prop, oldValue: value, newValue: name })),
    trimmed: [name, reason],
  }));

const row = fc.record({ at: fc.constant("2026-11-22T10:00:00.000Z"), who: s, app: s, action: fc.constantFrom("create", "delete", "update"), status: fc.constantFrom("failure", "success", "skipped"), errorCode: s, changeId: s });

const incident = fc
  .record({ app: s, summary: s, ackBy: fc.option(s), code: s, name: s, identity: s, rule: fc.constantFrom("failureSpike", "removalBurst", "silentJob", "newFailures" as const), jobKey: s })
  .map(({ app, summary, ackBy, code, name, identity, rule, jobKey }): Incident => ({
    id: `${rule}|${jobKey}`,
    rule,
    jobKey,
    app,
    status: "open",
    count: 480,
    baseline: 1.5,
    since: "2026-11-22T10:00:00.000Z",
    lastSeen: "2026-11-22T10:20:00.000Z",
    topErrors: [[code, 3]],
    affected: Array.from({ length: 8 }, () => ({ identity, name, count: 3, errorCode: code })),
    cycleId: "cycle-1",
    stagedDeletes: 4,
    summary,
    windowMinutes: 30,
    openedAt: "2026-11-22T10:05:00.000Z",
    version: 3,
    ackBy,
    ackAt: ackBy ? "2026-11-22T10:10:00.000Z" : null,
    resolvedAt: null,
    resolution: null,
  }));

const answer: fc.Arbitrary<{ answer: Answer; probe: string }> = fc.oneof(
  hostileEvent.map((e) => ({ answer: eventDetail(e), probe: e.sourceIdentity.displayName })),
  fc.tuple(s, s, fc.array(row, { maxLength: 12 })).map(([t, sub, rows]) => ({ answer: eventList(t, sub, rows, { title: "More", data: { text: "failures", page: 2 } }, sub), probe: t })),
  fc.tuple(s, s, fc.array(fc.record({ title: s, value: s }), { maxLength: 30 })).map(([t, text, facts]) => ({ answer: info(t, text, facts, [{ title: t, data: { text } }]), probe: text })),
  fc.tuple(s, s, fc.array(s, { minLength: 1, maxLength: 12 })).map(([t, text, names]) => ({ answer: choice(t, text, names.map((n) => ({ title: n, data: { text: `why did ${n} fail` } }))), probe: t })),
  fc.tuple(s, fc.array(fc.tuple(s, s), { maxLength: 40 })).map(([t, rows]) => ({ answer: stats(t, t, ["Error code", "Count"], rows.map(([a, b]) => [a, b]), [{ title: t, value: t }]), probe: t })),
  fc.tuple(incident, fc.constantFrom("personal", "channel", "groupChat" as const)).map(([i, type]) => ({ answer: { card: "alert" as const, viewModel: alertCard(i, type), text: "" }, probe: i.summary })),
  s.map((text) => ({ answer: { card: "help" as const, viewModel: helpViewModel("1.0.0", text), text: "" }, probe: text })),
);

/** Every string Teams shows: text, titles and values, outside action payloads. */
function displayed(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => displayed(n, out));
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "data" || k === "url") continue;
      if (typeof v === "string" && (k === "text" || k === "title" || k === "value")) out.push(v);
      else displayed(v, out);
    }
  }
  return out;
}

describe("cards with hostile data (property)", () => {
  it("always render, within 40 KB, showing data as text and never as template syntax or markdown", () => {
    fc.assert(
      fc.property(answer, ({ answer: a, probe }) => {
        const card = renderCard(a.card, a.viewModel);
        expect(utf16Size(card.content)).toBeLessThanOrEqual(MAX_CARD_BYTES);
        const json = JSON.stringify(card.content);
        // A short probe string is shown whole, escaped, with its ${...} intact as text.
        const shortProbe = probe.isWellFormed() && probe.length > 0 && probe.length <= 50 && !/[\\`*_[\]<>~|#\-+\r\n\t\u0000-\u001f]/.test(probe);
        // Shown as display text: bidi and invisible characters gone, spaces collapsed (stored text is kept).
        if (shortProbe && displayText(probe)) expect(json).toContain(JSON.stringify(displayText(probe)).slice(1, -1));
        // Displayed text never holds a markdown link or emphasis made of data (action payloads are not displayed).
        for (const text of displayed(card.content)) {
          expect(text).not.toMatch(/(?<!\\)\[[^\]]*(?<!\\)\]\(/);
          expect(text).not.toMatch(/(?<!\\)\*\*bold/);
          expect(text).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u200b\u200e\u200f\ufeff]/);
          expect(text).not.toMatch(/[ \t]{2,}/);
        }
      }),
      { numRuns: Number(process.env["PROVBOT_PROPERTY_RUNS"] ?? 300) },
    );
  });
});
