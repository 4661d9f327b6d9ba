import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseQuestion, type Question } from "../../src/core/ask/question";
import { findApps, type Lexicon } from "../../src/core/ask/lexicon";
import { normaliseName } from "../../src/core/names";
import { answerQuestion } from "../../src/app/answer";
import { MemoryStore } from "../support/memoryStore";

/**
 * Issue 22: what admins type, generated. Templates for every kind of question over slot order
 * (the app first or last, the question word first or last), fillers, casual spelling (no
 * apostrophes, "whats", "isnt", "pls"), case, a final "?" or none, ids with a word in front, and
 * time phrases, against a tenant that is not the demo. Each case is checked for the question
 * understood: its kind and every slot, not words in a reply.
 */
const NOW = "2026-12-06T15:30:00.000Z";
const LEXICON: Lexicon = { apps: ["Smartsheet", "Contoso Payroll API inbound provisioning", "Dropbox Business", "Slack", "Box", "Workday to Entra user provisioning", "ServiceNow", "Adobe Identity Management", "Zendesk", "Atlassian Cloud"] };
/** How an app may be named: its whole name, a short name, or a distinctive part of a long one. */
const APPS: [string, string][] = [
  ["smartsheet", "Smartsheet"],
  ["payroll inbound", "Contoso Payroll API inbound provisioning"],
  ["dropbox", "Dropbox Business"],
  ["slack", "Slack"],
  ["servicenow", "ServiceNow"],
  ["adobe", "Adobe Identity Management"],
  ["zendesk", "Zendesk"],
  ["atlassian", "Atlassian Cloud"],
  ["box", "Box"],
  ["workday", "Workday to Entra user provisioning"],
];
const PEOPLE = ["carol danvers", "bob", "priya patel", "jürgen weiß", "mallory o'neil"];
const TIMES: [string, string | null][] = [["", null], [" today", "today"], [" this week", "this week"], [" in the last 24 hours", "last 24 hours"], [" yesterday", "yesterday"], [" since monday", "since Monday"], [" last week", "last week"]];
const GUID = "4f2c8a1e-9b7d-4c3e-8f21-0a6b5c4d3e2f";

interface Expect {
  kind: Question["kind"];
  identity?: string;
  app?: string;
  status?: string;
  outcome?: "failure" | "skipped" | null;
  id?: string;
  actions?: string[];
  range?: string | null;
}
interface Case {
  text: string;
  want: Expect;
}

/** A name as the directory compares it, with ß and SS alike (upper case turns one into the other). */
const fold = (name: string) => normaliseName(name.replace(/['’]/g, "")).replace(/ß/g, "ss");

/** The app a slot names, through the lexicon (a typed phrase or the stored name). */
const appOf = (slot: string | null | undefined) => (slot ? (findApps(slot, LEXICON)[0]?.app ?? `?${slot}`) : null);

function slots(q: Question): Expect & { range?: string | null } {
  const out: Expect & { range?: string | null } = { kind: q.kind };
  if ("identity" in q) out.identity = fold(q.identity);
  if ("app" in q && q.kind !== "limit") out.app = appOf(q.app) ?? undefined;
  if (q.kind === "list" || q.kind === "count") {
    if (q.filters.app) out.app = appOf(q.filters.app)!;
    if (q.filters.status) out.status = q.filters.status;
    if (q.filters.actions) out.actions = q.filters.actions;
    if (q.filters.identity) out.identity = fold(q.filters.identity);
  }
  if (q.kind === "why") out.outcome = q.outcome;
  if (q.kind === "id") out.id = q.id;
  if ("range" in q) out.range = q.range.label;
  return out;
}

function generate(): Case[] {
  const cases: Case[] = [];
  let n = 0;
  const pick = <T,>(xs: readonly T[]) => xs[n++ % xs.length]!;
  for (const [a, app] of APPS) {
    for (const p of PEOPLE) {
      for (const [time, label] of TIMES) {
        const r = label ? { range: label } : {};
        // Why, with the question word first or last, with or without an auxiliary.
        cases.push({ text: `why did ${p} fail in ${a}${time}`, want: { kind: "why", identity: p, app, outcome: "failure", ...r } });
        cases.push({ text: `${p} failed in ${a}${time}, why?`, want: { kind: "why", identity: p, app, outcome: "failure", ...r } });
        cases.push({ text: `why ${p} failed in ${a}${time}`, want: { kind: "why", identity: p, app, outcome: "failure", ...r } });
        cases.push({ text: `why was ${p} skipped in ${a}${time}`, want: { kind: "why", identity: p, app, outcome: "skipped", ...r } });
      }
      // Provisioned: "did X get created in Y", "is X in Y", "has X been provisioned to Y".
      for (const t of [`did ${p} get created in ${a}`, `did ${p} get into ${a}`, `is ${p} in ${a}`, `has ${p} been provisioned to ${a}`, `was ${p} created in ${a}`, `did ${p} get provisioned in ${a}`]) cases.push({ text: t, want: { kind: "provisioned", identity: p, app } });
      // Negations: it did not happen, so why.
      for (const t of [`why isnt ${p} in ${a}`, `why hasn't ${p} been provisioned to ${a}`, `${p} didnt get created in ${a}`, `${p} never got into ${a}`, `${p} isn't in ${a}`, `${p} still isnt in ${a}`]) cases.push({ text: t, want: { kind: "why", identity: p, app, outcome: null } });
      cases.push({ text: `what happened to ${p} in ${a}`, want: { kind: "why", identity: p, app, outcome: null } });
    }
    for (const [time, label] of TIMES) {
      const r = label ? { range: label } : {};
      // Lists with the app first, last or between.
      for (const t of [`${a} failures${time}`, `failures in ${a}${time}`, `${a} errors${time}`, `show me ${a} failures${time}`, `what failed in ${a}${time}`, `${time.trim()} failures in ${a}`.trim()]) cases.push({ text: t, want: { kind: "list", app, status: "failure", ...r } });
      for (const t of [`${a} skipped users${time}`, `skipped users in ${a}${time}`]) cases.push({ text: t, want: { kind: "list", app, status: "skipped", ...r } });
      // Counts, the app anywhere.
      for (const t of [`how many users were created in ${a}${time}`, `how many ${a} users were created${time}`, `how many users got created in ${a}${time}`]) cases.push({ text: t, want: { kind: "count", app, actions: ["create"], ...r } });
      for (const t of [`how many failures in ${a}${time}`, `how many ${a} failures${time}`]) cases.push({ text: t, want: { kind: "count", app, status: "failure", ...r } });
      for (const t of [`top errors in ${a}${time}`, `${a} top errors${time}`]) cases.push({ text: t, want: { kind: "topErrors", app, ...r } });
    }
    // Health, under every casual form.
    for (const t of [`how is ${a} doing`, `hows ${a} doing`, `whats up with ${a}`, `what's wrong with ${a}`, `whats wrong with ${a}?`, `health of ${a}`, `status of ${a}`]) cases.push({ text: t, want: { kind: "health", app } });
  }
  // Ids: bare, with a word in front, inside a sentence.
  for (const t of [GUID, `change ${GUID}`, `can you check change ${GUID} for me`, `look up ${GUID} pls`, `what about ${GUID}?`, `check ${GUID}`, `details of change id ${GUID}`]) cases.push({ text: t, want: { kind: "id", id: GUID } });
  for (const [t, who] of [["what happened to worker 20431", "20431"], ["history of emp id 20431", "20431"], ["what happened to employee #88120", "88120"], ["what happened to employee id W-5521", "w-5521"]] as const) cases.push({ text: t, want: { kind: "history", identity: who } });
  // Fillers and politeness around any of them.
  const fillers: [string, string][] = [["", ""], ["hey provbot, ", ""], ["quick one: ", ""], ["pls ", ""], ["", " pls"], ["", " thanks"], ["could you tell me ", ""], ["hi, ", " thx"]];
  return cases.map((c) => {
    const [pre, post] = pick(fillers);
    return { text: `${pre}${c.text}${post}`, want: c.want };
  });
}

const CASES = generate();

describe("generated paraphrases (issue 22)", () => {
  it("there are more than 1,000 of them", () => {
    expect(CASES.length).toBeGreaterThan(1_000);
  });

  it.each(CASES)("$text", ({ text, want }) => {
    const got = slots(parseQuestion(text, NOW, LEXICON));
    const { range, ...rest } = { ...want, ...(want.identity ? { identity: fold(want.identity) } : {}) };
    expect(got).toMatchObject(rest);
    if (range !== undefined) expect(got.range).toBe(range);
  });
});

/** The forms of one question that must not change what it asks. */
const variant = fc.record({
  filler: fc.constantFrom("", "hey provbot, ", "quick one: ", "pls ", "Hi, "),
  tail: fc.constantFrom("", "?", " pls", " thanks", "??"),
  casing: fc.constantFrom("same", "upper", "lower", "title"),
  apostrophes: fc.boolean(),
});

function vary(text: string, v: { filler: string; tail: string; casing: string; apostrophes: boolean }): string {
  let t = `${v.filler}${text}${v.tail}`;
  if (v.apostrophes) t = t.replace(/'/g, "");
  if (v.casing === "upper") t = t.toUpperCase();
  if (v.casing === "lower") t = t.toLowerCase();
  if (v.casing === "title") t = t.replace(/\b\w/g, (c) => c.toUpperCase());
  return t;
}

describe("the issue's own examples (issue 22)", () => {
  it.each([
    ["adobe failures last week", { kind: "list", app: "Adobe Identity Management", status: "failure", range: "last week" }],
    ["servicenow errors today", { kind: "list", app: "ServiceNow", status: "failure", range: "today" }],
    ["carol failed in dropbox, why?", { kind: "why", identity: "carol", app: "Dropbox Business", outcome: "failure" }],
    ["did bob get created in salesforce", { kind: "provisioned", identity: "bob" }],
    ["did carol get into slack", { kind: "provisioned", identity: "carol", app: "Slack" }],
    ["whats up with box", { kind: "health", app: "Box" }],
    ["what's wrong with workday?", { kind: "health", app: "Workday to Entra user provisioning" }],
    ["why isnt dana in zendesk", { kind: "why", identity: "dana", app: "Zendesk", outcome: null }],
    ["what happened to worker 20431", { kind: "history", identity: "20431" }],
    ["what happened to emp id 20431", { kind: "history", identity: "20431" }],
    ["failures in payroll inbound", { kind: "list", app: "Contoso Payroll API inbound provisioning", status: "failure" }],
    ["which apps are unhealthy", { kind: "jobs" }],
    ["who changed the adobe scoping filter?", { kind: "configChanges", app: "Adobe Identity Management" }],
    [`can you check change ${GUID} for me`, { kind: "id", id: GUID }],
    ["failures since yesterday 9am", { kind: "list", status: "failure", range: "since Sat 5 Dec 09:00" }],
    ["errors in box after 14:00", { kind: "list", app: "Box", status: "failure", range: "since Sun 6 Dec 14:00" }],
    ["which slack groups have members that couldnt be resolved", { kind: "unresolvedMembers", app: "Slack" }],
    ["users whose manager could not be resolved in servicenow", { kind: "unresolvedMembers", app: "ServiceNow" }],
  ] as [string, Expect][])("%s", (text, want) => {
    const got = slots(parseQuestion(text, NOW, LEXICON));
    const { range, ...rest } = { ...want, ...(want.identity ? { identity: fold(want.identity) } : {}) };
    expect(got).toMatchObject(rest);
    if (range !== undefined) expect(got.range).toBe(range);
  });
});

describe("metamorphic properties (issue 22)", () => {
  const bases = CASES.filter((c) => c.want.kind !== "id").map((c) => c.text.replace(/^(hey provbot, |quick one: |pls |could you tell me |hi, )/, "").replace(/( pls| thanks| thx)$/, ""));

  it("fillers, case, apostrophes and a final '?' never change the question understood", () => {
    fc.assert(
      fc.property(fc.constantFrom(...bases), variant, (base, v) => {
        const a = slots(parseQuestion(base, NOW, LEXICON));
        const b = slots(parseQuestion(vary(base, v), NOW, LEXICON));
        expect(b).toEqual(a);
      }),
      { numRuns: 1500 },
    );
  });

  it("a question that names an app is never answered without that app", () => {
    fc.assert(
      fc.property(fc.constantFrom(...CASES.filter((c) => c.want.app)), variant, ({ text, want }, v) => {
        const got = slots(parseQuestion(vary(text, v), NOW, LEXICON));
        expect(got.app).toBe(want.app);
      }),
      { numRuns: 1500 },
    );
  });

  it("moving the time phrase to the front or the end does not change the question", () => {
    fc.assert(
      fc.property(fc.constantFrom(...APPS), fc.constantFrom(...TIMES.filter(([t]) => t)), fc.constantFrom("failures in", "top errors in", "skipped users in"), ([a], [time], head) => {
        const end = slots(parseQuestion(`${head} ${a}${time}`, NOW, LEXICON));
        const front = slots(parseQuestion(`${time.trim()} ${head} ${a}`, NOW, LEXICON));
        expect(front).toEqual(end);
      }),
      { numRuns: 300 },
    );
  });
});

describe("nothing named is dropped without a word (issue 22)", () => {
  const unknownWord = fc.tuple(fc.stringMatching(/^[a-z]{2,6}$/), fc.constantFrom("-sync", "-app", "hr", "-2", "_prod", "")).map(([a, b]) => `zq${a}${b}`);
  const heads = ["failures", "skipped users", "top errors", "how many failures", "deletes", "errors"];

  it("an unknown word beside a list, count or top-errors question is its app or is named as unused", () => {
    fc.assert(
      fc.property(unknownWord, fc.constantFrom(...heads), fc.constantFrom(...TIMES), fc.boolean(), (word, head, [time], first) => {
        const text = first ? `${word} ${head}${time}` : `${head}${time} ${word}`;
        const q = parseQuestion(text, NOW, LEXICON);
        const app = "app" in q ? q.app : q.kind === "list" || q.kind === "count" ? q.filters.app : undefined;
        const unused = "unused" in q ? (q.unused ?? []) : [];
        expect(app === word || unused.includes(word), `${text} → ${JSON.stringify(q)}`).toBe(true);
      }),
      { numRuns: 800 },
    );
  });

  it("the answer says which word it did not use", async () => {
    const answer = await answerQuestion("zz-sync failures today", { store: new MemoryStore(), now: () => new Date(NOW), version: "t" });
    expect(JSON.stringify(answer)).toContain('I did not use \\"zz-sync\\"');
  });
});

describe("an app's name where a person was asked about (issue 22)", () => {
  it("is the app's health when no one is called so, and a choice when someone is", async () => {
    const store = new MemoryStore();
    const deps = { store, now: () => new Date(NOW), version: "t" };
    const { ingestItems } = await import("../../src/app/ingest.js");
    const { provisioningRecord } = await import("../support/records.js");
    const at = new Date(Date.parse(NOW) - 3_600_000);
    const boxJob = provisioningRecord({ jobId: "BoxOutDelta.x", app: "Box", at, user: 1 });
    await ingestItems([{ index: 0, record: boxJob }], "test", { store, deadLetters: { put: async () => "dl" } });
    expect(JSON.stringify(await answerQuestion("what happened to box", deps))).toMatch(/How is Box doing/);
    const person = provisioningRecord({ jobId: "SlackOutDelta.x", app: "Slack", at, user: 2 }) as Record<string, any>;
    person["sourceIdentity"] = { ...person["sourceIdentity"], displayName: "Box", details: { UserPrincipalName: "box@contoso.com" } };
    await ingestItems([{ index: 0, record: person }], "test", { store, deadLetters: { put: async () => "dl" } });
    const asked = await answerQuestion("what happened to box", deps);
    expect(asked.card).toBe("choice");
    expect(JSON.stringify(asked)).toContain("what happened to box@contoso.com");
    expect(JSON.stringify(asked)).toContain("how is Box doing");
  });
});

describe("a time given by a configuration change (issue 22)", () => {
  it("'list the users adobe disabled after bob's change' lists Adobe's disables since bob's newest change", async () => {
    const q = parseQuestion("list the users adobe disabled after bob's change", NOW, LEXICON);
    expect(q).toMatchObject({ kind: "list", filters: { app: "Adobe Identity Management", actions: ["disable"], identityType: "User", afterChangeBy: "bob" } });
    expect("unused" in q ? q.unused : undefined).toBeUndefined();
    const store = new MemoryStore();
    const { ingestItems } = await import("../../src/app/ingest.js");
    const { provisioningRecord } = await import("../support/records.js");
    const t = (h: number) => new Date(Date.parse(NOW) - h * 3_600_000);
    const records = [
      provisioningRecord({ jobId: "AdobeOutDelta.x", app: "Adobe Identity Management", at: t(30), user: 1, action: "disable" }),
      provisioningRecord({ jobId: "AdobeOutDelta.x", app: "Adobe Identity Management", at: t(3), user: 2, action: "disable" }),
      provisioningRecord({ jobId: "AdobeOutDelta.x", app: "Adobe Identity Management", at: t(2), user: 3, action: "disable" }),
    ];
    await ingestItems(records.map((record, index) => ({ index, record })), "test", { store, deadLetters: { put: async () => "dl" } });
    store.auditRows.push({ id: "a1", at: t(4).toISOString(), activity: "Update application - Service principal", kind: "scope", result: "success", resultReason: "", by: "bob.builder@contoso.com", servicePrincipalId: "sp-AdobeOutDelta.x", appName: "Adobe Identity Management", jobIds: [], changes: [], details: [] } as never);
    const deps = { store, now: () => new Date(NOW), version: "t" };
    const answer = JSON.stringify(await answerQuestion("list the users adobe disabled after bob's change", deps));
    expect(answer).toContain("User 2");
    expect(answer).toContain("User 3");
    expect(answer).not.toContain("User 1");
    expect(answer).toContain("after bob.builder@contoso.com's change");
    expect(JSON.stringify(await answerQuestion("list the users adobe disabled after carol's change", deps))).toContain("No change by carol");
  });
});

describe("export (issue 22)", () => {
  it.each([
    ["export this", null, null],
    ["download that pls", null, null],
    ["export failures in box this week", "Box", "failure"],
    ["download adobe failures today", "Adobe Identity Management", "failure"],
    ["export to csv skipped users in slack", "Slack", "skipped"],
  ])("%s", async (text, app, status) => {
    const q = parseQuestion(text, NOW, LEXICON);
    expect(q.kind).toBe("export");
    if (q.kind !== "export") return;
    expect(appOf(q.filters?.app) ?? null).toBe(app);
    expect(q.filters?.status ?? null).toBe(status);
    const answer = JSON.stringify(await answerQuestion(text, { store: new MemoryStore(), now: () => new Date(NOW), version: "t" }));
    if (app) expect(answer).toContain("/api/export?format=csv");
    else expect(answer).toContain("What should I export?");
  });
});
