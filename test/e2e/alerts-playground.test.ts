import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { cardOf, PlaygroundClient, startHostProcess, startPlaygroundProcess, type HostProcess, type PlaygroundProcess } from "../support/stack";
import { burst, provisioningRecord } from "../support/records";

/**
 * Proactive alerts end to end: the built host on Azurite, the Agents Playground as Teams.
 * Install, subscribe, a disable storm arrives through /api/ingest, the card arrives once, grows in
 * place, and Acknowledge updates it; a job gone quiet alerts when the alerts timer runs.
 */
let host: HostProcess;
let playground: PlaygroundProcess;
let client: PlaygroundClient;

beforeAll(async () => {
  host = await startHostProcess(inject("azurite").port, { PROVBOT_TABLE_PREFIX: `al${Date.now().toString(36)}` });
  playground = await startPlaygroundProcess(host.url, "e2e-alerts");
  client = await PlaygroundClient.connect(playground.url);
});

afterAll(async () => {
  client?.close();
  await playground?.stop();
  await host?.stop();
});

const ingest = async (records: Record<string, unknown>[]) => {
  const res = await fetch(`${host.url}/api/ingest`, { method: "POST", headers: { "content-type": "application/json", "x-functions-key": host.functionKey }, body: JSON.stringify({ value: records }) });
  expect(res.status).toBe(200);
  return (await res.json()) as { accepted: number; duplicates: number };
};
const text = (m: { attachments?: unknown }) => JSON.stringify(cardOf(m as never) ?? null);

describe("proactive alerts in the Playground", () => {
  const jobId = `adobe-e2e-${Date.now()}`;
  const app = "Adobe Identity Management";
  let alertId = "";

  it("install greets the conversation; subscribe confirms", async () => {
    const seen = client.seen;
    await client.install(playground.conversationId);
    const welcome = await client.waitForEvent((a, m) => a === "createMessage" && text(m).includes("provbot is here"), seen);
    expect(text(welcome.message)).toContain("Subscribe to alerts");
    const reply = await client.ask(playground.conversationId, "subscribe");
    expect(text(reply)).toContain("This conversation receives provisioning alerts.");
  });

  it("a disable storm posts one card; more of the storm updates that card", async () => {
    const seen = client.seen;
    const end = new Date();
    expect((await ingest(burst(24, { jobId, app, action: "disable", end, cycleId: "storm" }))).accepted).toBe(24);
    const first = await client.waitForEvent((a, m) => a === "createMessage" && text(m).includes("Burst of disables/deletes"), seen);
    alertId = first.message.messageId;
    expect(text(first.message)).toContain("24 disables/deletes in 30 minutes");

    const more = client.seen;
    await ingest(burst(16, { jobId, app, action: "disable", end: new Date(end.getTime() + 30_000), cycleId: "storm", firstUser: 500 }));
    const updated = await client.waitForEvent((a, m) => a === "updateMessage" && text(m).includes("40 disables/deletes"), more);
    expect(updated.message.messageId).toBe(alertId);
    // Exactly one alert card was created for the storm.
    expect(client.events(seen).filter((e) => e.action === "createMessage" && text(e.message).includes("Burst of disables/deletes"))).toHaveLength(1);
  });

  it("Acknowledge updates the card in place with who acknowledged it", async () => {
    const card = client.events().find((e) => e.message.messageId === alertId)!;
    const actions = (cardOf(card.message) as { actions: { title: string; data: Record<string, unknown> }[] }).actions;
    const seen = client.seen;
    await client.click(playground.conversationId, alertId, actions.find((a) => a.title === "Acknowledge")!.data);
    const acked = await client.waitForEvent((a, m) => a === "updateMessage" && m.messageId === alertId && text(m).includes("Acknowledged by"), seen);
    expect(text(acked.message)).not.toContain('"title":"Acknowledge"');
  });

  it("a job gone quiet alerts when the timer runs", async () => {
    const quietJob = `box-e2e-${Date.now()}`;
    const start = Date.now() - 240 * 60_000;
    // Cycles every 20 minutes, the last one 80 minutes ago: more than 3 usual intervals.
    await ingest(Array.from({ length: 9 }, (_, i) => provisioningRecord({ jobId: quietJob, app: "Box", at: new Date(start + i * 20 * 60_000), cycleId: `q-${i}`, user: i })));
    const seen = client.seen;
    const res = await fetch(`${host.url}/admin/functions/alertsTimer`, { method: "POST", headers: { "x-functions-key": host.functionKey, "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(202);
    const quiet = await client.waitForEvent((a, m) => a === "createMessage" && text(m).includes("Job gone quiet · Box"), seen);
    expect(text(quiet.message)).toContain("every 20 minutes");
  });
});
