import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBotEndpoint, isLoopbackUrl } from "../../src/adapters/botframework/endpoint";
import { createChatHandler } from "../../src/app/chat";
import { messageActivity, startCaptureConnector, type CaptureConnector } from "../support/connector";
import { testTables } from "../support/tables";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableQueryStore } from "../../src/adapters/tables/queryStore";

let connector: CaptureConnector;
const errors: string[] = [];
const { factory } = testTables();
const query = new TableQueryStore(new TableEventStore(factory));
const chatDeps = (version: string) => ({ version, store: query, now: () => new Date("2026-11-22T12:00:00Z") });
const bot = createBotEndpoint({ mode: "none" }, createChatHandler(chatDeps("9.9.9")), { error: (m) => errors.push(m) });

beforeAll(async () => {
  connector = await startCaptureConnector();
});
afterAll(async () => connector?.close());

type Card = { body: { text?: string; items?: unknown[] }[] };
const cardOf = (call: { body: Record<string, unknown> | null }) =>
  ((call.body?.["attachments"] as { content: Card }[] | undefined)?.[0]?.content ?? null) as Card | null;
const bodyTexts = (card: Card | null) => JSON.stringify(card);

describe("bot endpoint (botbuilder CloudAdapter, no auth on loopback)", () => {
  it("replies to help with the help card through the connector", async () => {
    const before = connector.calls.length;
    const res = await bot({ method: "POST", headers: {}, body: messageActivity("help", connector.url) });
    expect(res.status).toBe(200);
    const calls = await connector.waitForCalls(before + 1);
    const reply = calls[before]!;
    expect(reply.path).toMatch(/^\/v3\/conversations\/conv-1\/activities\/incoming-\d+$/);
    const card = cardOf(reply);
    expect(card?.body[0]?.text).toBe("provbot: Entra ID provisioning, answered in chat");
    expect(bodyTexts(card)).toContain("provbot 9.9.9");
    expect(bodyTexts(card)).not.toContain("I did not understand");
  });

  it("strips the @mention in a channel before reading the text", async () => {
    const before = connector.calls.length;
    const activity = messageActivity("<at>provbot</at> help", connector.url, {
      conversation: { id: "19:channel@thread.tacv2", conversationType: "channel", tenantId: "tenant-1" },
      entities: [{ type: "mention", text: "<at>provbot</at>", mentioned: { id: "bot-1", name: "provbot" } }],
    });
    await bot({ method: "POST", headers: {}, body: activity });
    const calls = await connector.waitForCalls(before + 1);
    expect(bodyTexts(cardOf(calls[before]!))).not.toContain("I did not understand");
  });

  it("answers anything it does not understand with help that quotes the question", async () => {
    const before = connector.calls.length;
    await bot({ method: "POST", headers: {}, body: messageActivity("make me a sandwich", connector.url) });
    const calls = await connector.waitForCalls(before + 1);
    expect(bodyTexts(cardOf(calls[before]!))).toContain('I did not understand \\"make me a sandwich\\"');
  });

  it("returns invoke responses (Action.Execute) in the HTTP response body", async () => {
    const before = connector.calls.length;
    const res = await bot({
      method: "POST",
      headers: {},
      body: { ...messageActivity("", connector.url), type: "invoke", name: "adaptiveCard/action", value: { action: { type: "Action.Execute", data: { text: "help" } } } },
    });
    expect(res.status).toBe(200);
    const body = res.body as { statusCode: number; type: string; value: Card };
    expect(body.statusCode).toBe(200);
    expect(body.type).toBe("application/vnd.microsoft.card.adaptive");
    expect(body.value.body[0]?.text).toBe("provbot: Entra ID provisioning, answered in chat");
    expect(connector.calls.length).toBe(before);
  });

  it("refuses non-loopback service URLs while authentication is off", async () => {
    const res = await bot({ method: "POST", headers: {}, body: messageActivity("help", "https://smba.trafficmanager.net/emea/") });
    expect(res.status).toBe(403);
  });

  it("rejects a body that is not an activity", async () => {
    expect((await bot({ method: "POST", headers: {}, body: { hello: 1 } })).status).toBe(400);
    expect((await bot({ method: "GET", headers: {}, body: undefined })).status).toBe(405);
  });

  it("with a SingleTenant registration, rejects a request without a Bot Framework token", async () => {
    const secured = createBotEndpoint(
      { mode: "SingleTenant", appId: "00000000-0000-0000-0000-000000000001", tenantId: "tenant-1", password: "secret" },
      createChatHandler(chatDeps("1")),
      { error: () => undefined },
    );
    const before = connector.calls.length;
    const res = await secured({ method: "POST", headers: {}, body: messageActivity("help", connector.url) });
    expect(res.status).toBe(401);
    expect(connector.calls.length).toBe(before);
  });

  it.each([
    ["http://127.0.0.1:5000/", true],
    ["http://localhost/", true],
    ["http://[::1]:80/", true],
    ["https://smba.trafficmanager.net/", false],
    ["http://10.0.0.1/", false],
    ["not a url", false],
  ])("isLoopbackUrl(%s) = %s", (url, expected) => {
    expect(isLoopbackUrl(url)).toBe(expected);
  });
});
