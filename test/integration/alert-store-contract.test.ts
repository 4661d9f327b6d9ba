import { describe, expect, it } from "vitest";
import { TableAlertStore, TableSubscriptionStore } from "../../src/adapters/tables/alertStore";
import { ConcurrencyExhausted } from "../../src/core/optimistic";
import type { Incident } from "../../src/core/alerts/incident";
import type { AlertRule } from "../../src/core/alerts/subscriptions";
import { newSubscription } from "../../src/core/alerts/subscriptions";
import type { IncidentStore, SubscriptionStore, ThresholdStore } from "../../src/app/alertPorts";
import { MemoryAlertStore, MemorySubscriptionStore } from "../support/memoryAlerts";
import { testTables } from "../support/tables";

/**
 * Contract: the in-memory alert stores (test/support/memoryAlerts.ts) and the Table Storage
 * adapters on Azurite behave alike, races included: a writer that gets in between a read and its
 * write (here: inside `decide`, which runs between them) makes the loop read and decide again,
 * and both changes are kept. The alert use-case tests on the fakes rest on this.
 */
type Stores = { subs: SubscriptionStore; alerts: IncidentStore & ThresholdStore };
const kinds: [string, () => Stores][] = [
  ["memory", () => ({ subs: new MemorySubscriptionStore(), alerts: new MemoryAlertStore() })],
  [
    "Table Storage",
    () => {
      const { factory } = testTables();
      return { subs: new TableSubscriptionStore(factory), alerts: new TableAlertStore(factory) };
    },
  ],
];

const at = "2026-12-01T10:00:00.000Z";
function incident(jobKey: string, rule: AlertRule, over: Partial<Incident> = {}): Incident {
  return {
    id: `${rule}|${jobKey}|1`, rule, jobKey, app: "Contoso HR", status: "open", count: 25, baseline: 0, since: at, lastSeen: at, topErrors: [["E1", 3]], affected: [{ identity: "a@contoso.com", name: "A", count: 1, errorCode: "E1" }],
    cycleId: null, stagedDeletes: 0, summary: "25 disables", windowMinutes: 30, openedAt: at, version: 1, ackBy: null, ackAt: null, resolvedAt: null, resolution: null, notes: [], ...over,
  };
}
const target = (id: string) => ({ conversationId: id, serviceUrl: "https://smba.example/", tenantId: "t1", conversationType: "personal" as const });

describe.each(kinds)("alert stores (%s)", (_kind, make) => {
  it("modifySlot creates, replaces, writes nothing when decide says so, and keeps digests apart by id", async () => {
    const { alerts } = make();
    const a = incident("job-a", "removalBurst");
    expect(await alerts.modifySlot("job-a", "removalBurst", (cur) => (cur ? null : a))).toEqual(a);
    expect((await alerts.slot("job-a", "removalBurst"))!.value).toEqual(a);
    expect(await alerts.modifySlot("job-a", "removalBurst", () => null)).toBeNull();
    const grown = await alerts.modifySlot("job-a", "removalBurst", (cur) => ({ ...cur!, count: cur!.count + 5, version: cur!.version + 1 }));
    expect(grown).toMatchObject({ count: 30, version: 2 });
    const d1 = incident("job-a", "newFailures", { id: "newFailures|job-a|one" });
    const d2 = incident("job-a", "newFailures", { id: "newFailures|job-a|two", count: 2 });
    await alerts.modifySlot("job-a", "newFailures", (cur) => (cur ? null : d1), d1.id);
    await alerts.modifySlot("job-a", "newFailures", (cur) => (cur ? null : d2), d2.id);
    expect((await alerts.slot("job-a", "newFailures", d1.id))!.value.count).toBe(25);
    expect((await alerts.slot("job-a", "newFailures", d2.id))!.value.count).toBe(2);
    expect(await alerts.slot("job-a", "newFailures")).toBeNull();
    const active = await alerts.activeSlots("2026-11-30T00:00:00.000Z");
    expect(active.map((i) => i.id).sort()).toEqual([a.id, d1.id, d2.id].sort());
  });

  it("a writer in between a read and its write: the loop decides again on the newer row, and both changes are kept", async () => {
    const { alerts } = make();
    await alerts.modifySlot("job-r", "failureSpike", () => incident("job-r", "failureSpike"));
    let calls = 0;
    const acked = await alerts.modifySlot("job-r", "failureSpike", async (cur) => {
      calls++;
      // The first time only: another host grows the incident after this read.
      if (calls === 1) await alerts.modifySlot("job-r", "failureSpike", (c) => ({ ...c!, count: 40, version: c!.version + 1 }));
      return { ...cur!, ackBy: "Ada", ackAt: at, version: cur!.version + 1 };
    });
    expect(calls).toBe(2);
    expect(acked).toMatchObject({ count: 40, ackBy: "Ada", version: 3 });
    expect((await alerts.slot("job-r", "failureSpike"))!.value).toMatchObject({ count: 40, ackBy: "Ada", version: 3 });
    // Two creates at once: the second sees the first and decides on it.
    const seen: (Incident | null)[] = [];
    await alerts.modifySlot("job-c", "silentJob", async (cur) => {
      seen.push(cur);
      if (seen.length === 1) await alerts.modifySlot("job-c", "silentJob", () => incident("job-c", "silentJob", { summary: "first" }));
      return cur ? null : incident("job-c", "silentJob", { summary: "second" });
    });
    expect(seen.map((s) => s?.summary ?? null)).toEqual([null, "first"]);
    expect((await alerts.slot("job-c", "silentJob"))!.value.summary).toBe("first");
  });

  it("writers that always win exhaust the loop, and that is reported, not swallowed", async () => {
    const { alerts } = make();
    await alerts.modifySlot("job-x", "removalBurst", () => incident("job-x", "removalBurst"));
    const run = alerts.modifySlot("job-x", "removalBurst", async (cur) => {
      await alerts.modifySlot("job-x", "removalBurst", (c) => ({ ...c!, version: c!.version + 1 }));
      return { ...cur!, summary: "never written" };
    });
    await expect(run).rejects.toBeInstanceOf(ConcurrencyExhausted);
    expect((await alerts.slot("job-x", "removalBurst"))!.value.summary).toBe("25 disables");
  });

  it("digests and subscriptions: a change made in between is kept with the other", async () => {
    const { alerts, subs } = make();
    const obj = (identity: string) => ({ identity, name: identity, firstAt: at, lastAt: at, count: 1, errorCode: "E1", incidentId: "d1" });
    await alerts.modifyDigest("job-d", (open) => ({ ...open, a: obj("a") }));
    const seen: string[][] = [];
    await alerts.modifyDigest("job-d", async (open) => {
      seen.push(Object.keys(open).sort());
      if (seen.length === 1) await alerts.modifyDigest("job-d", (o) => ({ ...o, b: obj("b") }));
      return { ...open, c: obj("c") };
    });
    expect(seen).toEqual([["a"], ["a", "b"]]);
    expect(Object.keys((await alerts.digest("job-d"))!.value).sort()).toEqual(["a", "b", "c"]);

    // A conversation known only from touch() has no subscription yet.
    await subs.touch(target("conv-1"), at);
    expect(await subs.get("conv-1")).toMatchObject({ subscribed: false, apps: [] });
    await subs.modify(target("conv-1"), (cur) => ({ ...(cur ?? newSubscription(target("conv-1"), at)), subscribed: true, apps: ["Adobe"] }));
    const rounds: string[][] = [];
    const written = await subs.modify(target("conv-1"), async (cur) => {
      rounds.push([...cur!.apps]);
      // The other host's edit lands between this read and this write.
      if (rounds.length === 1) await subs.modify(target("conv-1"), (c) => ({ ...c!, apps: [...c!.apps, "Dropbox"] }));
      return { ...cur!, apps: [...cur!.apps, "Box"] };
    });
    expect(rounds).toEqual([["Adobe"], ["Adobe", "Dropbox"]]);
    expect(written.apps).toEqual(["Adobe", "Dropbox", "Box"]);
    expect((await subs.get("conv-1"))!.apps).toEqual(["Adobe", "Dropbox", "Box"]);
    expect((await subs.subscribed()).map((s) => s.target.conversationId)).toEqual(["conv-1"]);
    await subs.remove("conv-1");
    expect(await subs.get("conv-1")).toBeNull();
  });

  it("deliveries: the first claim wins; a replace under an old version is refused", async () => {
    const { alerts } = make();
    const d = { incidentId: "removalBurst|job-q|1", conversationId: "conv-1", state: "sending" as const, activityId: null, version: 1, claimedAt: at, attempts: 0, nextAttemptAt: null, lastResult: "" };
    const claim = await alerts.createDelivery(d);
    expect(claim).not.toBeNull();
    expect(await alerts.createDelivery({ ...d, claimedAt: "later" })).toBeNull();
    const sent = await alerts.replaceDelivery({ ...d, state: "sent", activityId: "act-1" }, claim!.etag);
    expect(sent).not.toBeNull();
    expect(await alerts.replaceDelivery({ ...d, state: "failed" }, claim!.etag)).toBeNull();
    expect((await alerts.deliveries(d.incidentId)).map((x) => x.value.state)).toEqual(["sent"]);
    expect(await alerts.deliveries("removalBurst|job-q|2")).toEqual([]);
  });
});
