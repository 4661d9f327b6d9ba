import { describe, expect, it } from "vitest";
import { CARD_TEMPLATES, MAX_CARD_BYTES, utf16Size, type CardName, renderAnswer } from "../../src/adapters/cards/render";
import { choice, eventDetail, eventList, info, stats, type Answer } from "../../src/core/ask/views";
import { helpViewModel } from "../../src/core/help";
import { normaliseRecord } from "../../src/core/ingest/normalise";
import type { ProvisioningEvent } from "../../src/core/event";
import { sampleJson, sampleNdjson } from "../support/samples";
import { alertCard } from "../../src/core/alerts/views";
import type { Incident } from "../../src/core/alerts/incident";

/** Every card: no unresolved ${...}, under 40 KB, data text cannot inject markdown. */
const EVIL = "[click me](https://evil.example) **boss** _x_";
const ev = (raw: unknown): ProvisioningEvent => {
  const r = normaliseRecord(raw);
  if (r.kind !== "event") throw new Error("sample did not normalise");
  return r.event;
};
const failure = ev(sampleJson<{ value: unknown[] }>("graph-v1.0-list-example2-failure.json").value[0]);
const skipped = ev(sampleNdjson("eventhub-provisioninglogs-elastic-test-raw.ndjson")[0]);
const hostile: ProvisioningEvent = {
  ...failure,
  sourceIdentity: { ...failure.sourceIdentity, displayName: EVIL },
  error: failure.error && { ...failure.error, reason: `${EVIL}\\r\\n- bullet\\r\\n# heading` },
  modifiedProperties: [{ displayName: "title", oldValue: EVIL, newValue: null }],
  steps: Array.from({ length: 40 }, (_, i) => ({ ...failure.steps[i % failure.steps.length]!, description: `${EVIL} ${"long ".repeat(120)}` })),
};
const row = (i: number) => ({ at: "2026-11-22T10:00:00.000Z", who: i === 0 ? EVIL : `User ${i}`, app: "ServiceNow", action: "create", status: i % 2 ? "failure" : "success", errorCode: i % 2 ? "ServiceNowEntryConflict" : "", changeId: `chg-${i}` });

const incident: Incident = {
  id: "removalBurst|job|w1",
  rule: "removalBurst",
  jobKey: "job",
  app: `Adobe ${EVIL}`,
  status: "open",
  count: 480,
  baseline: 1.5,
  since: "2026-11-22T10:00:00.000Z",
  lastSeen: "2026-11-22T10:20:00.000Z",
  topErrors: [[EVIL, 3], ["AccidentalDeletionThresholdReached", 2]],
  affected: Array.from({ length: 8 }, (_, i) => ({ identity: `u${i}@contoso.com`, name: `${EVIL} ${"x".repeat(200)}`, count: 3, errorCode: EVIL })),
  cycleId: "cycle-1",
  stagedDeletes: 40,
  summary: EVIL,
  windowMinutes: 30,
  openedAt: "2026-11-22T10:05:00.000Z",
  version: 3,
  ackBy: EVIL,
  ackAt: "2026-11-22T10:10:00.000Z",
  resolvedAt: null,
  resolution: null,
};
const alert = (i: Incident, type: "personal" | "channel"): Answer => ({ card: "alert", viewModel: alertCard(i, type), text: "" });

const answers: [string, Answer][] = [
  ["alert, burst in a channel, hostile", alert(incident, "channel")],
  ["alert, failure spike in a personal chat", alert({ ...incident, rule: "failureSpike", stagedDeletes: 0, ackBy: null, ackAt: null }, "personal")],
  ["alert, silent job resolved", alert({ ...incident, rule: "silentJob", topErrors: [], affected: [], status: "resolved", resolvedAt: "2026-11-22T12:00:00.000Z", resolution: "Events resumed." }, "personal")],
  ["help", { card: "help", viewModel: helpViewModel("1.0.0", EVIL), text: "" }],
  ["event detail, failure", eventDetail(failure, "note")],
  ["event detail, skipped", eventDetail(skipped)],
  ["event detail, hostile and long", eventDetail(hostile, EVIL)],
  ["list", eventList(`Failures ${EVIL}`, "page 1", Array.from({ length: 10 }, (_, i) => row(i)), { title: "More", data: { text: "failures", page: 2 } }, "none")],
  ["list, empty", eventList("Nothing", "page 1", [], null, "No matching events.")],
  ["choice", choice(`Which "${EVIL}"?`, "Pick one", [{ title: `Alice ${EVIL}`, data: { text: "why did alice.zhang@contoso.com fail" } }])],
  ["info", info(`No ${EVIL}`, EVIL, [{ title: "Last event", value: EVIL }], [{ title: "History", data: { text: "what happened to bob" } }])],
  ["info, no facts", info("Title", "text")],
  ["stats", stats(`Top errors ${EVIL}`, "sub", ["Error code", "Count"], [[EVIL, "3"], ["X", "1"]], [{ title: "Events", value: "10" }])],
  ["stats, empty", stats("Top errors", "sub", ["Error code", "Count"], [])],
];

function texts(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => texts(n, out));
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "data") continue;
      if (typeof v === "string" && ["text", "title", "value"].includes(k)) out.push(v);
      else texts(v, out);
    }
  }
  return out;
}

describe("every card template", () => {
  it("has a rendering case here", () => {
    const covered = new Set(answers.map(([, a]) => a.card));
    expect([...covered].sort()).toEqual((Object.keys(CARD_TEMPLATES) as CardName[]).sort());
  });

  it.each(answers)("%s: binds every field, stays under 40 KB, escapes data", (_name, answer) => {
    const card = renderAnswer(answer).content;
    const json = JSON.stringify(card);
    expect(json).not.toMatch(/\$\{/);
    expect(utf16Size(card)).toBeLessThan(MAX_CARD_BYTES);
    for (const t of texts(card)) {
      expect(t).not.toMatch(/(^|[^\\])\[click me\]/);
      expect(t).not.toMatch(/(^|[^\\])\*\*boss/);
    }
  });

  it("shows the failing step in bold and the remedy for the error code", () => {
    const card = JSON.stringify(renderAnswer(eventDetail(failure)).content);
    expect(card).toContain('"text":"Step 3 · export · EntryExportAdd · Failure","color":"Attention","weight":"Bolder"');
    expect(card).toContain("Find the conflicting account in the app");
  });

  it("shows each step's extended details (what was imported, evaluated and written), ids scrubbed in shared chats", () => {
    const record = sampleJson<Record<string, unknown>>("graph-v1.0-live-record-scim-group-skipped-redundantexport.json");
    const n = normaliseRecord(record);
    if (n.kind !== "event") throw new Error("sample did not normalise");
    const personal = JSON.stringify(renderAnswer(eventDetail(n.event)).content);
    expect(personal).toContain("Scoping filter evaluation passed: True");
    expect(personal).toContain("displayName: macos-servers-dynamic");
    expect(personal).toContain("externalId: ae0c9dc4-faba-477f-952c-423c67237700");
    const shared = JSON.stringify(renderAnswer(eventDetail(n.event, "", "shared")).content);
    expect(shared).toContain("Scoping filter evaluation passed: True");
    expect(shared).not.toContain("ae0c9dc4-faba-477f-952c-423c67237700");
  });

  it("explains a skip with the scoping details", () => {
    const vm = eventDetail(skipped).viewModel as { hasExplanation: boolean; explanation: string };
    expect(vm.hasExplanation).toBe(true);
    expect(vm.explanation).toMatch(/required value is missing or invalid/);
  });

  it("keeps the hidden sections out when their $when is false", () => {
    const card = JSON.stringify(renderAnswer(eventDetail(skipped)).content);
    expect(card).not.toContain("Troubleshooting & recommendations");
    expect(card).toContain("Why it was skipped");
    const empty = JSON.stringify(renderAnswer(eventList("t", "s", [], null, "No matching events.")).content);
    expect(empty).toContain("No matching events.");
  });
});

describe("text is never cut (issue 10, item 6)", () => {
  it("no card uses a FactSet: its values do not wrap in the Agents Playground, cutting long job ids and sentences", () => {
    for (const [name, template] of Object.entries(CARD_TEMPLATES)) expect(JSON.stringify(template), name).not.toContain('"FactSet"');
  });

  it("every fact value is a wrapping text block", () => {
    for (const [name, template] of Object.entries(CARD_TEMPLATES)) {
      const json = JSON.stringify(template);
      for (const m of json.matchAll(/\{"type":"TextBlock","text":"\$\{value\}"[^}]*\}/g)) expect(m[0], name).toContain('"wrap":true');
    }
  });

  it("a narrow table gives its number column the pixels its header needs", () => {
    const vm = stats("t", "s", ["Count", "Error code · what to do"], [["27", "InsufficientRights\n\nfix"]]).viewModel as { columns: { width: number | string }[] };
    const px = Number(String(vm.columns[0]!.width).replace("px", ""));
    expect(px).toBeGreaterThanOrEqual(12 + 9 * "Count".length);
  });
});

describe("card colours (issue 25, item 6)", () => {
  /** The Adaptive Card colours with AA contrast in Teams' light, dark and high-contrast themes. */
  const READABLE = new Set(["Default", "Accent", "Attention"]);
  const colours = (json: string) => [...json.matchAll(/"color":\s*"([^"$]+)"/g)].map((m) => m[1]!);

  it("no template names a pale colour (Good, Warning, Light)", () => {
    for (const [name, template] of Object.entries(CARD_TEMPLATES)) for (const c of colours(JSON.stringify(template))) expect(READABLE, `${name}: ${c}`).toContain(c);
  });

  it("no event or alert card is drawn in a pale colour, whatever its status or rule", () => {
    const iso = "2026-12-01T10:00:00.000Z";
    for (const status of ["success", "failure", "skipped", "warning"] as const) {
      const base = (sampleJson<{ value: Record<string, unknown>[] }>("graph-v1.0-list-example2-failure.json")).value[0]!;
      const n = normaliseRecord({ ...base, provisioningStatusInfo: { status, errorInformation: status === "failure" ? { errorCode: "X", reason: "r" } : null } });
      if (n.kind !== "event") continue;
      for (const c of colours(JSON.stringify(renderAnswer(eventDetail(n.event)).content))) expect(READABLE, `${status}: ${c}`).toContain(c);
    }
    const rules = ["failureSpike", "removalBurst", "silentJob", "newFailures", "jobQuarantined", "jobPaused", "initialCycleCompleted", "quarantineForecast"] as const;
    for (const rule of rules) {
      for (const state of [{}, { ackBy: "Ada", ackAt: iso }, { status: "resolved" as const, resolvedAt: iso, resolution: "done" }]) {
        const i: Incident = { id: `${rule}|j|1`, rule, jobKey: "j", app: "App", status: "open", count: 3, baseline: 0, since: iso, lastSeen: iso, topErrors: [], affected: [], cycleId: null, stagedDeletes: 1, summary: "s", windowMinutes: 30, openedAt: iso, version: 1, ackBy: null, ackAt: null, resolvedAt: null, resolution: null, ...state };
        const vm = alertCard(i, "personal");
        expect(READABLE, `${rule} ${JSON.stringify(state)}: ${vm.statusColor}`).toContain(vm.statusColor);
      }
    }
  });
});
