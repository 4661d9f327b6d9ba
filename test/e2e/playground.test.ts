import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { cardOf, PlaygroundClient, startHostProcess, startPlaygroundProcess, type HostProcess, type PlaygroundProcess } from "../support/stack";
import { messageActivity, startCaptureConnector, type CaptureConnector } from "../support/connector";
import { generateDemo } from "../../src/core/demo/generator";
import { postDemo } from "../../scripts/demo";

/**
 * End to end through the real pieces: the built local Functions host (plain Node) on Azurite,
 * the Microsoft 365 Agents Playground as the Teams-like client, driven over its HTTP/WebSocket API.
 */
let host: HostProcess;
let playground: PlaygroundProcess;
let client: PlaygroundClient;

const NOW = new Date();
const demo = [...generateDemo({ now: NOW, days: 2, perCycle: 2 })];

beforeAll(async () => {
  host = await startHostProcess(inject("azurite").port, { PROVBOT_TABLE_PREFIX: "pg" });
  const loaded = await postDemo(host.url, host.functionKey, { now: NOW, days: 2, perCycle: 2 });
  expect(loaded.rejected).toBe(0);
  playground = await startPlaygroundProcess(host.url);
  client = await PlaygroundClient.connect(playground.url);
});

afterAll(async () => {
  client?.close();
  await playground?.stop();
  await host?.stop();
});

describe("the bot through the Agents Playground", () => {
  it("answers a typed help with the help card", async () => {
    const reply = await client.ask(playground.conversationId, "help");
    const card = cardOf(reply);
    expect(card?.["type"]).toBe("AdaptiveCard");
    const json = JSON.stringify(card);
    expect(json).toContain("provbot: Entra ID provisioning, answered in chat");
    expect(json).toContain("Why did something fail or get skipped");
    expect(json).not.toContain("${");
  });

  it("why did alice fail in ServiceNow? -> the event card with steps, error and remedy", async () => {
    const card = JSON.stringify(cardOf(await client.ask(playground.conversationId, "why did alice fail in ServiceNow?")));
    expect(card).toMatch(/Alice Zhang: (create|update) in ServiceNow · Failure/);
    expect(card).toContain("Troubleshooting & recommendations");
    expect(card).toMatch(/Step \d · export · EntryExport(Add|Update) · Failure/);
    // The demo's records carry the app's ids as real ones do, so the admin center link is there (issue 25, item 12).
    expect(card).toMatch(/"title":"Open in Entra admin center","url":"https:\/\/entra\.microsoft\.com\/[^"]*\/appId\/[0-9a-f-]{36}\/objectId\/[0-9a-f-]{36}"/);
    // And Microsoft's page for the error code (issue 25, item 15).
    expect(card).toMatch(/"title":"Learn more about this error","url":"https:\/\/learn\.microsoft\.com\//);
  });

  it("a pasted changeId -> that event", async () => {
    const record = demo.find((r) => (r["provisioningStatusInfo"] as { status: string }).status === "skipped")!;
    const card = JSON.stringify(cardOf(await client.ask(playground.conversationId, String(record["changeId"]))));
    expect(card).toContain(String(record["changeId"]));
    expect(card).toContain("Skipped");
  });

  it("a list question -> rows newest first, and More round-trips through the bot", async () => {
    const reply = await client.ask(playground.conversationId, "what users were removed from Adobe this week?");
    const card = cardOf(reply) as { body: unknown[]; actions: { title: string; data: Record<string, unknown> }[] };
    const json = JSON.stringify(card);
    expect(json).toContain("Adobe Identity Management");
    expect(json).toContain("Disable · Success");
    const more = card.actions.find((a) => a.title === "More");
    expect(more?.data["page"]).toBe(2);
    const page2 = await client.submit(playground.conversationId, reply.messageId, more!.data);
    expect(JSON.stringify(cardOf(page2))).toMatch(/11–20 shown, newest first/);
  });

  it("a statistic -> top errors with what to do", async () => {
    const card = JSON.stringify(cardOf(await client.ask(playground.conversationId, "top errors in ServiceNow this week")));
    expect(card).toContain("Top errors · ServiceNow");
    expect(card).toMatch(/ServiceNowEntryConflict|InsufficientRights/);
    expect(card).toContain("what to do");
  });

  it("answers an unknown question with help, not an error", async () => {
    const reply = await client.ask(playground.conversationId, "what is the airspeed of a swallow");
    expect(JSON.stringify(cardOf(reply))).toContain("I did not understand");
  });
});

describe("the built host", () => {
  let connector: CaptureConnector;
  beforeAll(async () => {
    connector = await startCaptureConnector();
  });
  afterAll(async () => connector?.close());

  it("reports health with storage reachable", async () => {
    const res = await fetch(`${host.url}/api/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; version: string; storage: { reachable: boolean }; uptimeSeconds: number };
    expect(body).toMatchObject({ status: "ok", storage: { reachable: true } });
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("delivers the card reply to the serviceUrl of a posted activity", async () => {
    const res = await fetch(`${host.url}/api/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(messageActivity("help", connector.url)),
    });
    expect(res.status).toBe(200);
    const [call] = await connector.waitForCalls(1);
    expect(call?.method).toBe("POST");
    expect(call?.path).toMatch(/^\/v3\/conversations\/conv-1\/activities\//);
    const attachment = (call?.body?.["attachments"] as { contentType: string }[])[0];
    expect(attachment?.contentType).toBe("application/vnd.microsoft.card.adaptive");
  });

  it("reports storage as unreachable (503) when Table Storage is down", async () => {
    const dead = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:1/devstoreaccount1;";
    const broken = await startHostProcess(inject("azurite").port, { AzureWebJobsStorage: dead });
    try {
      const res = await fetch(`${broken.url}/api/health`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ status: "degraded", storage: { reachable: false } });
    } finally {
      await broken.stop();
    }
  });
});
