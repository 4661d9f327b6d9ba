import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { randomBytes } from "node:crypto";
import { startHostProcess, type HostProcess } from "../support/stack";
import { messageActivity, startCaptureConnector, type CaptureConnector, type ConnectorCall } from "../support/connector";
import { burst, provisioningRecord } from "../support/records";
import { jobKey } from "../../src/adapters/tables/keys";
import { TableSubscriptionStore } from "../../src/adapters/tables/alertStore";
import { audit, tablesOn, until } from "./support";

/**
 * Two instances on one store, as two Functions instances run on one storage account: two built
 * hosts on the same Azurite tables and the same alert queue, both consuming it, both running their
 * timers. Teams is a capture connector. Every request goes to one host or the other, or to both at
 * the same moment.
 */
let one: HostProcess;
let two: HostProcess;
let teams: CaptureConnector;
const prefix = `th${randomBytes(3).toString("hex")}`;
const tenant = "tenant-1";

beforeAll(async () => {
  teams = await startCaptureConnector();
  const shared = { PROVBOT_TABLE_PREFIX: prefix, PROVBOT_ALERT_QUEUE: `alerts-${prefix}` };
  [one, two] = await Promise.all([startHostProcess(inject("azurite").port, shared), startHostProcess(inject("azurite").port, shared)]);
});
afterAll(async () => {
  await Promise.all([one?.stop(), two?.stop()]);
  await teams?.close();
});

const ingest = async (host: HostProcess, records: Record<string, unknown>[]) => {
  const res = await fetch(`${host.url}/api/ingest`, { method: "POST", headers: { "content-type": "application/json", "x-functions-key": host.functionKey }, body: JSON.stringify(records) });
  expect(res.status).toBe(200);
  return (await res.json()) as { accepted: number; duplicates: number };
};
const say = async (host: HostProcess, conversationId: string, text: string) => {
  const before = teams.calls.length;
  const res = await fetch(`${host.url}/api/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(messageActivity(text, teams.url, { conversation: { id: conversationId, conversationType: "personal", tenantId: tenant } })) });
  expect(res.status).toBe(200);
  return teams.calls.slice(before).filter((c) => c.path.startsWith(`/v3/conversations/${encodeURIComponent(conversationId)}/activities`));
};
const runTimer = async (host: HostProcess) => {
  const done = (host.output().match(/\[alertsTimer\] admin run succeeded/g) ?? []).length;
  const res = await fetch(`${host.url}/admin/functions/alertsTimer`, { method: "POST", headers: { "x-functions-key": host.functionKey } });
  expect(res.status).toBe(202);
  await until("the timer run", () => (host.output().match(/\[alertsTimer\] admin run succeeded/g) ?? []).length > done);
};
const text = (c: ConnectorCall) => JSON.stringify(c.body ?? {});

describe("two hosts on one store", () => {
  it("the same batch sent to both at once, and overlapping batches: every event stored and counted once", async () => {
    const jobId = `two-${prefix}-ingest`;
    const records = Array.from({ length: 900 }, (_, i) => provisioningRecord({ jobId, app: "Two Hosts HR", at: new Date(Date.now() - (i + 1) * 1_000), user: i + 1 }));
    const same = records.slice(0, 400);
    const [a, b] = await Promise.all([ingest(one, same), ingest(two, same)]);
    expect(a.accepted + b.accepted).toBe(400);
    // Overlapping: 300-699 through one, 500-899 through the other, at once.
    const [c, d] = await Promise.all([ingest(one, records.slice(300, 700)), ingest(two, records.slice(500, 900))]);
    expect(c.accepted + d.accepted).toBe(500);
    expect(await audit(tablesOn(inject("azurite").port, prefix), jobKey(jobId, `sp-${jobId}`))).toEqual({ rows: 900, distinct: 900, counted: 900 });
  });

  it("a change ID stored through one host is found through the other at once, even in a month the other had not seen", async () => {
    const jobId = `two-${prefix}-change`;
    await ingest(one, [provisioningRecord({ jobId, app: "Two Hosts Wiki", at: new Date() })]);
    // The second host takes its shard list (a lookup that finds nothing) ...
    expect(text((await say(two, "conv-two-lookup", "change 00000000-0000-4000-8000-00000000abcd"))[0]!)).toContain("Nothing found");
    // ... then an event four months back is stored through the first.
    const old = provisioningRecord({ jobId, app: "Two Hosts Wiki", at: new Date(Date.now() - 120 * 86_400_000), status: "failure", user: 77 });
    expect((await ingest(one, [old])).accepted).toBe(1);
    const reply = text((await say(two, "conv-two-lookup", `change ${String(old["changeId"])}`))[0]!);
    expect(reply).not.toContain("Nothing found");
    expect(reply).toContain("User 77");
  });

  it("subscription edits made on both hosts at the same moment are all kept", async () => {
    const apps = ["Two Hosts Alpha", "Two Hosts Beta"];
    await ingest(one, apps.map((app, i) => provisioningRecord({ jobId: `two-${prefix}-sub-${i}`, app, at: new Date() })));
    const subs = new TableSubscriptionStore(tablesOn(inject("azurite").port, prefix));
    for (let round = 0; round < 4; round++) {
      const conversationId = `conv-two-sub-${round}`;
      await Promise.all([say(one, conversationId, `subscribe ${apps[0]}`), say(two, conversationId, `subscribe ${apps[1]}`)]);
      expect((await subs.get(conversationId))?.apps.slice().sort(), `round ${round}`).toEqual([...apps].sort());
    }
  });

  it("a burst with both hosts consuming the queue and running their timers: one card per conversation, later changes update it", async () => {
    const app = "Two Hosts Burst";
    const jobId = `two-${prefix}-burst`;
    await ingest(one, [provisioningRecord({ jobId, app, at: new Date(Date.now() - 3_600_000) })]);
    const conversations = ["conv-two-burst-a", "conv-two-burst-b"];
    await say(one, conversations[0]!, "subscribe");
    await say(two, conversations[1]!, "subscribe");
    const spec = { jobId, app, action: "disable" as const, end: new Date() };
    const cardsIn = (id: string, method: string) => teams.calls.filter((c) => c.method === method && c.path.startsWith(`/v3/conversations/${encodeURIComponent(id)}/activities`) && text(c).includes(app) && text(c).includes("Burst"));
    // Half the burst through each host at once, then both timers, twice, while the queue is consumed.
    const all = burst(30, spec);
    await Promise.all([ingest(one, all.slice(0, 15)), ingest(two, all.slice(15))]);
    await Promise.all([runTimer(one), runTimer(two)]);
    await Promise.all([runTimer(one), runTimer(two)]);
    for (const id of conversations) await until(`the card in ${id}`, () => cardsIn(id, "POST").length >= 1);
    // The burst grows through the other host: the same cards are updated, none posted again.
    await ingest(two, burst(6, { ...spec, firstUser: 500, end: new Date() }));
    await Promise.all([runTimer(one), runTimer(two)]);
    for (const id of conversations) await until(`the update in ${id}`, () => cardsIn(id, "PUT").some((c) => text(c).includes("36")));
    await Promise.all([runTimer(one), runTimer(two)]);
    for (const id of conversations) {
      expect(cardsIn(id, "POST"), id).toHaveLength(1);
      // Every update went to the one card (its activity id in the path).
      expect(new Set(cardsIn(id, "PUT").map((c) => c.path)).size, id).toBe(1);
    }
  });
});
