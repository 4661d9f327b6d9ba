import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { cardOf, PlaygroundClient, startHostProcess, startPlaygroundProcess, type HostProcess, type PlaygroundProcess } from "../support/stack";
import { messageActivity, startCaptureConnector, type CaptureConnector } from "../support/connector";

/**
 * End to end through the real pieces: the built local Functions host (plain Node) on Azurite,
 * the Microsoft 365 Agents Playground as the Teams-like client, driven over its HTTP/WebSocket API.
 */
let host: HostProcess;
let playground: PlaygroundProcess;
let client: PlaygroundClient;

beforeAll(async () => {
  host = await startHostProcess(inject("azurite").port);
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
