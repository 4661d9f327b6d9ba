import { describe, expect, it } from "vitest";
import { createAlerts, ConversationRegistry, type Alerts } from "../../src/app/alerts";
import type { AlertSender, SendResult } from "../../src/app/alertPorts";
import type { ConversationTarget } from "../../src/core/conversation";
import type { Incident } from "../../src/core/alerts/incident";
import type { AlertRule } from "../../src/core/alerts/subscriptions";
import type { ProvisioningEvent } from "../../src/core/event";
import { normaliseRecord } from "../../src/core/ingest/normalise";
import { newSubscription } from "../../src/core/alerts/subscriptions";
import { jobKey } from "../../src/adapters/tables/keys";
import type { LogEntry } from "../../src/app/ports";
import { MemoryAlertStore, MemorySubscriptionStore } from "../support/memoryAlerts";
import { MemoryStore } from "../support/memoryStore";
import { burst } from "../support/records";
import { alertCard } from "../../src/core/alerts/views";
import { renderCard } from "../../src/adapters/cards/render";

/**
 * The alert use cases (evaluate, deliver, acknowledge) on the in-memory fakes of every store
 * (test/support/memoryAlerts.ts, memoryStore.ts; their contract with the Table Storage adapters is
 * test/integration/alert-store-contract.test.ts) and a recording sender: no Azurite, no HTTP.
 */
interface Post {
  kind: "send" | "update";
  conversationId: string;
  activityId: string;
  title: string;
}

function recordingSender(gate: (target: ConversationTarget, posts: Post[]) => Promise<SendResult | null> = async () => null) {
  const posts: Post[] = [];
  let seq = 0;
  const sender: AlertSender = {
    async send(target, message) {
      const held = await gate(target, posts);
      if (held) return held;
      const activityId = `act-${++seq}`;
      posts.push({ kind: "send", conversationId: target.conversationId, activityId, title: JSON.stringify(message) });
      return { kind: "ok", activityId };
    },
    async update(target, activityId, message) {
      const held = await gate(target, posts);
      if (held) return held;
      posts.push({ kind: "update", conversationId: target.conversationId, activityId, title: JSON.stringify(message) });
      return { kind: "ok", activityId };
    },
  };
  return { sender, posts };
}

function world(options: { sender?: AlertSender; incidents?: MemoryAlertStore } = {}) {
  const store = new MemoryStore();
  const subs = new MemorySubscriptionStore();
  const incidents = options.incidents ?? new MemoryAlertStore();
  const logs: LogEntry[] = [];
  const clock = { now: () => new Date() };
  const recording = recordingSender();
  const sender = options.sender ?? recording.sender;
  const make = (): Alerts =>
    createAlerts({
      subs, incidents, thresholds: incidents, query: store, sender, clock, log: (e) => logs.push(e),
      outbox: { notify: async () => undefined },
      conversations: new ConversationRegistry({ store: subs, clock }),
      jobKeyOf: (e) => jobKey(e.jobId, e.servicePrincipal.id),
    });
  const stored = async (records: Record<string, unknown>[]) => {
    const events = records.flatMap((r) => {
      const n = normaliseRecord(r);
      return n.kind === "event" ? [n.event] : [];
    });
    const { newIds } = await store.write(events);
    return events.filter((e: ProvisioningEvent) => newIds.has(e.id));
  };
  const subscribe = async (conversationId: string) =>
    subs.modify({ conversationId, serviceUrl: "https://smba.example/", tenantId: "t1", conversationType: "personal" }, (cur) => ({ ...(cur ?? newSubscription({ conversationId, serviceUrl: "https://smba.example/", tenantId: "t1", conversationType: "personal" }, new Date().toISOString())), subscribed: true }));
  return { store, subs, incidents, logs, make, stored, subscribe, posts: recording.posts };
}

/** The store, with `meanwhile` run between each read of a slot and the decision on it (another host at work). */
function betweenReadAndWrite(incidents: MemoryAlertStore, meanwhile: (jobKey: string, rule: AlertRule, current: Incident | null, id?: string) => Promise<void>): MemoryAlertStore {
  return Object.assign(Object.create(incidents) as MemoryAlertStore, {
    modifySlot: (jobKey: string, rule: AlertRule, decide: (c: Incident | null) => Promise<Incident | null> | Incident | null, id?: string) =>
      incidents.modifySlot(
        jobKey,
        rule,
        async (current) => {
          await meanwhile(jobKey, rule, current, id);
          return decide(current);
        },
        id,
      ),
  });
}

let seq = 0;
const job = (app: string) => ({ jobId: `uc-${app.toLowerCase()}-${++seq}`, app });

describe("alert use cases on the in-memory stores", () => {
  it("a burst opens one incident and one card; its growth updates that card; a redelivered batch changes nothing", async () => {
    const w = world();
    await w.subscribe("conv-1");
    const alerts = w.make();
    const spec = { ...job("Adobe"), action: "disable" as const, end: new Date() };
    const first = await alerts.afterIngest(await w.stored(burst(25, spec)));
    expect(first.map((i) => [i.rule, i.count])).toContainEqual(["removalBurst", 25]);
    await alerts.delivery.deliverAll(first);
    expect(w.posts.filter((p) => p.kind === "send" && p.title.includes("Burst"))).toHaveLength(1);
    const growth = burst(5, { ...spec, firstUser: 100 });
    const more = await alerts.afterIngest(await w.stored(growth));
    const burstNow = more.find((i) => i.rule === "removalBurst")!;
    expect(burstNow).toMatchObject({ count: 30, version: 2 });
    await alerts.delivery.deliverAll(more);
    const sent = w.posts.find((p) => p.kind === "send" && p.title.includes("Burst"))!;
    expect(w.posts.filter((p) => p.kind === "update" && p.title.includes("Burst")).map((p) => p.activityId)).toEqual([sent.activityId]);
    // The same events again are not new: nothing to evaluate, nothing changes.
    expect(await w.stored(growth)).toEqual([]);
  });

  it("every job card links to the app's Provisioning page in the admin center when the records carry the app's ids (issue 25, item 10)", async () => {
    const w = world();
    await w.subscribe("conv-1");
    const alerts = w.make();
    const sp = "0f0e0d0c-0b0a-4909-8807-060504030201";
    const appId = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
    const records = burst(25, { ...job("Zendesk"), action: "disable", end: new Date() }).map((r) => ({
      ...r,
      servicePrincipal: { id: sp, displayName: "Zendesk" },
      targetSystem: { id: "tgt", displayName: "Zendesk", details: { ApplicationId: appId, ServicePrincipalId: sp, ServicePrincipalDisplayName: "Zendesk" } },
    }));
    const opened = (await alerts.afterIngest(await w.stored(records))).find((i) => i.rule === "removalBurst")!;
    expect(opened.portalUrl).toContain(`/appId/${appId}/objectId/${sp}`);
    const card = renderCard("alert", alertCard(opened, "personal")).content as { actions: { type: string; title: string; url?: string }[] };
    expect(card.actions.find((a) => a.type === "Action.OpenUrl")).toMatchObject({ title: "Open in Entra admin center", url: opened.portalUrl });
    // Without the ids (a record that does not carry them), no link rather than a broken one.
    const plain = (await alerts.afterIngest(await w.stored(burst(25, { ...job("Asana"), action: "disable", end: new Date() })))).find((i) => i.rule === "removalBurst")!;
    expect(plain.portalUrl ?? null).toBeNull();
    expect((renderCard("alert", alertCard(plain, "personal")).content as { actions: { type: string }[] }).actions.some((a) => a.type === "Action.OpenUrl")).toBe(false);
  });

  it("a card heading for quarantine offers the top errors and the failing objects as next steps", () => {
    const iso = new Date().toISOString();
    const forecast: Incident = { id: "quarantineForecast|j|1", rule: "quarantineForecast", jobKey: "j", app: "Workday", status: "open", count: 3900, baseline: 0, since: iso, lastSeen: iso, topErrors: [], affected: [], cycleId: null, stagedDeletes: 0, summary: "heading", windowMinutes: 30, openedAt: iso, version: 1, ackBy: null, ackAt: null, resolvedAt: null, resolution: null };
    const texts = alertCard(forecast, "channel").actions.map((a) => [a.title, a.data.text, a.data.alert?.action ?? null]);
    expect(texts).toContainEqual(["Top errors", "top errors in Workday this week", null]);
    expect(texts).toContainEqual(["Failing objects", "failures in Workday in the last 24 hours", null]);
  });

  it("two hosts evaluating the same job at once: one incident holding every event, one card", async () => {
    const w = world();
    await w.subscribe("conv-1");
    const [a, b] = [w.make(), w.make()];
    const spec = { ...job("Box"), action: "delete" as const, end: new Date() };
    const eventsA = await w.stored(burst(20, spec));
    const eventsB = await w.stored(burst(10, { ...spec, firstUser: 200 }));
    const [ca, cb] = await Promise.all([a.afterIngest(eventsA), b.afterIngest(eventsB)]);
    const slots = (await w.incidents.activeSlots("2000")).filter((i) => i.rule === "removalBurst");
    expect(slots.map((i) => i.count)).toEqual([30]);
    await Promise.all([a.delivery.deliverAll([...ca, ...cb]), b.delivery.deliverAll([...ca, ...cb])]);
    expect(w.posts.filter((p) => p.kind === "send" && p.title.includes("Burst"))).toHaveLength(1);
  });

  it("an acknowledgement made while a burst grows keeps both: the acknowledger and the new count", async () => {
    const incidents = new MemoryAlertStore();
    // Between the acknowledgement's read and its write, the burst grows on another host.
    let grow: (() => Promise<void>) | null = null;
    const racing = betweenReadAndWrite(incidents, async () => {
      const g = grow;
      grow = null;
      if (g) await g();
    });
    const w = world({ incidents: racing });
    await w.subscribe("conv-1");
    const alerts = w.make();
    const spec = { ...job("Dropbox"), action: "disable" as const, end: new Date() };
    const opened = (await alerts.afterIngest(await w.stored(burst(25, spec)))).find((i) => i.rule === "removalBurst")!;
    const later = await w.stored(burst(6, { ...spec, firstUser: 300 }));
    grow = async () => void (await w.make().afterIngest(later));
    const acked = await alerts.evaluator.update(opened.jobKey, "removalBurst", opened.id, (cur) => ({ ...cur, ackBy: "Ada", ackAt: new Date().toISOString(), version: cur.version + 1 }));
    expect(acked).toMatchObject({ ackBy: "Ada", count: 31, version: 3 });
    expect((await incidents.slot(opened.jobKey, "removalBurst"))!.value).toMatchObject({ ackBy: "Ada", count: 31 });
  });

  it("writers that keep winning: the evaluation logs the contention and leaves the change to the next run, without failing the batch", async () => {
    const incidents = new MemoryAlertStore();
    let rival = false;
    // Another writer moves the row after every read of this one.
    const contended = betweenReadAndWrite(incidents, async (jobKey, rule, current, id) => {
      if (rival && current) await incidents.modifySlot(jobKey, rule, (c) => (c ? { ...c, lastSeen: new Date().toISOString() } : null), id);
    });
    const w = world({ incidents: contended });
    const alerts = w.make();
    const spec = { ...job("Zoom"), action: "disable" as const, end: new Date() };
    await alerts.afterIngest(await w.stored(burst(25, spec)));
    rival = true;
    const changed = await alerts.afterIngest(await w.stored(burst(5, { ...spec, firstUser: 400 })));
    expect(changed.filter((i) => i.rule === "removalBurst")).toEqual([]);
    expect(w.logs).toContainEqual(expect.objectContaining({ event: "alert.contention", rule: "removalBurst" }));
    rival = false;
    // The next evaluation decides again from the stored events: nothing was lost.
    const next = await alerts.afterIngest(await w.stored(burst(1, { ...spec, firstUser: 500 })));
    expect(next.find((i) => i.rule === "removalBurst")).toMatchObject({ count: 31 });
  });

  it("deliveries: a conversation that has not answered yet holds back none of another conversation's cards", async () => {
    // The slow conversation answers only once the other one has all three cards: delivery that
    // waited for it (one incident after another) would never finish.
    const rec = recordingSender(async (target, posts) => {
      if (target.conversationId !== "conv-a-slow") return null;
      while (posts.filter((p) => p.conversationId === "conv-z-live").length < 3) await new Promise((r) => setTimeout(r, 5));
      return null;
    });
    const w = world({ sender: rec.sender });
    await w.subscribe("conv-a-slow");
    await w.subscribe("conv-z-live");
    const alerts = w.make();
    const opened: Incident[] = [];
    for (const app of ["Slack", "Asana", "Miro"]) opened.push(...(await alerts.afterIngest(await w.stored(burst(25, { ...job(app), action: "disable", end: new Date() })))));
    const bursts = opened.filter((i) => i.rule === "removalBurst");
    expect(bursts).toHaveLength(3);
    const timeout = new Promise<"stuck">((r) => setTimeout(() => r("stuck"), 5_000).unref());
    const done = await Promise.race([alerts.delivery.deliverAll(bursts), timeout]);
    expect(done).not.toBe("stuck");
    const order = rec.posts.map((p) => p.conversationId);
    expect(order.filter((c) => c === "conv-z-live")).toHaveLength(3);
    expect(order.filter((c) => c === "conv-a-slow")).toHaveLength(3);
    // Every live card went out before the slow conversation's first.
    expect(order.slice(0, 3)).toEqual(["conv-z-live", "conv-z-live", "conv-z-live"]);
  });
});
