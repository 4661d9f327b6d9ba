import { describe, expect, it } from "vitest";
import { applyThreshold, newSubscription, parseAlertCommand, parseDuration, thresholdKey, thresholdsFor, wants, type Subscription } from "../../src/core/alerts/subscriptions";
import { acknowledge, applySignal, digestStep, resolveIfQuiet, resolveSilence, type Incident } from "../../src/core/alerts/incident";
import { DEFAULT_THRESHOLDS, type Signal } from "../../src/core/alerts/rules";
import { SlidingWindowLimiter, TEAMS_CONVERSATION_LIMITS } from "../../src/core/alerts/rateLimit";
import { alertCard, settingsView } from "../../src/core/alerts/views";
import { classify, retryAfterMs } from "../../src/adapters/botframework/sender";
import { lifecycleEvent } from "../../src/adapters/botframework/endpoint";

const target = { conversationId: "c1", serviceUrl: "http://127.0.0.1:1/", tenantId: "t", conversationType: "channel" as const };
const NOW = "2026-11-22T10:00:00.000Z";

describe("alert commands", () => {
  it.each([
    ["subscribe", { kind: "subscribe", apps: [], rules: null }],
    ["Subscribe ServiceNow, Adobe", { kind: "subscribe", apps: ["ServiceNow", "Adobe"], rules: null }],
    ["subscribe ServiceNow and Box to failures and removals", { kind: "subscribe", apps: ["ServiceNow", "Box"], rules: ["failureSpike", "removalBurst"] }],
    ["subscribe to digest", { kind: "subscribe", apps: [], rules: ["newFailures"] }],
    ["subscribe silence", { kind: "subscribe", apps: [], rules: ["silentJob"] }],
    ["unsubscribe", { kind: "unsubscribe", apps: [], rules: null }],
    ["unsubscribe Adobe", { kind: "unsubscribe", apps: ["Adobe"], rules: null }],
    ["alerts", { kind: "alerts" }],
    ["mute Adobe for 2h", { kind: "mute", app: "Adobe", minutes: 120 }],
    ["mute ServiceNow for 90 minutes", { kind: "mute", app: "ServiceNow", minutes: 90 }],
    ["mute Box", { kind: "mute", app: "Box", minutes: 60 }],
    ["mute for 1 day", { kind: "mute", app: null, minutes: 1440 }],
    ["unmute", { kind: "unmute", app: null }],
    ["unmute Adobe", { kind: "unmute", app: "Adobe" }],
    ["threshold ServiceNow failures 25", { kind: "threshold", app: "ServiceNow", setting: "failures", value: 25 }],
    ["threshold Adobe Identity Management removals 50", { kind: "threshold", app: "Adobe Identity Management", setting: "removals", value: 50 }],
  ])("%s", (text, expected) => {
    expect(parseAlertCommand(text)).toEqual(expected);
  });

  it("leaves questions alone", () => {
    for (const q of ["what users were removed from Adobe this week?", "why did alice fail in ServiceNow?", "failures in the last 24 hours", "alerts about bob"]) expect(parseAlertCommand(q)).toBeNull();
  });

  it("explains a bad duration, an unknown alert kind and a malformed threshold", () => {
    expect(parseAlertCommand("mute Adobe for ever")).toMatchObject({ kind: "invalid", reason: expect.stringContaining('"ever"') });
    expect(parseAlertCommand("subscribe Adobe to cookies")).toMatchObject({ kind: "invalid", reason: expect.stringContaining('"cookies"') });
    expect(parseAlertCommand("threshold Adobe")).toMatchObject({ kind: "invalid", command: "threshold" });
    expect(parseDuration("45 days")).toBeNull();
  });

  it("keeps thresholds in range and applies them per app", () => {
    expect(applyThreshold(DEFAULT_THRESHOLDS, "failures", 0)).toMatch(/between 1 and/);
    const t = applyThreshold(DEFAULT_THRESHOLDS, "removals", 50);
    expect(typeof t === "object" && t.removalMin).toBe(50);
    const perJob = { [thresholdKey("Tenant-A", "snow.job")]: { failureMin: 25 } };
    expect(thresholdsFor(thresholdKey("tenant-a", "snow.job"), perJob).failureMin).toBe(25);
    // Another tenant's job, or another job of the same tenant, keeps the defaults.
    expect(thresholdsFor(thresholdKey("tenant-b", "snow.job"), perJob).failureMin).toBe(DEFAULT_THRESHOLDS.failureMin);
    expect(thresholdsFor(thresholdKey("tenant-a", "adobe.job"), perJob).failureMin).toBe(DEFAULT_THRESHOLDS.failureMin);
    expect(thresholdsFor("__proto__", perJob).failureMin).toBe(DEFAULT_THRESHOLDS.failureMin);
  });
});

describe("who wants an alert", () => {
  const sub: Subscription = { ...newSubscription(target, NOW), subscribed: true };
  it("subscribed to every app gets every default rule but not the digest", () => {
    expect(wants(sub, "Adobe", "removalBurst", NOW)).toBe(true);
    expect(wants(sub, "Adobe", "newFailures", NOW)).toBe(false);
    expect(wants({ ...sub, subscribed: false }, "Adobe", "removalBurst", NOW)).toBe(false);
  });
  it("app lists, exclusions and mutes", () => {
    expect(wants({ ...sub, apps: ["ServiceNow"] }, "Adobe", "removalBurst", NOW)).toBe(false);
    expect(wants({ ...sub, apps: ["servicenow"] }, "ServiceNow", "removalBurst", NOW)).toBe(true);
    expect(wants({ ...sub, exceptApps: ["Adobe"] }, "Adobe", "removalBurst", NOW)).toBe(false);
    expect(wants({ ...sub, mutes: { adobe: "2026-11-22T12:00:00.000Z" } }, "Adobe", "removalBurst", NOW)).toBe(false);
    expect(wants({ ...sub, mutes: { adobe: "2026-11-22T09:00:00.000Z" } }, "Adobe", "removalBurst", NOW)).toBe(true);
    expect(wants({ ...sub, mutes: { "*": "2026-11-22T12:00:00.000Z" } }, "Box", "silentJob", NOW)).toBe(false);
  });
});

const signal = (over: Partial<Signal> = {}): Signal => ({
  rule: "removalBurst",
  count: 25,
  baseline: 1,
  since: "2026-11-22T09:40:00.000Z",
  lastSeen: "2026-11-22T09:58:00.000Z",
  topErrors: [],
  affected: [{ identity: "u1@contoso.com", name: "User 1" }],
  cycleId: null,
  stagedDeletes: 0,
  summary: "25 disables",
  ...over,
});
const job = { jobKey: "job-1", app: "Adobe", now: NOW, windowMinutes: 30 };

describe("incident transitions", () => {
  it("a first signal opens an incident; the same burst growing updates it; the same count changes nothing", () => {
    const opened = applySignal(null, signal(), job);
    expect(opened.change).toBe("opened");
    expect(opened.next.version).toBe(1);
    const grew = applySignal(opened.next, signal({ count: 40, lastSeen: "2026-11-22T10:05:00.000Z", since: "2026-11-22T09:50:00.000Z", affected: [{ identity: "u2", name: "User 2" }] }), job);
    expect(grew.change).toBe("updated");
    expect(grew.next).toMatchObject({ id: opened.next.id, count: 40, version: 2, since: "2026-11-22T09:40:00.000Z", lastSeen: "2026-11-22T10:05:00.000Z" });
    expect(grew.next.affected.map((a) => a.identity)).toEqual(["u2", "u1@contoso.com"]);
    expect(applySignal(grew.next, signal({ count: 40, lastSeen: "2026-11-22T10:05:00.000Z" }), job).change).toBe("none");
  });

  it("a burst long after the last one is a new incident", () => {
    const first = applySignal(null, signal(), job).next;
    const later = applySignal(first, signal({ since: "2026-11-22T14:00:00.000Z", lastSeen: "2026-11-22T14:10:00.000Z" }), { ...job, now: "2026-11-22T14:10:00.000Z" });
    expect(later.change).toBe("opened");
    expect(later.next.id).not.toBe(first.id);
  });

  it("a burst stays open while unacknowledged, however long it is quiet; a spike does not wait", () => {
    const burst = applySignal(null, signal(), job).next;
    expect(burst.rule).toBe("removalBurst");
    for (const later of ["2026-11-22T10:29:00.000Z", "2026-11-23T10:29:00.000Z", "2027-01-01T00:00:00.000Z"]) {
      expect(resolveIfQuiet(burst, false, later, { events: 31, failures: 0, removals: 0, cycles: 2 })).toBeNull();
    }
    const spike = applySignal(null, signal({ rule: "failureSpike" }), job).next;
    expect(resolveIfQuiet(spike, false, "2026-11-22T10:29:00.000Z")).toMatchObject({ status: "resolved" });
  });

  it("resolves after a quiet window, not before, and never while firing", () => {
    const open = acknowledge(applySignal(null, signal(), job).next, "Grace Hopper", NOW)!;
    expect(resolveIfQuiet(open, false, "2026-11-22T10:10:00.000Z")).toBeNull();
    expect(resolveIfQuiet(open, true, "2026-11-22T11:00:00.000Z")).toBeNull();
    const resolved = resolveIfQuiet(open, false, "2026-11-22T10:29:00.000Z");
    expect(resolved).toMatchObject({ status: "resolved", version: 3 });
    // Why it closed (issue 25, item 11): the job kept running without the burst, or went quiet altogether.
    const ran = resolveIfQuiet(open, false, "2026-11-22T10:29:00.000Z", { events: 240, failures: 3, removals: 2, cycles: 1 })!;
    expect(ran.resolution).toBe("The job kept running without the burst: 240 events in 1 cycle in the last 30 minutes, 2 disables or deletes, below the threshold.");
    const none = resolveIfQuiet(open, false, "2026-11-22T10:29:00.000Z", { events: 31, failures: 0, removals: 0, cycles: 2 })!;
    expect(none.resolution).toBe("The job kept running without the burst: 31 events in 2 cycles in the last 30 minutes, no disables or deletes.");
    const idle = resolveIfQuiet(open, false, "2026-11-22T10:29:00.000Z", { events: 0, failures: 0, removals: 0, cycles: 0 })!;
    expect(idle.resolution).toMatch(/^Closed as quiet, not as fixed: the job logged no events at all/);
    // Late events of the same window reopen the same card rather than posting a new one.
    const again = applySignal(resolved, signal({ count: 30 }), job);
    expect(again).toMatchObject({ change: "reopened", next: { id: open.id, status: "open", version: 4 } });
  });

  it("a silent job resolves with the first newer event; acknowledging happens once", () => {
    const silent = applySignal(null, signal({ rule: "silentJob", since: "2026-11-22T07:00:00.000Z", lastSeen: "2026-11-22T07:00:00.000Z" }), job).next;
    expect(resolveSilence(silent, "2026-11-22T06:00:00.000Z", NOW)).toBeNull();
    expect(resolveSilence(silent, "2026-11-22T09:59:00.000Z", NOW)).toMatchObject({ status: "resolved", resolution: expect.stringContaining("Events resumed") });
    const acked = acknowledge(silent, "Ada Admin", NOW)!;
    expect(acked).toMatchObject({ ackBy: "Ada Admin", ackAt: NOW, version: silent.version + 1 });
    expect(acknowledge(acked, "Bob", NOW)).toBeNull();
  });
});

describe("new failures digest", () => {
  const f = (identity: string, at: string, status = "failure") => ({ identity, name: identity.toUpperCase(), at, status, errorCode: status === "failure" ? "E1" : "" });
  it("reports a new failing object once, counts recurrences, and resolves on a later success", () => {
    const one = digestStep({}, [f("a", "2026-11-22T09:00:00Z"), f("b", "2026-11-22T09:01:00Z"), f("a", "2026-11-22T09:02:00Z")], "d1");
    expect(one.fresh.map((o) => [o.identity, o.count])).toEqual([["a", 2], ["b", 1]]);
    const two = digestStep(one.open, [f("a", "2026-11-22T09:40:00Z"), f("b", "2026-11-22T09:41:00Z", "success")], "d2");
    expect(two.fresh).toEqual([]);
    expect(two.recurring.map((o) => [o.identity, o.count, o.incidentId])).toEqual([["a", 3, "d1"]]);
    expect(two.resolved.map((o) => [o.identity, o.incidentId])).toEqual([["b", "d1"]]);
    expect(Object.keys(two.open)).toEqual(["a"]);
  });
  it("a success older than the failure does not resolve it", () => {
    const one = digestStep({}, [f("a", "2026-11-22T09:00:00Z")], "d1");
    expect(digestStep(one.open, [f("a", "2026-11-22T08:00:00Z", "success")], "d2").resolved).toEqual([]);
  });
});

describe("per-conversation rate limit", () => {
  it("fits every Teams window", () => {
    const limiter = new SlidingWindowLimiter(TEAMS_CONVERSATION_LIMITS);
    for (let i = 0; i < 7; i++) {
      expect(limiter.delayFor("c", 1000)).toBe(0);
      limiter.record("c", 1000);
    }
    expect(limiter.delayFor("c", 1000)).toBe(1000);
    expect(limiter.delayFor("other", 1000)).toBe(0);
    limiter.record("c", 2000);
    // 8 in 2 s: the ninth waits until the first leaves the 2-second window.
    expect(limiter.delayFor("c", 2100)).toBe(900);
  });

  it("hands back a wait longer than allowed instead of sleeping through it", async () => {
    const limiter = new SlidingWindowLimiter([{ ms: 3_600_000, max: 2 }]);
    const slept: number[] = [];
    const sleep = async (ms: number) => void slept.push(ms);
    expect(await limiter.acquire("c", () => 0, sleep, 10_000)).toBe(0);
    expect(await limiter.acquire("c", () => 1, sleep, 10_000)).toBe(0);
    expect(await limiter.acquire("c", () => 2, sleep, 10_000)).toBe(3_600_000 - 2);
    expect(slept).toEqual([]);
  });
});

describe("alert card", () => {
  const incident = (over: Partial<Incident> = {}): Incident => ({ ...applySignal(null, signal({ stagedDeletes: 3, affected: [{ identity: "alice@contoso.com", name: "Alice Zhang" }] }), job).next, ...over });
  it("shows names only in channels and UPNs in personal chats", () => {
    expect(JSON.stringify(alertCard(incident(), "channel").affected)).not.toContain("alice@contoso.com");
    expect(JSON.stringify(alertCard(incident(), "personal").affected)).toContain("Alice Zhang (alice@contoso.com)");
  });
  it("says Entra held deletions back, and drops Acknowledge once acknowledged", () => {
    const vm = alertCard(incident(), "channel");
    expect(vm.hasStaged).toBe(true);
    expect(vm.staged).toContain("held back 3 deletions");
    // Held-back deletions need an admin: the job's health answer (with its actions, for those who may act) is one press away.
    expect(vm.actions.map((a) => a.title)).toEqual(["Acknowledge", "Mute 1h", "Mute 24h", "Show affected", "How is it doing?"]);
    expect(vm.actions.at(-1)!.data).toEqual({ text: `how is ${vm.facts[0]!.value} doing?` });
    expect(alertCard(incident({ stagedDeletes: 0 }), "channel").actions.map((a) => a.title)).not.toContain("How is it doing?");
    const acked = alertCard(incident({ ackBy: "Ada", ackAt: NOW }), "channel");
    expect(acked.status).toBe("Acknowledged by Ada at 2026-11-22 10:00 UTC");
    expect(acked.actions.map((a) => a.title)).not.toContain("Acknowledge");
  });
});

describe("send results", () => {
  it("classifies connector answers", () => {
    expect(classify(Object.assign(new Error("x"), { statusCode: 403 }))).toMatchObject({ kind: "gone", status: 403 });
    expect(classify(Object.assign(new Error("x"), { statusCode: 404 }))).toMatchObject({ kind: "gone", status: 404 });
    expect(classify(Object.assign(new Error("x"), { statusCode: 400 }))).toMatchObject({ kind: "fatal", status: 400 });
    expect(classify(Object.assign(new Error("x"), { statusCode: 502 }))).toMatchObject({ kind: "transient" });
  });
  it("reads Retry-After as seconds or a date", () => {
    expect(retryAfterMs("3")).toBe(3000);
    expect(retryAfterMs(new Date(Date.UTC(2026, 10, 22, 10, 0, 30)).toUTCString(), Date.UTC(2026, 10, 22, 10, 0, 0))).toBe(30_000);
    expect(retryAfterMs(null)).toBe(1000);
  });
});

describe("install and uninstall, as Teams reports them", () => {
  const bot = { id: "28:bot", name: "provbot" };
  it.each([
    ["installationUpdate add", { type: "installationUpdate", action: "add" }, "installed"],
    ["installationUpdate remove", { type: "installationUpdate", action: "remove" }, "uninstalled"],
    ["installationUpdate add-upgrade", { type: "installationUpdate", action: "add-upgrade" }, null],
    ["installationUpdate remove-upgrade", { type: "installationUpdate", action: "remove-upgrade" }, null],
    ["team deleted", { type: "conversationUpdate", channelData: { eventType: "teamDeleted" } }, "uninstalled"],
    ["bot removed from the team", { type: "conversationUpdate", membersRemoved: [{ id: "28:bot" }] }, "uninstalled"],
    ["someone else removed", { type: "conversationUpdate", membersRemoved: [{ id: "29:user" }] }, null],
    ["bot added (installationUpdate greets instead)", { type: "conversationUpdate", membersAdded: [{ id: "28:bot" }] }, null],
    ["a message", { type: "message", text: "hi" }, null],
  ])("%s", (_name, activity, expected) => {
    expect(lifecycleEvent({ ...activity, recipient: bot } as never)).toBe(expected);
  });
});

describe("the alerts settings card (issue 10, item 8)", () => {
  const sub = { ...newSubscription({ conversationId: "c", serviceUrl: "http://127.0.0.1", tenantId: "t", conversationType: "personal" }, "2026-11-22T09:00:00.000Z"), subscribed: true };
  it("states shared thresholds once, not once per app", () => {
    const vm = settingsView(sub, ["ServiceNow", "Adobe", "Box"].map((app) => ({ app, t: DEFAULT_THRESHOLDS })), "2026-11-22T10:00:00.000Z");
    expect(vm.facts.filter((f) => f.title.startsWith("Thresholds"))).toEqual([{ title: "Thresholds · every app", value: expect.stringContaining("failures ≥ 10") }]);
  });

  it("names the apps whose thresholds differ", () => {
    const vm = settingsView(sub, [{ app: "ServiceNow", t: { ...DEFAULT_THRESHOLDS, failureMin: 25 } }, { app: "Adobe", t: DEFAULT_THRESHOLDS }, { app: "Box", t: DEFAULT_THRESHOLDS }], "2026-11-22T10:00:00.000Z");
    expect(vm.facts.filter((f) => f.title.startsWith("Thresholds")).map((f) => f.title)).toEqual(["Thresholds · ServiceNow", "Thresholds · Adobe, Box"]);
  });
});
