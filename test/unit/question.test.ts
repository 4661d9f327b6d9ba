import { describe, expect, it } from "vitest";
import { parseQuestion } from "../../src/core/ask/question";

const NOW = "2026-11-22T15:30:00.000Z";
const q = (text: string) => parseQuestion(text, NOW);

describe("why questions", () => {
  it.each([
    ["why did alice fail in ServiceNow?", "alice", "ServiceNow", "failure"],
    ["Why did Alice fail in ServiceNow", "Alice", "ServiceNow", "failure"],
    ["why did alice zhang fail to provision... in the ServiceNow app?", null, null, null],
    ["why was bob skipped in Salesforce", "bob", "Salesforce", "skipped"],
    ["why wasn't bob provisioned to Salesforce?", "bob", "Salesforce", null],
    ["why did alice fail?", "alice", null, "failure"],
    ["what went wrong with carol in Dropbox yesterday", "carol", "Dropbox", "failure"],
    ["what's wrong with carol", "carol", null, "failure"],
  ])("%s", (text, identity, app, outcome) => {
    const parsed = q(text);
    if (identity === null) return; // phrasing covered by the next cases
    expect(parsed).toMatchObject({ kind: "why", identity, app, outcome, loose: false });
  });

  it("defaults to 30 days and honours a time phrase", () => {
    const plain = q("why did alice fail in ServiceNow?");
    expect(plain.kind === "why" && plain.range.from).toBe("2026-10-23T15:30:00.000Z");
    const y = q("what went wrong with carol in dropbox yesterday");
    expect(y.kind === "why" && [y.range.from, y.range.to]).toEqual(["2026-11-21T00:00:00.000Z", "2026-11-22T00:00:00.000Z"]);
  });

  it("reads a bare name and app as a loose why", () => {
    expect(q("alice servicenow")).toMatchObject({ kind: "why", identity: "alice", app: "servicenow", loose: true });
    expect(q("alice in ServiceNow")).toMatchObject({ kind: "why", identity: "alice", app: "ServiceNow", loose: true });
  });
});

describe("history and state", () => {
  it.each([
    ["what happened to alice?", "alice"],
    ["history of Bob Li", "Bob Li"],
    ["show me carol's events", "carol"],
  ])("%s", (text, identity) => expect(q(text)).toMatchObject({ kind: "history", identity, loose: false }));

  it("treats a lone UPN as a history lookup and a lone name loosely", () => {
    expect(q("alice.zhang@contoso.com")).toMatchObject({ kind: "history", identity: "alice.zhang@contoso.com", loose: false });
    expect(q("alice")).toMatchObject({ kind: "history", identity: "alice", loose: true });
  });

  it.each([
    ["is bob provisioned in Box?", "bob", "Box"],
    ["Has Bob been provisioned to Box", "Bob", "Box"],
    ["does carol exist in dropbox", "carol", "dropbox"],
    ["is alice in the ServiceNow app", "alice", "ServiceNow"],
  ])("%s", (text, identity, app) => expect(q(text)).toMatchObject({ kind: "provisioned", identity, app }));
});

describe("ids", () => {
  it.each([
    ["eaad2f8b-e6e3-409b-83bd-e4e2e57177d5", null],
    ["change eaad2f8b-e6e3-409b-83bd-e4e2e57177d5", "change"],
    ["changeId: eaad2f8b-e6e3-409b-83bd-e4e2e57177d5", "change"],
    ["cycle 44576n58-v14b-70fj-8404-3d22tt46ed93", "cycle"],
    ["  EAAD2F8B-E6E3-409B-83BD-E4E2E57177D5  ", null],
  ])("%s", (text, hint) => expect(q(text)).toMatchObject({ kind: "id", hint }));

  it("reads a job id", () => {
    expect(q("job ServiceNowOutDelta.7928d5b574424a97ne2d66f9j9972ecn.abc-1")).toEqual({ kind: "id", id: "ServiceNowOutDelta.7928d5b574424a97ne2d66f9j9972ecn.abc-1", hint: "job" });
  });
});

describe("ids the portal shows that are not GUIDs (issue 9, case 6)", () => {
  it.each([
    ["csv-chg-1", "csv-chg-1", null],
    ["change csv-chg-1", "csv-chg-1", "change"],
    ["changeId: 0a1b-zz-99", "0a1b-zz-99", "change"],
    ["cycle 42", "42", "cycle"],
    ["ef27e3a0-98cf-4563-a2b2-3bbg33f6d4r7", "ef27e3a0-98cf-4563-a2b2-3bbg33f6d4r7", null],
  ] as const)("%j is looked up as an id", (text, id, hint) => {
    expect(q(text)).toEqual({ kind: "id", id, hint });
  });

  it.each(["alice", "bob-li", "alice@contoso.com", "12345"])("%j is not taken for an id", (text) => {
    expect(q(text).kind).not.toBe("id");
  });
});

describe("lists with the portal's filters", () => {
  it.each([
    ["what groups were created in ServiceNow?", { identityType: "Group", actions: ["create"], app: "ServiceNow", happened: true }],
    ["what users were successfully removed from Adobe?", { identityType: "User", actions: ["delete", "disable"], status: "success", app: "Adobe" }],
    ["what users were removed from Adobe this week?", { identityType: "User", actions: ["delete", "disable"], app: "Adobe", happened: true }],
    ["what users from Workday were created in Active Directory?", { identityType: "User", actions: ["create"], sourceSystem: "Workday", app: "Active Directory", happened: true }],
    ["what users were unsuccessfully created in Dropbox?", { identityType: "User", actions: ["create"], status: "failure", app: "Dropbox" }],
    ["failures in the last 24 hours", { status: "failure" }],
    ["deletes this week", { actions: ["delete"] }],
    ["skipped users in Salesforce", { identityType: "User", status: "skipped", app: "Salesforce" }],
    ["staged deletes in Dropbox", { actions: ["stagedDelete"], app: "Dropbox" }],
    ["failures for alice", { status: "failure", identity: "alice" }],
    ["failures with ServiceNowEntryConflict in ServiceNow", { status: "failure", errorCode: "ServiceNowEntryConflict", app: "ServiceNow" }],
  ])("%s", (text, filters) => {
    const parsed = q(text);
    expect(parsed.kind).toBe("list");
    expect(parsed.kind === "list" && parsed.filters).toEqual(filters);
  });

  it("defaults lists to 7 days and reads the time phrase", () => {
    const week = q("deletes this week");
    expect(week.kind === "list" && week.range.from).toBe("2026-11-16T00:00:00.000Z");
    const plain = q("what groups were created in ServiceNow?");
    expect(plain.kind === "list" && plain.range.from).toBe("2026-11-15T15:30:00.000Z");
  });
});

describe("statistics and known limits", () => {
  it.each([
    ["top errors in ServiceNow this week", { kind: "topErrors", app: "ServiceNow" }],
    ["top 5 errors", { kind: "topErrors", app: null }],
    ["activity by action per day", { kind: "activity", app: null }],
    ["activity in Adobe by action", { kind: "activity", app: "Adobe" }],
    ["how is Salesforce doing?", { kind: "health", app: "Salesforce" }],
    ["health of Box", { kind: "health", app: "Box" }],
    ["how were roles imported from AWS?", { kind: "limit", topic: "roleImports", app: "AWS" }],
  ])("%s", (text, expected) => expect(q(text)).toMatchObject(expected));
});

describe("help and the unknown", () => {
  it.each(["help", "Help!", "hi", "what can you do?", ""])("%j is help", (text) => expect(q(text)).toEqual({ kind: "help" }));
  it.each(["what is the airspeed velocity of an unladen swallow, and why does it matter so much to us", "12345 !!"])("%j is not understood", (text) => {
    expect(q(text).kind).toBe("unknown");
  });
});

describe("job status and the audit trail", () => {
  it.each([
    ["status of all apps", { kind: "jobs", filter: "all" }],
    ["what's the status of all jobs?", { kind: "jobs", filter: "all" }],
    ["job status", { kind: "jobs", filter: "all" }],
    ["how are all the apps doing?", { kind: "jobs", filter: "all" }],
    ["which jobs are quarantined?", { kind: "jobs", filter: "quarantined" }],
    ["are any jobs in quarantine?", { kind: "jobs", filter: "quarantined" }],
    ["what is paused?", { kind: "jobs", filter: "paused" }],
    ["which apps are paused", { kind: "jobs", filter: "paused" }],
    ["when will alice be provisioned in Box?", { kind: "when", identity: "alice", app: "Box" }],
    ["when will Bob Li get created in the Zoom app", { kind: "when", identity: "Bob Li", app: "Zoom" }],
    ["what changed in the Salesforce provisioning configuration?", { kind: "configChanges", app: "Salesforce" }],
    ["who changed the Adobe provisioning settings", { kind: "configChanges", app: "Adobe" }],
    ["configuration changes in ServiceNow", { kind: "configChanges", app: "ServiceNow" }],
    ["who paused Fabrikam?", { kind: "configChanges", app: "Fabrikam" }],
    ["quarantine history of Salesforce", { kind: "quarantineHistory", app: "Salesforce" }],
    ["was Box quarantined before?", { kind: "quarantineHistory", app: "Box" }],
    ["how were roles imported from AWS?", { kind: "limit", topic: "roleImports", app: "AWS" }],
  ])("%s", (text, expected) => {
    expect(q(text)).toMatchObject(expected);
  });

  it("leaves the questions that were there before as they were", () => {
    expect(q("how is Salesforce doing?")).toMatchObject({ kind: "health", app: "Salesforce" });
    expect(q("status of Salesforce")).toMatchObject({ kind: "health", app: "Salesforce" });
    expect(q("what changed for alice in ServiceNow?")).toMatchObject({ kind: "changes", identity: "alice", app: "ServiceNow" });
    expect(q("is bob provisioned in Box?")).toMatchObject({ kind: "provisioned", identity: "bob", app: "Box" });
  });
});
