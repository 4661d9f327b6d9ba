import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { checkConfirmation, CONFIRM_TTL_MS, kindsForStatus, mayManage, ON_DEMAND_RATE, onDemandPhases, parseActionCommand, parseOnDemandResult, type JobActionKind, type PendingAction } from "../../src/core/actions";
import { JobActions, pickRule, type JobControl, type JobControlAnswer } from "../../src/app/actions";
import { parseJob } from "../../src/core/jobs/status";
import { findApps } from "../../src/core/ask/lexicon";
import { MemoryStore } from "../support/memoryStore";
import { confirmButton, MemoryActionStore } from "../support/memoryActions";
import type { ConversationTarget } from "../../src/core/conversation";

/** Issue 26, the pure rules and the flow on fakes (the Graph client and Table Storage are in test/e2e/actions.test.ts). */
const resolves = (typed: string) => {
  const found = [...new Set(findApps(typed, { apps: APPS }).map((f) => f.app))];
  return found.length === 1 ? found[0] : APPS.find((a) => a.toLowerCase() === typed.toLowerCase()) ?? null;
};
const APPS = ["ServiceNow", "Box", "Adobe Identity Management", "Workday to Active Directory User Provisioning", "Dropbox Business"];

describe("reading a command", () => {
  const verbs: [JobActionKind, string[]][] = [
    ["restart", ["restart", "please restart", "can you restart"]],
    ["pause", ["pause", "stop", "suspend"]],
    ["start", ["start", "resume", "unpause"]],
    ["allowDeletes", ["allow deletes in", "release the pending deletions for", "allow deletions on"]],
    ["clearQuarantine", ["clear the quarantine of", "lift quarantine on"]],
  ];
  it("every verb, app, article and tail names the action and the app, as typed", () => {
    fc.assert(
      fc.property(fc.constantFrom(...verbs), fc.nat(), fc.constantFrom(...APPS), fc.constantFrom("", "the "), fc.constantFrom("", " provisioning", " job", " provisioning job", " now", "."), ([kind, forms], i, app, article, tail) => {
        const form = forms[i % forms.length]!;
        const text = form.endsWith(" in") || form.endsWith(" for") || form.endsWith(" on") || form.endsWith(" of") ? `${form} ${app}${tail}` : `${form} ${article}${app}${tail}`;
        const c = parseActionCommand(text)!;
        expect(c.kind, text).toBe(kind);
        // The app as typed finds that app among the tenant's (a trailing "provisioning" may be read as filler).
        expect(resolves(c.app), text).toBe(app);
      }),
    );
  });

  it("provision on demand takes who and where, whatever the phrasing", () => {
    fc.assert(
      fc.property(fc.constantFrom("alice", "Bob Li", "carol.okafor@contoso.com", "Zoë Müller"), fc.constantFrom(...APPS), fc.constantFrom("provision", "provision on demand", "push", "sync"), fc.constantFrom("in", "to", "into"), fc.constantFrom("", " now", " now please", "!"), (who, app, verb, prep, tail) => {
        const c = parseActionCommand(`${verb} ${who} ${prep} ${app}${tail}`)!;
        expect(c).toMatchObject({ kind: "provisionOnDemand", who });
        expect(resolves(c.app)).toBe(app);
      }),
    );
  });

  it("any text, of any size or encoding, is read or refused without throwing; a command always names an app", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: "grapheme", maxLength: 200 }), fc.constantFrom("provision", "restart", "pause", "allow deletes in").chain((v) => fc.string({ maxLength: 300 }).map((t) => `${v} ${t}`))), (text) => {
        const c = parseActionCommand(text);
        if (c) {
          expect(c.app.trim()).not.toBe("");
          expect(c.app.length).toBeLessThanOrEqual(300);
        }
      }),
    );
  });

  it("questions are not commands", () => {
    for (const q of ["is alice provisioned in ServiceNow?", "why did alice fail in Box", "what users were removed from Adobe this week?", "how is Box doing?", "when will alice be provisioned in Zoom?", "status of all apps", "subscribe", "help", "top errors this week", "quarantine history of Box", "stop alerts", "pause alerts for Box", "stop notifications", "resume the alerts", "start"]) {
      expect(parseActionCommand(q), q).toBeNull();
    }
  });
});

describe("who may act", () => {
  const ROLES = { appAdmin: "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", cloudAppAdmin: "158c047a-c907-4556-b7ef-446551a6b5f7", globalAdmin: "62e90394-69f5-4237-9190-012177145e10", reportsReader: "4a5d8f65-41da-4de4-8968-e035b65339cf", globalReader: "f2ef992c-3afb-46b9-b7cf-a126ee74c451", securityAdmin: "194ae4cb-b126-40b2-bd5b-6091b380977d" };
  it("the three admin roles may act on any app, owners on their own app only, readers never", () => {
    for (const r of [ROLES.appAdmin, ROLES.cloudAppAdmin, ROLES.globalAdmin]) expect(mayManage({ roleTemplateIds: [r.toUpperCase()], ownedServicePrincipalIds: [] }, "sp-x").ok).toBe(true);
    for (const r of [ROLES.reportsReader, ROLES.globalReader, ROLES.securityAdmin]) expect(mayManage({ roleTemplateIds: [r], ownedServicePrincipalIds: [] }, "sp-x").ok).toBe(false);
    expect(mayManage({ roleTemplateIds: [], ownedServicePrincipalIds: ["SP-Mine"] }, "sp-mine").ok).toBe(true);
    expect(mayManage({ roleTemplateIds: [], ownedServicePrincipalIds: ["sp-mine"] }, "sp-other").ok).toBe(false);
    expect(mayManage({ roleTemplateIds: [], ownedServicePrincipalIds: ["sp-mine"] }, "").ok).toBe(false);
  });
});

describe("a confirmation", () => {
  const base: PendingAction = { kind: "restart", jobKey: "k", jobId: "j", servicePrincipalId: "sp", app: "Box", tenantId: "t", token: "tok", userObjectId: "u1", userName: "U", conversationId: "c1", createdAt: "2026-12-01T10:00:00.000Z", expiresAt: new Date(Date.parse("2026-12-01T10:00:00.000Z") + CONFIRM_TTL_MS).toISOString(), stage: 1, state: "pending" };
  it("confirms only for its person, in its conversation, before it expires, while pending", () => {
    fc.assert(
      fc.property(fc.constantFrom("u1", "U1", "u2"), fc.constantFrom("c1", "c2"), fc.integer({ min: 0, max: 2 * CONFIRM_TTL_MS }), fc.constantFrom<PendingAction["state"]>("pending", "used", "cancelled"), (who, where, after, state) => {
        const now = new Date(Date.parse(base.createdAt) + after).toISOString();
        const ok = checkConfirmation({ ...base, state }, who, where, now).ok;
        expect(ok).toBe(who.toLowerCase() === "u1" && where === "c1" && after < CONFIRM_TTL_MS && state === "pending");
      }),
    );
    expect(checkConfirmation(null, "u1", "c1", base.createdAt)).toEqual({ ok: false, why: "missing" });
  });
});

describe("Graph's provision-on-demand answer", () => {
  const steps = [
    { name: "EntryImport", type: "Import", status: "Success", description: "Retrieved", details: { a: "1" } },
    { name: "EntrySynchronizationScoping", type: "Scoping", status: "Success", description: "In scope", details: {} },
    { name: "EntryImportByMatching", type: "Matching", status: "Success", description: "Matched", details: {} },
    { name: "EntryExportUpdate", type: "Export", status: "Failure", description: "409", details: {} },
  ];
  it("reads the value as JSON text, once or twice encoded, into the portal's four phases", () => {
    for (const value of [JSON.stringify([{ provisioningSteps: steps }]), JSON.stringify(JSON.stringify({ provisioningSteps: steps }))]) {
      const r = parseOnDemandResult({ key: "k", value })!;
      expect(r.status).toBe("failure");
      expect(onDemandPhases(r.steps).map((p) => [p.phase, p.status])).toEqual([["Import", "success"], ["Determine if in scope", "success"], ["Match between source and target", "success"], ["Perform action", "failure"]]);
    }
  });
  it("never throws on anything Graph (or an attacker) could send", () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        parseOnDemandResult(v);
        parseOnDemandResult({ value: JSON.stringify(v) ?? "" });
      }),
    );
    fc.assert(fc.property(fc.array(fc.dictionary(fc.string(), fc.anything()), { maxLength: 50 }), (s) => {
      const r = parseOnDemandResult({ value: JSON.stringify([{ provisioningSteps: s }]) });
      expect(r).not.toBeNull();
      expect(onDemandPhases(r!.steps).flatMap((p) => p.steps)).toHaveLength(r!.steps.length);
    }));
  });
  it("picks the rule that maps the object type from the job's schema", () => {
    const schema = { synchronizationRules: [{ id: "r-group", objectMappings: [{ sourceObjectName: "Group", enabled: true }] }, { id: "r-user", objectMappings: [{ sourceObjectName: "User", enabled: true }, { sourceObjectName: "Contact", enabled: false }] }] };
    expect(pickRule(schema, "User")).toBe("r-user");
    expect(pickRule(schema, "Group")).toBe("r-group");
    expect(pickRule(schema, "Contact")).toBeNull();
    expect(pickRule({ synchronizationRules: "x" }, "User")).toBeNull();
  });
});

describe("the flow on fakes", () => {
  const SP = "sp-box";
  const JOB = "BoxOutDelta.t.j";
  const personal: ConversationTarget = { conversationId: "c-admin", serviceUrl: "http://x/", tenantId: "t", conversationType: "personal" } as ConversationTarget;
  const admin = { id: "29:a", name: "Ada", aadObjectId: "u-admin" };
  function world(status: Record<string, unknown> = { code: "Active" }) {
    let now = Date.parse("2026-12-01T10:00:00.000Z");
    const calls: string[] = [];
    const ok: JobControlAnswer = { status: 204, body: null, code: "" };
    const control: JobControl = {
      rules: async () => (calls.push("rules"), { status: 200, body: { synchronizationRules: [{ id: "rule", objectMappings: [{ sourceObjectName: "User" }, { sourceObjectName: "Group" }] }] }, code: "" }),
      provisionOnDemand: async () => (calls.push("onDemand"), { status: 200, body: { value: JSON.stringify([{ provisioningSteps: [] }]) }, code: "" }),
      restart: async (_s, _j, scope) => (calls.push(`restart:${scope}`), ok),
      pause: async () => (calls.push("pause"), ok),
      start: async () => (calls.push("start"), ok),
      groupMemberCount: async () => (calls.push("members"), 6),
    };
    const store = new MemoryActionStore();
    const log = store.log;
    const query = new MemoryStore();
    query.statuses = [{ jobKey: "k-box", jobId: JOB, servicePrincipalId: SP, appName: "Box", tenantId: "t", status: parseJob({ id: JOB, templateId: "BoxOutDelta", schedule: { interval: "PT40M", state: "Active" }, status, synchronizationJobSettings: [{ name: "QuarantineTooManyDeletesThreshold", value: "500" }] })!, checkedAt: "", changedAt: "" }];
    let n = 0;
    const actions = new JobActions({ control, store, permission: { mayManage: async (u) => (u === "u-admin" ? "yes" : "no") }, query, clock: { now: () => new Date(now) }, log: () => undefined, newToken: () => `token-${++n}-abcdefgh` });
    return { actions, calls, log, advance: (ms: number) => (now += ms) };
  }
  const confirmOf = confirmButton;

  it("an expired confirmation does nothing, and a new one works", async () => {
    const w = world();
    const ask = (await w.actions.text("restart Box", personal, admin))!;
    w.advance(CONFIRM_TTL_MS);
    expect(JSON.stringify(await w.actions.value(confirmOf(ask), personal, admin))).toContain("expired");
    expect(w.calls).toEqual([]);
    const again = (await w.actions.text("restart Box", personal, admin))!;
    w.advance(CONFIRM_TTL_MS - 1);
    await w.actions.value(confirmOf(again), personal, admin);
    expect(w.calls).toEqual(["restart:"]);
  });

  it("allow deletes is offered only on a too-many-deletes quarantine, asks twice, then restarts forcing the deletes once", async () => {
    expect(kindsForStatus({ code: "Active", scheduleState: "Active", quarantine: null })).not.toContain("allowDeletes");
    expect(JSON.stringify(await world().actions.text("allow deletes in Box", personal, admin))).toContain("Nothing to allow");
    const w = world({ code: "Quarantine", quarantine: { reason: "TooManyDeletes", currentBegan: "2026-12-01T09:00:00Z", seriesBegan: "2026-12-01T09:00:00Z" } });
    expect(kindsForStatus({ code: "Quarantine", scheduleState: "Active", quarantine: { reason: "TooManyDeletes" } })).toContain("allowDeletes");
    const first = (await w.actions.text("allow deletes in Box", personal, admin))!;
    expect(JSON.stringify(first)).toContain("Pending deletes");
    const second = (await w.actions.value(confirmOf(first), personal, admin))!;
    expect(JSON.stringify(second)).toContain("Second confirmation");
    expect(w.calls).toEqual([]);
    await w.actions.value(confirmOf(second), personal, admin);
    await w.actions.value(confirmOf(second), personal, admin);
    expect(w.calls).toEqual(["restart:ForceDeletes"]);
  });

  it("a group of more than five members is refused before anything is sent; Graph's rate is respected without calling it", async () => {
    const w = world();
    const group = { op: "propose", kind: "provisionOnDemand", jobKey: "k-box", subject: { objectId: "g-1", objectTypeName: "Group", name: "Sales" } };
    const ask = (await w.actions.value({ jobAction: group }, personal, admin))!;
    expect(JSON.stringify(await w.actions.value(confirmOf(ask), personal, admin))).toContain("at most 5 members");
    expect(w.calls).toEqual(["members"]);
    const user = { ...group, subject: { objectId: "u-9", objectTypeName: "User", name: "Nine" } };
    for (let i = 0; i < ON_DEMAND_RATE.max; i++) await w.actions.value(confirmOf((await w.actions.value({ jobAction: user }, personal, admin))!), personal, admin);
    expect(w.calls.filter((c) => c === "onDemand")).toHaveLength(ON_DEMAND_RATE.max);
    const sixth = await w.actions.value(confirmOf((await w.actions.value({ jobAction: user }, personal, admin))!), personal, admin);
    expect(JSON.stringify(sixth)).toContain("Too many requests");
    expect(w.calls.filter((c) => c === "onDemand")).toHaveLength(ON_DEMAND_RATE.max);
    expect(w.log.at(-1)).toMatchObject({ outcome: "throttled", kind: "provisionOnDemand" });
    w.advance(ON_DEMAND_RATE.ms);
    await w.actions.value(confirmOf((await w.actions.value({ jobAction: user }, personal, admin))!), personal, admin);
    expect(w.calls.filter((c) => c === "onDemand")).toHaveLength(ON_DEMAND_RATE.max + 1);
  });

  it("an asker's display name of any size stays a name's length on the confirmation card and in the log", async () => {
    const w = world();
    const huge = { ...admin, name: "Ada ".repeat(50_000) };
    const ask = (await w.actions.text("pause Box", personal, huge))!;
    expect(JSON.stringify(ask).length).toBeLessThan(5_000);
    await w.actions.value(confirmOf(ask), personal, huge);
    expect(w.log.at(-1)!.userName.length).toBeLessThanOrEqual(200);
  });

  it("someone who may not act is refused with words that name neither the job nor whether it exists, and it is recorded", async () => {
    const w = world();
    const other = { id: "29:b", name: "Bo", aadObjectId: "u-reader" };
    const known = JSON.stringify(await w.actions.text("restart Box", personal, other));
    const unknown = JSON.stringify(await w.actions.text("restart NoSuchApp", personal, other));
    expect(known).toBe(unknown);
    expect(known).not.toContain(JOB);
    expect(w.calls).toEqual([]);
    expect(w.log.map((r) => r.outcome)).toEqual(["refused", "refused"]);
  });
});
