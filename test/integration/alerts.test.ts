import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBotEndpoint } from "../../src/adapters/botframework/endpoint";
import { createAlertSender } from "../../src/adapters/botframework/sender";
import { TableAlertStore, TableSubscriptionStore } from "../../src/adapters/tables/alertStore";
import { TableDeadLetterStore } from "../../src/adapters/tables/deadLetters";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableQueryStore } from "../../src/adapters/tables/queryStore";
import { parseJob } from "../../src/core/jobs/status";
import { jobKey } from "../../src/adapters/tables/keys";
import { ConversationRegistry, createAlerts, type Alerts, type Delivered } from "../../src/app/alerts";
import { STALE_CLAIM_MS } from "../../src/app/alerts/deliver";
import type { IncidentRef } from "../../src/app/alertPorts";
import type { LogEntry } from "../../src/app/ports";
import type { ProvisioningEvent } from "../../src/core/event";
import { createChatHandler } from "../../src/app/chat";
import { ingestItems } from "../../src/app/ingest";
import { systemClock, type Clock } from "../../src/app/ports";
import { messageActivity, startCaptureConnector, type CaptureConnector, type ConnectorCall } from "../support/connector";
import { burst, provisioningRecord } from "../support/records";
import { testTables } from "../support/tables";

/**
 * Proactive alerts over the real pieces: Table Storage on Azurite, the botbuilder endpoint and
 * the real ConnectorClient posting to a local connector that can answer 403/404/429/5xx.
 */
let connector: CaptureConnector;
let other: CaptureConnector;
beforeAll(async () => {
  connector = await startCaptureConnector();
  other = await startCaptureConnector();
});
afterAll(async () => {
  await connector?.close();
  await other?.close();
});

function stack(clock: Clock = systemClock, timeoutMs = 3_000, scoped = false, statusesOf?: (store: TableEventStore) => TableEventStore["statuses"], shared?: ReturnType<typeof testTables>, postTimeLimitMs?: number) {
  const { factory } = shared ?? testTables();
  const store = new TableEventStore(factory);
  const query = new TableQueryStore(store);
  const alertStore = new TableAlertStore(factory);
  const subs = new TableSubscriptionStore(factory);
  const logs: LogEntry[] = [];
  const log = (e: LogEntry) => logs.push(e);
  const conversations = new ConversationRegistry({ store: subs, clock, log });
  /** What each outbox message led to (the queue trigger's work, run in-process here). */
  const delivered: Delivered[] = [];
  const notified: IncidentRef[] = [];
  const service = () => {
    const alerts: Alerts = createAlerts({
      subs,
      incidents: alertStore,
      thresholds: alertStore,
      query,
      sender: createAlertSender({ mode: "none" }, { startingDelayMs: 20, timeoutMs, ...(postTimeLimitMs ? { postTimeLimitMs } : {}) }),
      // The outbox as the alertsSend function consumes it, without the queue in between (the
      // queue itself is exercised end to end in test/e2e and test/faults).
      outbox: { notify: async (refs) => void (notified.push(...refs), delivered.push(...(await alerts.delivery.deliverRefs(refs)))) },
      conversations,
      clock,
      jobKeyOf: (e) => jobKey(e.jobId, e.servicePrincipal.id),
      log,
      statuses: statusesOf ? statusesOf(store) : store.statuses,
      audits: store.audits,
      // Tenant scoping, as the composition turns it on whenever there is a tenant rule.
      ...(scoped ? { tenantScoped: true, jobTenant: async (key: string) => (await query.jobs(true)).find((j) => j.jobKey === key)?.tenantId ?? "" } : {}),
    });
    return alerts;
  };
  const alerts = service();
  const errors: string[] = [];
  const bot = createBotEndpoint({ mode: "none" }, createChatHandler({ version: "t", store: query, now: () => clock.now(), conversations, alerts: alerts.commands }), { error: (m, e) => errors.push(`${m} ${String(e)}`) });
  const deps = { store, deadLetters: new TableDeadLetterStore(factory, clock), afterStore: async (events: ProvisioningEvent[]) => void (await alerts.afterIngest(events)) };
  const ingest = (records: Record<string, unknown>[]) => ingestItems(records.map((record, index) => ({ index, record })), "test", deps);
  /** Stores without evaluating alerts (history, or a batch for evaluators the test runs itself). */
  const storeOnly = (records: Record<string, unknown>[]) => ingestItems(records.map((record, index) => ({ index, record })), "test", { store, deadLetters: deps.deadLetters });
  return { factory, store, query, alertStore, subs, alerts, service, bot, ingest, storeOnly, logs, errors, deps, delivered, notified };
}

type Stack = ReturnType<typeof stack>;

const conv = (id: string, type = "personal") => ({ conversation: { id, conversationType: type, tenantId: "tenant-1" } });
const say = async (s: Stack, text: string, url: string, conversationId: string, type = "personal", extra: Record<string, unknown> = {}) => {
  const res = await s.bot({ method: "POST", headers: {}, body: messageActivity(text, url, { ...conv(conversationId, type), ...extra }) });
  expect(res.status).toBe(200);
};
const install = (s: Stack, url: string, conversationId: string, type = "personal", action = "add") =>
  s.bot({ method: "POST", headers: {}, body: { ...messageActivity("", url, conv(conversationId, type)), type: "installationUpdate", action, text: undefined } });

const cardJson = (c: ConnectorCall) => JSON.stringify((c.body?.["attachments"] as { content: unknown }[] | undefined)?.[0]?.content ?? null);
const alertCalls = (c: CaptureConnector, conversationId: string, title: string) =>
  c.calls.filter((x) => x.path.startsWith(`/v3/conversations/${encodeURIComponent(conversationId)}/activities`) && cardJson(x).includes(title));
const waitUntil = async (what: string, fn: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** Six hours of history in half-hour windows, ending an hour before `now`. */
const sixHours = (now: number, window: (end: Date, w: number) => Record<string, unknown>[]) =>
  Array.from({ length: 12 }, (_, i) => window(new Date(now - (i + 1) * 30 * 60_000 - 60 * 60_000), i + 1)).flat();

let seq = 0;
const uniqueJob = (app: string) => ({ jobId: `job-${app.toLowerCase().replace(/\W/g, "")}-${++seq}-${Date.now()}`, app });

describe("subscriptions", () => {
  it("install stores the target, subscribe and uninstall change it; remove-upgrade keeps it", async () => {
    const s = stack();
    await install(s, connector.url, "conv-install");
    expect(await s.subs.get("conv-install")).toMatchObject({ subscribed: false, target: { serviceUrl: connector.url, conversationType: "personal", tenantId: "tenant-1" } });
    await say(s, "subscribe", connector.url, "conv-install");
    expect((await s.subs.subscribed()).map((x) => x.target.conversationId)).toEqual(["conv-install"]);
    await install(s, connector.url, "conv-install", "personal", "remove-upgrade");
    expect(await s.subs.get("conv-install")).not.toBeNull();
    await install(s, connector.url, "conv-install", "personal", "remove");
    expect(await s.subs.get("conv-install")).toBeNull();
  });

  it("messages refresh a target whose service URL changed", async () => {
    const s = stack();
    await say(s, "hello", connector.url, "conv-moved");
    await say(s, "hello again", other.url, "conv-moved");
    expect((await s.subs.get("conv-moved"))?.target.serviceUrl).toBe(other.url);
  });

  it("a deleted team removes the channel's subscription", async () => {
    const s = stack();
    await say(s, "<at>provbot</at> subscribe", connector.url, "19:team@thread.tacv2", "channel", { entities: [{ type: "mention", text: "<at>provbot</at>", mentioned: { id: "bot-1", name: "provbot" } }] });
    expect((await s.subs.get("19:team@thread.tacv2"))?.subscribed).toBe(true);
    await s.bot({ method: "POST", headers: {}, body: { ...messageActivity("", connector.url, conv("19:team@thread.tacv2", "channel")), type: "conversationUpdate", channelData: { eventType: "teamDeleted", tenant: { id: "tenant-1" } } } });
    expect(await s.subs.get("19:team@thread.tacv2")).toBeNull();
  });

  it("subscribe to named apps, mute and alerts answer with cards; unknown apps are named", async () => {
    const s = stack();
    const { jobId, app } = uniqueJob("ServiceNow");
    await s.ingest([provisioningRecord({ jobId, app, at: new Date() })]);
    const before = connector.calls.length;
    await say(s, `subscribe ${app} to failures`, connector.url, "conv-cmd");
    await say(s, "subscribe Nosuchapp", connector.url, "conv-cmd");
    await say(s, `mute ${app} for 2h`, connector.url, "conv-cmd");
    await say(s, `threshold ${app} failures 25`, connector.url, "conv-cmd");
    await say(s, "alerts", connector.url, "conv-cmd");
    const replies = connector.calls.slice(before).map(cardJson);
    expect(replies).toHaveLength(5);
    expect(replies[0]).toContain(`"text":"${app}"`);
    expect(replies[0]).toContain("failure spikes");
    expect(replies[1]).toContain('No provisioning job for \\"Nosuchapp\\"');
    expect(replies[2]).toMatch(/alerts are muted in this conversation until \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(replies[3]).toContain("failures ≥ 25");
    expect(replies[4]).toMatch(/Muted.*until/);
    // The subscription records who changed it last, and "alerts" says so.
    expect(replies[4]).toMatch(/Last changed.*by Ada Admin on \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    const sub = await s.subs.get("conv-cmd");
    expect(sub).toMatchObject({ subscribed: true, apps: [app], rules: ["failureSpike"], changedBy: { name: "Ada Admin", aadObjectId: "aad-user-1" } });
  });
});

describe("a burst of disables", () => {
  it("posts one card, updates the same card as the burst grows, and never posts again for a redelivered batch", async () => {
    const s = stack();
    const { jobId, app } = uniqueJob("Adobe");
    await say(s, "subscribe", connector.url, "conv-burst");
    const end = new Date();
    const first = burst(25, { jobId, app, action: "disable", end, cycleId: "c1" });
    const report = await s.ingest(first);
    expect(report.accepted).toBe(25);
    await waitUntil("the alert card", () => alertCalls(connector, "conv-burst", "Burst of disables/deletes").length === 1);
    const posted = alertCalls(connector, "conv-burst", "Burst of disables/deletes")[0]!;
    expect(posted.method).toBe("POST");
    expect(cardJson(posted)).toContain("25 disables/deletes in 30 minutes");

    // More of the same storm: the existing card is updated in place (PUT on its activity id).
    await s.ingest(burst(15, { jobId, app, action: "disable", end: new Date(end.getTime() + 60_000), cycleId: "c1", firstUser: 100 }));
    await waitUntil("the card update", () => alertCalls(connector, "conv-burst", "Burst of disables/deletes").length === 2);
    const updated = alertCalls(connector, "conv-burst", "Burst of disables/deletes")[1]!;
    expect(updated.method).toBe("PUT");
    const postedId = connector.calls.indexOf(posted) + 1;
    expect(updated.path).toBe(`/v3/conversations/conv-burst/activities/activity-${postedId}`);
    expect(cardJson(updated)).toContain("40 disables/deletes");

    // The same batch again: all duplicates, nothing new to say.
    const again = await s.ingest(first);
    expect(again).toMatchObject({ accepted: 0, duplicates: 25 });
    await new Promise((r) => setTimeout(r, 300));
    expect(alertCalls(connector, "conv-burst", "Burst of disables/deletes")).toHaveLength(2);
  });

  it("four evaluations at once post exactly one card", async () => {
    const s = stack();
    const { jobId, app } = uniqueJob("Dropbox");
    await say(s, "subscribe", connector.url, "conv-race");
    // Store without evaluating, then run two independent evaluators (two workers) on the same batch.
    const { events } = await s.storeOnly(burst(30, { jobId, app, action: "delete", end: new Date() }));
    await Promise.all([1, 2, 3, 4].map(() => s.service().afterIngest(events)));
    await new Promise((r) => setTimeout(r, 200));
    expect(alertCalls(connector, "conv-race", "Burst of disables/deletes")).toHaveLength(1);
    const sent = s.delivered.filter((d) => d.action === "sent");
    expect(sent).toHaveLength(1);
  });

  it("four workers delivering the same incident at once: the delivery row lets exactly one post", async () => {
    const s = stack();
    await say(s, "subscribe", connector.url, "conv-claim");
    const { jobId, app } = uniqueJob("Box");
    const now = new Date().toISOString();
    const incident = {
      id: `removalBurst|${jobId}|w1`, rule: "removalBurst" as const, jobKey: jobId, app, status: "open" as const, count: 30, baseline: 0, since: now, lastSeen: now,
      topErrors: [], affected: [], cycleId: null, stagedDeletes: 0, summary: "30 deletes", windowMinutes: 30, openedAt: now, version: 1, ackBy: null, ackAt: null, resolvedAt: null, resolution: null,
    };
    expect(await s.alertStore.modifySlot(incident.jobKey, incident.rule, (current) => (current ? null : incident), incident.id)).toEqual(incident);
    const subs = await s.subs.subscribed();
    const results = (await Promise.all([1, 2, 3, 4].map(() => s.service().delivery.deliver(incident, subs)))).flat();
    expect(results.filter((r) => r.action === "sent")).toHaveLength(1);
    expect(results.filter((r) => r.action === "skipped")).toHaveLength(3);
    await new Promise((r) => setTimeout(r, 100));
    expect(alertCalls(connector, "conv-claim", "30 deletes")).toHaveLength(1);
  });

  it("skipped disables never alert; staged deletes do, and say Entra held them back", async () => {
    const s = stack();
    const quiet = uniqueJob("Box");
    const staged = uniqueJob("Salesforce");
    await say(s, "subscribe", connector.url, "conv-skip");
    await s.ingest(burst(40, { ...quiet, action: "disable", status: "skipped", end: new Date() }));
    await s.ingest(burst(3, { ...staged, action: "stagedDelete", status: "skipped", end: new Date() }));
    await waitUntil("the staged-delete card", () => alertCalls(connector, "conv-skip", staged.app).length === 1);
    expect(cardJson(alertCalls(connector, "conv-skip", staged.app)[0]!)).toContain("Entra already held back 3 deletions");
    expect(alertCalls(connector, "conv-skip", quiet.app)).toHaveLength(0);
  });

  it("a muted app or an unsubscribed conversation gets nothing", async () => {
    const s = stack();
    const { jobId, app } = uniqueJob("AWS");
    await s.ingest([provisioningRecord({ jobId, app, at: new Date() })]);
    await say(s, "subscribe", connector.url, "conv-muted");
    await say(s, `mute ${app} for 1h`, connector.url, "conv-muted");
    await say(s, "hello", connector.url, "conv-never");
    await s.ingest(burst(30, { jobId, app, action: "disable", end: new Date() }));
    await new Promise((r) => setTimeout(r, 300));
    expect(alertCalls(connector, "conv-muted", "Burst")).toHaveLength(0);
    expect(alertCalls(connector, "conv-never", "Burst")).toHaveLength(0);
  });
});

describe("failure spikes against the job's own baseline", () => {
  it("a noisy job's usual failures do not alert; the same count on a quiet job does", async () => {
    const s = stack();
    const noisy = uniqueJob("Workday");
    const quiet = uniqueJob("ServiceNow");
    await say(s, "subscribe", connector.url, "conv-spike");
    const now = Date.now();
    // Six hours of history: the noisy job fails 12 times in every half hour, the quiet one never.
    await s.storeOnly(sixHours(now, (end, w) => [...burst(12, { ...noisy, status: "failure", end, firstUser: w * 100 }), provisioningRecord({ ...quiet, at: end, user: w })]));
    await s.ingest(burst(14, { ...noisy, status: "failure", end: new Date(now) }));
    await s.ingest(burst(14, { ...quiet, status: "failure", end: new Date(now), errorCode: "ServiceNowEntryConflict" }));
    await waitUntil("the quiet job's spike", () => alertCalls(connector, "conv-spike", `Failure spike · ${quiet.app}`).length === 1);
    const card = cardJson(alertCalls(connector, "conv-spike", `Failure spike · ${quiet.app}`)[0]!);
    expect(card).toContain("14 failures");
    expect(card).toContain("ServiceNowEntryConflict");
    expect(alertCalls(connector, "conv-spike", `Failure spike · ${noisy.app}`)).toHaveLength(0);
  });
});

describe("per-app thresholds", () => {
  it("a longer window compares against the baseline per that window", async () => {
    const s = stack();
    const wide = uniqueJob("Zendesk");
    const narrow = uniqueJob("Slack");
    await say(s, "subscribe", connector.url, "conv-window");
    const now = Date.now();
    // Six hours of history ending an hour ago: 4 failures in every half hour (8 an hour), both jobs.
    await s.storeOnly(sixHours(now, (end, w) => [wide, narrow].flatMap((job) => burst(4, { ...job, status: "failure", end, firstUser: w * 100 }))));
    await say(s, `threshold ${wide.app} window 60`, connector.url, "conv-window");
    // 20 failures now: 5× the half-hourly baseline, but only 2.5× the hourly one.
    await s.ingest(burst(20, { ...narrow, status: "failure", end: new Date(now) }));
    await s.ingest(burst(20, { ...wide, status: "failure", end: new Date(now) }));
    await waitUntil("the narrow job's spike", () => alertCalls(connector, "conv-window", `Failure spike · ${narrow.app}`).length === 1);
    expect(cardJson(alertCalls(connector, "conv-window", `Failure spike · ${narrow.app}`)[0]!)).toMatch(/usually [34]\.\d per 30 min/);
    expect(alertCalls(connector, "conv-window", `Failure spike · ${wide.app}`).map((c) => cardJson(c).slice(0, 1500))).toEqual([]);
  });
});

describe("card actions", () => {
  it("Acknowledge updates the card in place for every conversation; Show affected lists them; Mute silences the app", async () => {
    const s = stack();
    const { jobId, app } = uniqueJob("Adobe");
    await say(s, "subscribe", connector.url, "conv-ack-1");
    await say(s, "<at>provbot</at> subscribe", connector.url, "19:ack@thread.tacv2", "channel", { entities: [{ type: "mention", text: "<at>provbot</at>", mentioned: { id: "bot-1", name: "provbot" } }] });
    await s.ingest(burst(22, { jobId, app, action: "disable", end: new Date() }));
    await waitUntil("both cards", () => alertCalls(connector, "conv-ack-1", "Burst").length === 1 && alertCalls(connector, "19:ack@thread.tacv2", "Burst").length === 1);
    const channelCard = cardJson(alertCalls(connector, "19:ack@thread.tacv2", "Burst")[0]!);
    expect(channelCard).toContain("User 22");
    expect(channelCard).not.toContain("user22@contoso.com");
    expect(cardJson(alertCalls(connector, "conv-ack-1", "Burst")[0]!)).toContain("User 22 (user22@contoso.com)");

    const card = JSON.parse(channelCard) as { actions: { title: string; data: Record<string, unknown> }[] };
    const ack = card.actions.find((a) => a.title === "Acknowledge")!;
    await say(s, "Acknowledge", connector.url, "19:ack@thread.tacv2", "channel", { value: ack.data, from: { id: "user-2", name: "Grace Hopper" } });
    await waitUntil("both cards updated", () => alertCalls(connector, "conv-ack-1", "Acknowledged by Grace Hopper").length === 1 && alertCalls(connector, "19:ack@thread.tacv2", "Acknowledged by Grace Hopper").length === 1);
    expect(alertCalls(connector, "conv-ack-1", "Acknowledged by Grace Hopper")[0]!.method).toBe("PUT");

    const before = connector.calls.length;
    await say(s, "Show affected", connector.url, "conv-ack-1", "personal", { value: card.actions.find((a) => a.title === "Show affected")!.data });
    const list = cardJson(connector.calls[before]!);
    expect(list).toContain(`Affected · ${app}`);
    expect(list).toContain("Disable · Success");

    await say(s, "Mute", connector.url, "conv-ack-1", "personal", { value: card.actions.find((a) => a.title === "Mute 24h")!.data });
    expect(cardJson(connector.calls[before + 1]!)).toContain(`${app} alerts are muted`);
    const sub = await s.subs.get("conv-ack-1");
    expect(Date.parse(Object.values(sub!.mutes)[0]!) - Date.now()).toBeGreaterThan(23 * 3_600_000);
    // Undo on the answer (issue 25, item 10): the mute is lifted.
    const muted = JSON.parse(cardJson(connector.calls[before + 1]!)) as { actions: { title: string; data: { text: string } }[] };
    const undo = muted.actions.find((a) => a.title === "Undo")!;
    expect(undo.data.text).toBe(`unmute ${app}`);
    await say(s, undo.data.text, connector.url, "conv-ack-1", "personal", { value: undo.data });
    expect(cardJson(connector.calls[before + 2]!)).toContain(`${app} alerts reach this conversation again`);
    expect((await s.subs.get("conv-ack-1"))!.mutes).toEqual({});
  });
});

describe("Show affected (issue 25, item 9)", () => {
  it("pages through every event behind a burst with its total and More, none missing, none twice", async () => {
    const s = stack();
    const { jobId, app } = uniqueJob("Box");
    await say(s, "subscribe", connector.url, "conv-affected");
    // 21 and 31 leave one row on the last page; anything between 21 and 40 is drawn.
    const count = 21 + Math.floor(Math.random() * 20);
    await s.ingest(burst(count, { jobId, app, action: "disable", end: new Date() }));
    await waitUntil("the card", () => alertCalls(connector, "conv-affected", "Burst").length === 1);
    const card = JSON.parse(cardJson(alertCalls(connector, "conv-affected", "Burst")[0]!)) as { actions: { title: string; data: Record<string, unknown> }[] };
    let data: Record<string, unknown> | undefined = card.actions.find((a) => a.title === "Show affected")!.data;
    const seen: string[] = [];
    for (let page = 1; data; page++) {
      const before = connector.calls.length;
      await say(s, String(data["text"]), connector.url, "conv-affected", "personal", { value: data });
      const list = JSON.parse(cardJson(connector.calls[before]!)) as { body: unknown[]; actions?: { title: string; data: Record<string, unknown> }[] };
      const text = JSON.stringify(list);
      const first = (page - 1) * 10 + 1;
      const last = Math.min(page * 10, count);
      expect(text).toContain(`${count} events · ${first === last ? first : `${first}–${last}`} shown`);
      for (const m of text.matchAll(/User (\d+)/g)) seen.push(m[1]!);
      data = list.actions?.find((a) => a.title === "More")?.data;
      expect(page).toBeLessThanOrEqual(Math.ceil(count / 10));
    }
    expect(new Set(seen).size).toBe(count);
    expect(seen).toHaveLength(count);
  });
});

describe("card actions from a conversation that was not shown the card", () => {
  it("a guessed incident id sent from another chat acknowledges nothing and reveals nothing", async () => {
    const s = stack();
    const { jobId, app } = uniqueJob("Okta");
    await say(s, "subscribe", connector.url, "19:admins@thread.tacv2", "channel");
    await s.ingest(burst(22, { jobId, app, action: "disable", end: new Date() }));
    await waitUntil("the admins' card", () => alertCalls(connector, "19:admins@thread.tacv2", "Burst").length === 1);
    const card = JSON.parse(cardJson(alertCalls(connector, "19:admins@thread.tacv2", "Burst")[0]!)) as { actions: { title: string; data: Record<string, unknown> }[] };
    const before = connector.calls.length;
    // Mallory, in a personal chat that never subscribed, replays every button of the admins' card.
    for (const title of ["Acknowledge", "Show affected", "Mute 24h"]) {
      await say(s, title, connector.url, "conv-mallory", "personal", { value: card.actions.find((a) => a.title === title)!.data, from: { id: "mallory", name: "Mallory Attacker", aadObjectId: "aad-mallory" } });
    }
    const answers = connector.calls.slice(before).filter((c) => c.path.includes("conv-mallory")).map(cardJson);
    expect(answers).toHaveLength(3);
    for (const a of answers) {
      expect(a).toContain("Unknown alert");
      expect(a).not.toContain(app);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(alertCalls(connector, "19:admins@thread.tacv2", "Acknowledged by")).toHaveLength(0);
    const [slot] = (await s.alertStore.activeSlots("2000-01-01")).filter((i) => i.jobKey.includes(jobId));
    expect(slot?.ackBy).toBeNull();
    expect(s.logs.filter((e) => e.event === "alert.action.refused" && e["userObjectId"] === "aad-mallory")).toHaveLength(3);
  });
});

describe("two instances on one store (issue 23, item 5)", () => {
  it("subscription and mute edits made at the same moment on two hosts are all kept", async () => {
    const tables = testTables();
    const a = stack(systemClock, 3_000, false, undefined, tables);
    const b = stack(systemClock, 3_000, false, undefined, tables);
    const jobs = [uniqueJob("Alpha"), uniqueJob("Beta"), uniqueJob("Gamma"), uniqueJob("Delta")];
    await a.storeOnly(jobs.map((j, i) => provisioningRecord({ ...j, at: new Date(Date.now() - 3_600_000), user: i })));
    for (let round = 0; round < 6; round++) {
      const conv = `conv-two-hosts-${round}`;
      await Promise.all([say(a, `subscribe ${jobs[0]!.app}`, connector.url, conv), say(b, `subscribe ${jobs[1]!.app}`, connector.url, conv)]);
      await Promise.all([say(a, `mute ${jobs[2]!.app} for 1h`, connector.url, conv), say(b, `mute ${jobs[3]!.app} for 1h`, connector.url, conv)]);
      const sub = await a.subs.get(conv);
      expect([...(sub?.apps ?? [])].sort(), `round ${round}`).toEqual([jobs[0]!.app, jobs[1]!.app].sort());
      expect(Object.keys(sub?.mutes ?? {}).sort(), `round ${round}`).toEqual([jobs[2]!.app, jobs[3]!.app].map((x) => x.toLowerCase()).sort());
    }
  });
});

describe("alerts and tenants", () => {
  it("with tenant scoping, a conversation of another tenant never gets a job's card", async () => {
    const s = stack(systemClock, 3_000, true);
    const { jobId, app } = uniqueJob("Dropbox");
    await say(s, "subscribe", connector.url, "conv-tenant-1");
    await say(s, "subscribe", connector.url, "conv-tenant-2", "personal", { conversation: { id: "conv-tenant-2", conversationType: "personal", tenantId: "tenant-2" } });
    // The records are tenant-1's (test/support/records.ts).
    await s.ingest(burst(22, { jobId, app, action: "disable", end: new Date() }));
    await waitUntil("tenant 1's card", () => alertCalls(connector, "conv-tenant-1", "Burst").length === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(alertCalls(connector, "conv-tenant-2", "Burst")).toHaveLength(0);
  });

  it("Show affected and Mute from a chat holding its own card, naming another tenant's job, act on nothing of it", async () => {
    const s = stack(systemClock, 3_000, true);
    const a = uniqueJob("Secret HR App");
    const b = uniqueJob("Tenant B App");
    const tenantB = { conversation: { id: "conv-steal-b", conversationType: "personal", tenantId: "tenant-2" } };
    await say(s, "subscribe", connector.url, "conv-steal-a");
    await say(s, "subscribe", connector.url, "conv-steal-b", "personal", tenantB);
    await s.ingest(burst(22, { ...a, action: "disable", end: new Date() }));
    await s.ingest(burst(22, { ...b, action: "disable", end: new Date() }).map((r) => ({ ...r, tenantId: "tenant-2" })));
    await waitUntil("both cards", () => alertCalls(connector, "conv-steal-a", "Burst").length === 1 && alertCalls(connector, "conv-steal-b", "Burst").length === 1);
    const own = JSON.parse(cardJson(alertCalls(connector, "conv-steal-b", "Burst")[0]!)) as { actions: { title: string; data: Record<string, unknown> }[] };
    const theirs = JSON.parse(cardJson(alertCalls(connector, "conv-steal-a", "Burst")[0]!)) as { actions: { title: string; data: Record<string, unknown> }[] };
    const aJobKey = (theirs.actions.find((x) => x.title === "Show affected")!.data["alert"] as Record<string, unknown>)["jobKey"];
    expect(aJobKey).toBe(jobKey(a.jobId, `sp-${a.jobId}`));
    const before = connector.calls.length;
    // Tenant B's admin keeps their own delivered incident id and names tenant A's job (known or guessed).
    for (const title of ["Show affected", "Mute 24h"]) {
      const mine = own.actions.find((x) => x.title === title)!.data;
      const data = { ...mine, alert: { ...(mine["alert"] as Record<string, unknown>), jobKey: aJobKey } };
      await say(s, title, connector.url, "conv-steal-b", "personal", { ...tenantB, value: data });
    }
    const answers = connector.calls.slice(before).filter((c) => c.path.includes("conv-steal-b")).map(cardJson);
    expect(answers).toHaveLength(2);
    for (const x of answers) {
      expect(x).toContain("Unknown alert");
      expect(x).not.toContain(a.app);
      expect(x).not.toMatch(/User \d/);
    }
    expect(Object.keys((await s.subs.get("conv-steal-b"))?.mutes ?? {})).toEqual([]);
    // Its own card's buttons still work.
    await say(s, "Show affected", connector.url, "conv-steal-b", "personal", { ...tenantB, value: own.actions.find((x) => x.title === "Show affected")!.data });
    expect(cardJson(connector.calls.filter((c) => c.path.includes("conv-steal-b")).at(-1)!)).toContain(`Affected · ${b.app}`);
  });

  it("a threshold set in tenant B changes only B's job, never tenant A's job of the same app name", async () => {
    const s = stack(systemClock, 3_000, true);
    const shared = `SharedName ${++seq}`;
    const a = { jobId: `job-shared-a-${seq}-${Date.now()}`, app: shared };
    const b = { jobId: `job-shared-b-${seq}-${Date.now()}`, app: shared };
    const tenantB = { conversation: { id: "conv-thr-b", conversationType: "personal", tenantId: "tenant-2" } };
    await s.storeOnly([provisioningRecord({ ...a, at: new Date(Date.now() - 3_600_000) }), { ...provisioningRecord({ ...b, at: new Date(Date.now() - 3_600_000) }), tenantId: "tenant-2" }]);
    await say(s, "subscribe", connector.url, "conv-thr-a");
    await say(s, `threshold ${shared} failures 4242`, connector.url, "conv-thr-b", "personal", tenantB);
    const keys = Object.keys(await s.alertStore.all());
    expect(keys).toContain(`tenant-2|${jobKey(b.jobId, `sp-${b.jobId}`)}`);
    expect(keys.filter((k) => k.includes(a.jobId))).toEqual([]);
    // Tenant A's failures still alert on A's own (default) thresholds.
    await s.ingest(burst(25, { ...a, status: "failure", end: new Date() }));
    await waitUntil("tenant A's spike", () => alertCalls(connector, "conv-thr-a", `Failure spike · ${shared}`).length === 1);
  });

  it("with tenant scoping, a job of no known tenant is delivered to no conversation (never to every tenant)", async () => {
    const s = stack(systemClock, 3_000, true);
    const { jobId, app } = uniqueJob("Dropbox");
    await say(s, "subscribe", connector.url, "conv-notenant-1");
    await say(s, "subscribe", connector.url, "conv-notenant-2", "personal", { conversation: { id: "conv-notenant-2", conversationType: "personal", tenantId: "tenant-2" } });
    // The same burst with no tenant id on its records (the store here knows no own tenant).
    await s.ingest(burst(22, { jobId, app, action: "disable", end: new Date() }).map((r) => ({ ...r, tenantId: undefined })));
    // The incident was raised and its delivery ran (in-process outbox), reaching no one.
    expect((await s.alertStore.activeSlots("2000-01-01")).some((x) => x.jobKey === jobKey(jobId, `sp-${jobId}`))).toBe(true);
    expect(s.notified.length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(alertCalls(connector, "conv-notenant-1", "Burst")).toHaveLength(0);
    expect(alertCalls(connector, "conv-notenant-2", "Burst")).toHaveLength(0);
  });
});

describe("the timer", () => {
  it("alerts on a job gone quiet after its usual interval, and resolves it when events resume", async () => {
    let now = Date.now();
    const clock = { now: () => new Date(now) };
    const s = stack(clock);
    const { jobId, app } = uniqueJob("Box");
    await say(s, "subscribe", connector.url, "conv-silent");
    // Cycles every 20 minutes until 40 minutes ago.
    const start = now - 200 * 60_000;
    await s.ingest(Array.from({ length: 9 }, (_, i) => provisioningRecord({ jobId, app, at: new Date(start + i * 20 * 60_000), cycleId: `cyc-${i}`, user: i })));
    await s.alerts.tick();
    expect(alertCalls(connector, "conv-silent", "Job gone quiet")).toHaveLength(0);
    now += 30 * 60_000; // 70 minutes without events: more than 3 cycles of 20 minutes.
    await s.alerts.tick();
    await s.alerts.tick();
    expect(alertCalls(connector, "conv-silent", "Job gone quiet")).toHaveLength(1);
    expect(cardJson(alertCalls(connector, "conv-silent", "Job gone quiet")[0]!)).toContain("every 20 minutes");
    await s.ingest([provisioningRecord({ jobId, app, at: new Date(now), cycleId: "cyc-next" })]);
    await waitUntil("the resolution", () => alertCalls(connector, "conv-silent", "Events resumed").length === 1);
    expect(alertCalls(connector, "conv-silent", "Events resumed")[0]!.method).toBe("PUT");
  });

  it("a paused job is not quiet, and a job's own schedule sets when it is", async () => {
    let now = Date.now();
    const clock = { now: () => new Date(now) };
    const s = stack(clock);
    const { jobId, app } = uniqueJob("Zoom");
    await say(s, "subscribe to silence", connector.url, "conv-schedule");
    const start = now - 200 * 60_000;
    await s.storeOnly(Array.from({ length: 9 }, (_, i) => provisioningRecord({ jobId, app, at: new Date(start + i * 20 * 60_000), cycleId: `cyc-${i}`, user: i })));
    const status = (code: string, interval: string) =>
      s.store.statuses.save({ jobKey: jobKey(jobId, `sp-${jobId}`), jobId, servicePrincipalId: `sp-${jobId}`, appName: app, tenantId: "", status: parseJob({ id: jobId, schedule: { interval, state: "Active" }, status: { code } })!, checkedAt: new Date(now).toISOString(), changedAt: new Date(now).toISOString() }, null);
    await status("Paused", "PT20M");
    now += 30 * 60_000; // 70 minutes without events, more than 3 of its 20-minute cycles: but it is paused.
    await s.alerts.tick();
    expect(alertCalls(connector, "conv-schedule", "Job gone quiet")).toHaveLength(0);
    // Running again, on a 60-minute schedule: quiet only after 3 hours.
    await status("Active", "PT1H");
    await s.alerts.tick();
    expect(alertCalls(connector, "conv-schedule", "Job gone quiet")).toHaveLength(0);
    now += 120 * 60_000;
    await s.alerts.tick();
    await waitUntil("the silence card", () => alertCalls(connector, "conv-schedule", "Job gone quiet").length === 1);
    expect(cardJson(alertCalls(connector, "conv-schedule", "Job gone quiet")[0]!)).toContain("every 60 minutes");
  });

  it("job statuses that cannot be read skip the silent-job rule (logged), instead of calling a paused job quiet", async () => {
    let now = Date.now();
    const clock = { now: () => new Date(now) };
    // The evaluator's reads of the job status table fail (the answers' reads do not).
    const s = stack(clock, 3_000, false, (store) => Object.assign(Object.create(store.statuses) as TableEventStore["statuses"], { all: async () => Promise.reject(new Error("the job status table is unavailable")) }));
    const { jobId, app } = uniqueJob("Zoom");
    await say(s, "subscribe to silence", connector.url, "conv-status-outage");
    const start = now - 200 * 60_000;
    await s.storeOnly(Array.from({ length: 9 }, (_, i) => provisioningRecord({ jobId, app, at: new Date(start + i * 20 * 60_000), cycleId: `cyc-${i}`, user: i })));
    await s.store.statuses.save({ jobKey: jobKey(jobId, `sp-${jobId}`), jobId, servicePrincipalId: `sp-${jobId}`, appName: app, tenantId: "", status: parseJob({ id: jobId, schedule: { interval: "PT20M", state: "Active" }, status: { code: "Paused" } })!, checkedAt: new Date(now).toISOString(), changedAt: new Date(now).toISOString() }, null);
    now += 30 * 60_000; // quiet for more than 3 cycles, but paused: the rule must not guess it Active
    await s.alerts.tick();
    await new Promise((r) => setTimeout(r, 200));
    expect(alertCalls(connector, "conv-status-outage", "Job gone quiet")).toHaveLength(0);
    expect(s.logs.some((e) => e.event === "alert.silence.unavailable")).toBe(true);
  });

  it("a burst stays open while nobody acknowledges it, and resolves once acknowledged and quiet", async () => {
    let now = Date.now();
    const clock = { now: () => new Date(now) };
    const s = stack(clock);
    const { jobId, app } = uniqueJob("Adobe");
    await say(s, "subscribe", connector.url, "conv-resolve");
    await s.ingest(burst(25, { jobId, app, action: "delete", end: new Date(now) }));
    await waitUntil("the card", () => alertCalls(connector, "conv-resolve", "Burst").length === 1);
    expect(cardJson(alertCalls(connector, "conv-resolve", "Burst")[0]!)).toContain("stays open until someone acknowledges it");
    await s.alerts.tick();
    expect(alertCalls(connector, "conv-resolve", "Resolved")).toHaveLength(0);
    // Quiet for hours: still open, since the deleted accounts stay deleted.
    now += 5 * 60 * 60_000;
    await s.alerts.tick();
    expect(alertCalls(connector, "conv-resolve", "Resolved")).toHaveLength(0);
    const card = JSON.parse(cardJson(alertCalls(connector, "conv-resolve", "Burst")[0]!)) as { actions: { title: string; data: Record<string, unknown> }[] };
    await say(s, "Acknowledge", connector.url, "conv-resolve", "personal", { value: card.actions.find((a) => a.title === "Acknowledge")!.data, from: { id: "user-3", name: "Ada Lovelace" } });
    await waitUntil("acknowledged", () => alertCalls(connector, "conv-resolve", "Acknowledged by Ada Lovelace").length === 1);
    await s.alerts.tick();
    expect(alertCalls(connector, "conv-resolve", "Resolved")).toHaveLength(1);

    // Retention drops the resolved incident and its delivery rows, and nothing that is still open.
    const [resolved] = await s.alertStore.activeSlots("2000-01-01");
    expect(resolved?.status).toBe("resolved");
    expect(await s.alertStore.deliveries(resolved!.id)).toHaveLength(1);
    const other = uniqueJob("Box");
    await s.ingest(burst(25, { ...other, action: "delete", end: new Date(now) }));
    expect(await s.alertStore.purgeBefore(new Date(now + 86_400_000).toISOString())).toBe(2);
    expect(await s.alertStore.deliveries(resolved!.id)).toHaveLength(0);
    const [open] = await s.alertStore.activeSlots("2000-01-01");
    expect([open?.app, open?.status]).toEqual([other.app, "open"]);
    expect(await s.alertStore.deliveries(open!.id)).toHaveLength(1);
  });
});

describe("sending", () => {
  const storm = async (s: Stack, conversations: [CaptureConnector, string][]) => {
    for (const [c, id] of conversations) await say(s, "subscribe", c.url, id);
    const { jobId, app } = uniqueJob("Adobe");
    const report = await s.ingest(burst(25, { jobId, app, action: "disable", end: new Date() }));
    return { app, report };
  };

  it("403 and 404 retire the conversation; the others still get their card", async () => {
    const s = stack();
    await say(s, "subscribe", other.url, "conv-gone-403");
    await say(s, "subscribe", other.url, "conv-gone-404");
    other.respondWith({ status: 403, body: { error: { code: "BotNotInConversationRoster", message: "removed" } } }, { status: 404, body: { error: { code: "ConversationNotFound", message: "gone" } } });
    await storm(s, [[connector, "conv-ok"]]);
    await waitUntil("the healthy conversation's card", () => alertCalls(connector, "conv-ok", "Burst").length === 1);
    expect(await s.subs.get("conv-gone-403")).toBeNull();
    expect(await s.subs.get("conv-gone-404")).toBeNull();
    // Structured logs: the send results with their status, and the retired conversations (ids only).
    for (const [id, status] of [["conv-gone-403", 403], ["conv-gone-404", 404]] as const) {
      expect(s.logs).toContainEqual(expect.objectContaining({ event: "alert.send", conversationId: id, result: "gone", status }));
      expect(s.logs).toContainEqual({ event: "conversation.removed", conversationId: id });
    }
  });

  it("a sender that died between claiming a delivery and posting: the claim goes stale and the timer posts the card once", async () => {
    let now = Date.now();
    const s = stack({ now: () => new Date(now) });
    await say(s, "subscribe", connector.url, "conv-dead-sender");
    const { jobId, app } = uniqueJob("Workday");
    const iso = new Date(now).toISOString();
    const incident = {
      id: `removalBurst|${jobId}|dead`, rule: "removalBurst" as const, jobKey: jobId, app, status: "open" as const, count: 30, baseline: 0, since: iso, lastSeen: iso,
      topErrors: [], affected: [], cycleId: null, stagedDeletes: 0, summary: "30 disables from a dead sender", windowMinutes: 30, openedAt: iso, version: 1, ackBy: null, ackAt: null, resolvedAt: null, resolution: null,
    };
    expect(await s.alertStore.modifySlot(incident.jobKey, incident.rule, (current) => (current ? null : incident), incident.id)).toEqual(incident);
    // What a sender leaves behind when it is killed after its claim and before its post.
    expect(await s.alertStore.createDelivery({ incidentId: incident.id, conversationId: "conv-dead-sender", state: "sending", activityId: null, version: 1, claimedAt: iso, attempts: 0, nextAttemptAt: null, lastResult: "" })).not.toBeNull();
    await s.alerts.tick();
    expect(alertCalls(connector, "conv-dead-sender", "dead sender")).toHaveLength(0);
    now += STALE_CLAIM_MS + 1_000;
    await s.alerts.tick();
    await s.alerts.tick();
    expect(alertCalls(connector, "conv-dead-sender", "dead sender")).toHaveLength(1);
    expect((await s.alertStore.deliveries(incident.id))[0]!.value).toMatchObject({ state: "sent", activityId: expect.stringMatching(/^activity-/) });
  });

  it("a conversation whose Teams answers slowly does not hold up another's card", async () => {
    const s = stack();
    // Subscriptions are read in conversation id order: the slow one comes first.
    await say(s, "subscribe", other.url, "conv-a-slow");
    other.respondWith({ status: 200, body: { id: "slow-activity" }, delayMs: 2_000 });
    const before = other.calls.length;
    await storm(s, [[connector, "conv-z-fast"]]);
    const slow = other.calls.slice(before).find((c) => cardJson(c).includes("Burst"));
    const fast = alertCalls(connector, "conv-z-fast", "Burst")[0];
    expect(slow && fast).toBeTruthy();
    // Both posts left at once: the fast one did not wait for the slow answer (2 s).
    expect(Math.abs(fast!.at - slow!.at)).toBeLessThan(1_500);
  });

  it("a conversation that never answers holds back none of another conversation's cards; its own are left for the timer within the post's time limit", async () => {
    // Per call 3 s (so four tries would take 12 s or more); per post 2.5 s, retries included.
    const limit = 2_500;
    const s = stack(systemClock, 3_000, false, undefined, undefined, limit);
    const hung = await startCaptureConnector();
    try {
      // Subscriptions are read in conversation id order: the hung one comes first.
      await say(s, "subscribe", hung.url, "conv-a-hung");
      await say(s, "subscribe", connector.url, "conv-z-alive");
      hung.neverAnswer("conv-a-hung");
      const iso = new Date().toISOString();
      const incidents = [1, 2, 3].map((n) => {
        const { jobId, app } = uniqueJob("Dropbox");
        return {
          id: `removalBurst|${jobId}|hung-${n}`, rule: "removalBurst" as const, jobKey: jobId, app, status: "open" as const, count: 20 + n, baseline: 0, since: iso, lastSeen: iso,
          topErrors: [], affected: [], cycleId: null, stagedDeletes: 0, summary: `hung conversation test ${n} ${jobId}`, windowMinutes: 30, openedAt: iso, version: 1, ackBy: null, ackAt: null, resolvedAt: null, resolution: null,
        };
      });
      for (const incident of incidents) expect(await s.alertStore.modifySlot(incident.jobKey, incident.rule, (current) => (current ? null : incident), incident.id)).toEqual(incident);
      const started = Date.now();
      // The timer's delivery: every active incident at once (the outbox's safety net).
      const { deliveries } = await s.alerts.tick();
      const took = Date.now() - started;
      for (const incident of incidents) {
        const alive = alertCalls(connector, "conv-z-alive", incident.summary);
        expect(alive, incident.summary).toHaveLength(1);
        // Posted before the hung conversation's first post even reached its time limit.
        expect(alive[0]!.at - started).toBeLessThan(limit);
        expect(deliveries).toContainEqual(expect.objectContaining({ incidentId: incident.id, conversationId: "conv-z-alive", action: "sent", result: "ok" }));
      }
      // The hung conversation: one post tried and given up at the limit; its other cards were not
      // queued behind it, they wait for the timer (due when that post is).
      const mine = deliveries.filter((d) => d.conversationId === "conv-a-hung");
      expect(mine).toHaveLength(3);
      expect(mine.filter((d) => d.action === "sent")).toEqual([expect.objectContaining({ result: "transient", retryAt: expect.any(String) })]);
      expect(mine.filter((d) => d.action === "skipped").every((d) => d.retryAt === mine.find((x) => x.action === "sent")!.retryAt)).toBe(true);
      expect(took).toBeLessThan(limit + 2_000);
      const tried = mine.find((d) => d.action === "sent")!;
      const row = (await s.alertStore.deliveries(tried.incidentId)).find((d) => d.value.conversationId === "conv-a-hung")!.value;
      expect(row).toMatchObject({ state: "pending", activityId: null, lastResult: expect.stringContaining(`post's limit of ${limit} ms`) });
      expect(s.logs).toContainEqual(expect.objectContaining({ event: "alert.send", conversationId: "conv-a-hung", result: "transient" }));
    } finally {
      await hung.close();
    }
  });

  it("the same batch delivered twice at once: stored once, and one alert card", async () => {
    const s = stack();
    await say(s, "subscribe", connector.url, "conv-twice");
    const { jobId, app } = uniqueJob("Salesforce");
    const records = burst(25, { jobId, app, action: "disable", end: new Date() });
    const [a, b] = await Promise.all([s.ingest(records), s.ingest(records)]);
    expect(a.accepted + b.accepted).toBe(25);
    await new Promise((r) => setTimeout(r, 300));
    expect(alertCalls(connector, "conv-twice", "Burst of disables")).toHaveLength(1);
  });

  it("429 waits for Retry-After, then delivers once", async () => {
    const s = stack();
    await say(s, "subscribe", other.url, "conv-429");
    const before = other.calls.length;
    other.respondWith({ status: 429, headers: { "retry-after": "1" }, body: { error: { code: "Throttled", message: "slow down" } } });
    await storm(s, []);
    const calls = other.calls.slice(before).filter((c) => cardJson(c).includes("Burst"));
    expect(calls).toHaveLength(2);
    const gap = calls[1]!.at - calls[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(950);
  });

  it("a long Retry-After leaves the delivery pending for the timer instead of blocking; the timer sends it when due", async () => {
    let now = Date.now();
    const s = stack({ now: () => new Date(now) });
    await say(s, "subscribe", other.url, "conv-429-long");
    other.respondWith({ status: 429, headers: { "retry-after": "120" }, body: {} });
    const started = Date.now();
    await storm(s, []);
    expect(Date.now() - started).toBeLessThan(5_000);
    const slots = await s.alertStore.activeSlots("2000-01-01");
    const deliveries = await s.alertStore.deliveries(slots[0]!.id);
    expect(deliveries[0]!.value).toMatchObject({ state: "pending", activityId: null });
    expect(Date.parse(deliveries[0]!.value.nextAttemptAt!) - Date.now()).toBeGreaterThan(100_000);
    // The timer does not retry before that time, and does once it has passed.
    const before = other.calls.length;
    await s.alerts.tick();
    expect(other.calls.length).toBe(before);
    now += 121_000;
    await s.alerts.tick();
    expect(other.calls.slice(before).filter((c) => c.method === "POST" && cardJson(c).includes("Burst"))).toHaveLength(1);
    expect((await s.alertStore.deliveries(slots[0]!.id))[0]!.value).toMatchObject({ state: "sent", activityId: expect.stringMatching(/^activity-/) });
  });

  for (const retryAfter of ["3600", "86400", "Wed, 21 Oct 2099 07:28:00 GMT"]) {
    it(`Retry-After: ${retryAfter} from Teams is capped: the card is tried again within 5 minutes`, async () => {
      let now = Date.now();
      const s = stack({ now: () => new Date(now) });
      const conv = `conv-429-cap-${retryAfter.length}`;
      await say(s, "subscribe", other.url, conv);
      other.respondWith({ status: 429, headers: { "retry-after": retryAfter }, body: {} });
      await storm(s, []);
      const slots = await s.alertStore.activeSlots("2000-01-01");
      const delivery = (await s.alertStore.deliveries(slots[0]!.id)).find((d) => d.value.conversationId === conv)!;
      expect(delivery.value.state).toBe("pending");
      expect(Date.parse(delivery.value.nextAttemptAt!) - now).toBeLessThanOrEqual(5 * 60_000 + 1_000);
      const before = other.calls.length;
      now += 5 * 60_000 + 1_000;
      await s.alerts.tick();
      expect(other.calls.slice(before).filter((c) => c.method === "POST" && cardJson(c).includes("Burst"))).toHaveLength(1);
    });
  }

  it("an update that fails stays pending with its activity id and is applied by the timer (in place, not a new card)", async () => {
    let now = Date.now();
    const s = stack({ now: () => new Date(now) });
    const { jobId, app } = uniqueJob("Adobe");
    await say(s, "subscribe", other.url, "conv-upd");
    const before = other.calls.length;
    await s.ingest(burst(22, { jobId, app, action: "disable", end: new Date(now) }));
    other.respondWith(...Array.from({ length: 4 }, () => ({ status: 503, body: {} })));
    await s.ingest(burst(8, { jobId, app, action: "disable", end: new Date(now), firstUser: 400 }));
    const [slot] = await s.alertStore.activeSlots("2000-01-01");
    const pending = (await s.alertStore.deliveries(slot!.id))[0]!.value;
    expect(pending).toMatchObject({ state: "pending", activityId: expect.stringMatching(/^activity-/), version: 2 });
    now += 61_000;
    await s.alerts.tick();
    const mine = other.calls.slice(before).filter((c) => cardJson(c).includes("Burst"));
    expect(mine.filter((c) => c.method === "POST")).toHaveLength(1);
    expect(cardJson(mine[mine.length - 1]!)).toContain("30 disables/deletes");
    expect(mine[mine.length - 1]!.method).toBe("PUT");
    expect((await s.alertStore.deliveries(slot!.id))[0]!.value).toMatchObject({ state: "sent", version: 2 });
  });

  it("5xx and timeouts are retried with backoff; a persistent 5xx ends as pending, not as an exception", async () => {
    const s = stack();
    await say(s, "subscribe", other.url, "conv-5xx");
    const before = other.calls.length;
    other.respondWith({ status: 503, body: {} }, { status: 502, body: {} });
    await storm(s, []);
    const calls = other.calls.slice(before).filter((c) => cardJson(c).includes("Burst"));
    expect(calls).toHaveLength(3);
    expect(calls.filter((c) => c.method === "PUT")).toHaveLength(0);

    const s2 = stack();
    await say(s2, "subscribe", other.url, "conv-5xx-2");
    other.respondWith(...Array.from({ length: 4 }, () => ({ status: 500, body: {} })));
    await storm(s2, []);
    const slots = await s2.alertStore.activeSlots("2000-01-01");
    const d = (await s2.alertStore.deliveries(slots[0]!.id))[0]!.value;
    expect(d).toMatchObject({ state: "pending", attempts: 1 });
    expect(d.lastResult).toMatch(/^transient: 500/);
  });
});

describe("timeouts and late changes", () => {
  it("a connector that does not answer in time is retried; the card then arrives", async () => {
    const s = stack(systemClock, 400);
    await say(s, "subscribe", other.url, "conv-timeout");
    const before = other.calls.length;
    other.respondWith({ status: 200, body: { id: "too-late" }, delayMs: 1_500 });
    const { jobId, app } = uniqueJob("Workday");
    await s.ingest(burst(25, { jobId, app, action: "disable", end: new Date() }));
    const slots = await s.alertStore.activeSlots("2000-01-01");
    const d = (await s.alertStore.deliveries(slots[0]!.id))[0]!.value;
    expect(d).toMatchObject({ state: "sent", activityId: expect.stringMatching(/^activity-/) });
    expect(other.calls.slice(before).filter((c) => cardJson(c).includes("Burst"))).toHaveLength(2);
  });

  it("a card keeps being updated after its conversation unsubscribed", async () => {
    const s = stack();
    const { jobId, app } = uniqueJob("Adobe");
    await say(s, "subscribe", connector.url, "conv-left");
    await s.ingest(burst(22, { jobId, app, action: "disable", end: new Date() }));
    await waitUntil("the card", () => alertCalls(connector, "conv-left", "Burst").length === 1);
    await say(s, "unsubscribe", connector.url, "conv-left");
    await s.ingest(burst(10, { jobId, app, action: "disable", end: new Date(), firstUser: 300 }));
    await waitUntil("the update", () => alertCalls(connector, "conv-left", "32 disables/deletes").length === 1);
    expect(alertCalls(connector, "conv-left", "32 disables/deletes")[0]!.method).toBe("PUT");
  });
});

describe("new failures digest", () => {
  it("one card per app for new failing objects; recurrences count up; a later success marks them resolved", async () => {
    let now = Date.now();
    const s = stack({ now: () => new Date(now) });
    const { jobId, app } = uniqueJob("Salesforce");
    await say(s, "subscribe to digest", connector.url, "conv-digest");
    const t = now;
    await s.ingest([1, 2, 3].map((u) => provisioningRecord({ jobId, app, at: new Date(t - 60_000), user: u, status: "failure", errorCode: "SalesforceDuplicateUsername" })));
    await waitUntil("the digest", () => alertCalls(connector, "conv-digest", "New failures").length === 1);
    const first = alertCalls(connector, "conv-digest", "New failures")[0]!;
    expect(cardJson(first)).toContain("3 objects started failing");
    // A second digest card for a new failing object; then user 1 fails again and user 2 succeeds:
    // both changes land on the first card, which reported them.
    await s.ingest([provisioningRecord({ jobId, app, at: new Date(t - 45_000), user: 4, status: "failure" })]);
    await waitUntil("the second digest", () => alertCalls(connector, "conv-digest", "1 object started failing").length === 1);
    await s.ingest([provisioningRecord({ jobId, app, at: new Date(t - 30_000), user: 1, status: "failure", errorCode: "SalesforceDuplicateUsername" })]);
    await s.ingest([provisioningRecord({ jobId, app, at: new Date(t), user: 2, status: "success" })]);
    await waitUntil("the resolution", () => alertCalls(connector, "conv-digest", "User 2 (user2@contoso.com) · SalesforceDuplicateUsername · resolved").length === 1);
    const updates = connector.calls.filter((c) => c.method === "PUT" && c.path.startsWith("/v3/conversations/conv-digest/"));
    const firstId = `activity-${connector.calls.indexOf(first) + 1}`;
    expect(updates.map((c) => c.path.split("/").pop())).toEqual([firstId, firstId]);
    expect(cardJson(updates[1]!)).toContain("User 1 (user1@contoso.com) · failed 2×");
    expect(alertCalls(connector, "conv-digest", "New failures").filter((c) => c.method === "POST")).toHaveLength(2);
    // A day later the timer closes the digests that are still open.
    now += 25 * 3_600_000;
    await s.alerts.tick();
    expect(alertCalls(connector, "conv-digest", "Closed after 24 hours")).toHaveLength(2);
  });
});
