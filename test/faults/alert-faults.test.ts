import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { randomBytes } from "node:crypto";
import { startHostProcess, type HostProcess } from "../support/stack";
import { messageActivity, startCaptureConnector, type CaptureConnector } from "../support/connector";
import { burst } from "../support/records";
import { restartable, until, type Restartable } from "./support";

/**
 * The alert outbox under faults, through the built host: Azurite's queue service stopped while a
 * burst is evaluated (the incident is stored, the notification fails; nothing is lost: the timer
 * delivers it once the queue is back), and queue delivery resuming on its own afterwards.
 */
let queue: Restartable;
let host: HostProcess;
let teams: CaptureConnector;
const prefix = `qf${randomBytes(3).toString("hex")}`;

beforeAll(async () => {
  queue = await restartable("queue");
  teams = await startCaptureConnector();
  host = await startHostProcess(inject("azurite").port, { PROVBOT_TABLE_PREFIX: prefix }, queue.port);
  const res = await fetch(`${host.url}/api/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(messageActivity("subscribe", teams.url, { conversation: { id: "conv-outbox", conversationType: "personal", tenantId: "tenant-1" } })) });
  expect(res.status).toBe(200);
  await teams.waitForCalls(1);
});
afterAll(async () => {
  await host?.stop();
  await queue?.stop();
  await teams?.close();
});

const ingest = async (records: Record<string, unknown>[]) => {
  const res = await fetch(`${host.url}/api/ingest`, { method: "POST", headers: { "content-type": "application/json", "x-functions-key": host.functionKey }, body: JSON.stringify(records) });
  expect(res.status).toBe(200);
  return (await res.json()) as { accepted: number };
};
const cards = (app: string) => teams.calls.filter((c) => c.method === "POST" && JSON.stringify(c.body ?? {}).includes(app) && JSON.stringify(c.body ?? {}).includes("Burst of disables"));

describe("the alert outbox under faults", () => {
  it("queue service stopped while a burst is evaluated: the ingest still answers, and the card is posted once the queue is back", async () => {
    await queue.stop();
    const app = "Outbox App One";
    const started = Date.now();
    expect((await ingest(burst(25, { jobId: `outbox-1-${prefix}`, app, action: "disable", end: new Date() }))).accepted).toBe(25);
    // The ingest did not wait for the queue (two quick tries), and nothing reached Teams.
    expect(Date.now() - started).toBeLessThan(15_000);
    await until("the failed notification in the host log", () => /alert\.outbox\.unavailable/.test(host.output()));
    expect(cards(app)).toHaveLength(0);
    await queue.start();
    // The safety net: the alerts timer delivers every active incident (run now, as the host would within a minute).
    const res = await fetch(`${host.url}/admin/functions/alertsTimer`, { method: "POST", headers: { "x-functions-key": host.functionKey } });
    expect(res.status).toBe(202);
    await until("the card", () => cards(app).length === 1);
    // And only once, however often the timer runs.
    await fetch(`${host.url}/admin/functions/alertsTimer`, { method: "POST", headers: { "x-functions-key": host.functionKey } });
    await until("the second timer run", () => (host.output().match(/\[alertsTimer\] admin run succeeded/g) ?? []).length >= 2);
    expect(cards(app)).toHaveLength(1);
  });

  it("with the queue back, the queue trigger delivers again on its own", async () => {
    const app = "Outbox App Two";
    expect((await ingest(burst(25, { jobId: `outbox-2-${prefix}`, app, action: "disable", end: new Date() }))).accepted).toBe(25);
    await until("the card through the queue", () => cards(app).length === 1);
    // Posted by the queue trigger (the timer is off in tests), which then reports the message done.
    await until("the queue message handled", () => /alert\.outbox\.done \{"incidentId":"removalBurst\|outbox-2-/.test(host.output()));
    expect(host.output()).toMatch(/\[alertsSend\] information: alert\.send \{"incidentId":"removalBurst\|outbox-2-/);
  });
});
