import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBotEndpoint, UNAUTHORIZED, type BotEndpoint } from "../../src/adapters/botframework/endpoint";
import { startBotIssuer, type BotIssuer } from "../support/botIssuer";
import { messageActivity, startCaptureConnector, type CaptureConnector } from "../support/connector";

/**
 * Issue 13, the bot's own door: botbuilder validates the Bot Framework token against a loopback
 * issuer with keys of its own (test configuration only). A good token passes; every forgery gets
 * the same 401 with a fixed body; keys that cannot be fetched get 503.
 */
const APP_ID = "9f1c2d3e-0000-4000-8000-00000000b07a";
const TENANT = "7e57a2b1-0000-4000-8000-0000000a11ce";
const PASSWORD = "app-password-not-a-secret";
let issuer: BotIssuer;
let teams: CaptureConnector;
let bot: BotEndpoint;
const refusals: { status: number; reason: string }[] = [];
const errors: string[] = [];
let answered = 0;

beforeAll(async () => {
  teams = await startCaptureConnector();
  issuer = await startBotIssuer(APP_ID, teams.url);
  bot = createBotEndpoint(
    { mode: "SingleTenant", appId: APP_ID, tenantId: TENANT, password: PASSWORD },
    { onMessage: async () => (answered++, [{ kind: "text", text: "hello" }]), onConversationEvent: async () => [] },
    { error: (m) => errors.push(m), refused: (status, reason) => refusals.push({ status, reason }) },
    { issuer: { openIdMetadataUrl: issuer.metadataUrl, issuer: issuer.issuer } },
  );
});
afterAll(async () => {
  await issuer?.close();
  await teams?.close();
});

const activity = (serviceUrl = teams.url) => messageActivity("help", serviceUrl, { channelId: "msteams", recipient: { id: `28:${APP_ID}`, name: "provbot" } });
const call = (authorization: string | null, body = activity()) => bot({ method: "POST", headers: authorization === null ? {} : { authorization }, body });

describe("the bot's own door", () => {
  it("a token from the channel's issuer, for this bot, passes (the positive control)", async () => {
    const before = answered;
    const res = await call(`Bearer ${issuer.token()}`);
    expect(res.status).toBe(200);
    expect(answered).toBe(before + 1);
  });

  const forgeries: [string, () => string | null][] = [
    ["no Authorization header", () => null],
    ["a garbage token", () => "Bearer garbage"],
    ["not a Bearer token", () => `Basic ${Buffer.from("a:b").toString("base64")}`],
    ["alg none", () => {
      const [h, p] = issuer.token().split(".");
      const none = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(h!, "base64url").toString()), alg: "none" })).toString("base64url");
      return `Bearer ${none}.${p}.`;
    }],
    ["HS256 signed with the app password", () => `Bearer ${issuer.hs256(PASSWORD)}`],
    ["HS256 signed with the published public key", () => `Bearer ${issuer.hs256(issuer.publicPem)}`],
    ["a wrong audience", () => `Bearer ${issuer.token({ aud: "another-bot" })}`],
    ["no audience", () => `Bearer ${issuer.token({ aud: undefined })}`],
    ["a wrong issuer", () => `Bearer ${issuer.token({ iss: "https://evil.example/issuer" })}`],
    ["a token without exp", () => `Bearer ${issuer.token({ exp: undefined })}`],
    ["a token whose exp is ten years away", () => `Bearer ${issuer.token({ exp: Math.floor(Date.now() / 1000) + 10 * 365 * 86_400 })}`],
    ["a token that lives two days (iat a day ago, exp a day ahead)", () => `Bearer ${issuer.token({ iat: Math.floor(Date.now() / 1000) - 86_000, nbf: Math.floor(Date.now() / 1000) - 86_000, exp: Math.floor(Date.now() / 1000) + 86_000 })}`],
    ["an exp that is not a number", () => `Bearer ${issuer.token({ exp: "never" })}`],
    ["an expired token", () => `Bearer ${issuer.token({ exp: Math.floor(Date.now() / 1000) - 3600, nbf: Math.floor(Date.now() / 1000) - 7200 })}`],
    ["a future nbf", () => `Bearer ${issuer.token({ nbf: Math.floor(Date.now() / 1000) + 3600 })}`],
    ["an unknown key id", () => `Bearer ${issuer.token({}, { kid: "no-such-key" })}`],
    ["a foreign key under the known key id", () => `Bearer ${issuer.token({}, {}, issuer.foreignKey)}`],
    ["a stripped signature", () => `Bearer ${issuer.token().split(".").slice(0, 2).join(".")}.`],
    ["a tampered payload", () => {
      const [h, , s] = issuer.token().split(".");
      const p = Buffer.from(JSON.stringify({ iss: issuer.issuer, aud: APP_ID, serviceurl: teams.url, exp: Math.floor(Date.now() / 1000) + 9999, admin: true })).toString("base64url");
      return `Bearer ${h}.${p}.${s}`;
    }],
  ];

  for (const [name, token] of forgeries) {
    it(`refuses ${name} with 401 and a fixed body`, async () => {
      const before = answered;
      const res = await call(token());
      expect(res.status).toBe(401);
      expect(res.body).toEqual(UNAUTHORIZED);
      expect(answered).toBe(before);
    });
  }

  it("refuses a serviceUrl that does not match the token's claim", async () => {
    const res = await call(`Bearer ${issuer.token()}`, activity("http://127.0.0.1:9/elsewhere/"));
    expect(res.status).toBe(401);
    expect(res.body).toEqual(UNAUTHORIZED);
  });

  it("answers 503 and logs it when the issuer's keys cannot be fetched", async () => {
    // A fresh endpoint (botbuilder caches the keys it has fetched) against an issuer that is down.
    const down = await startBotIssuer(APP_ID, teams.url);
    down.down = true;
    const seen: number[] = [];
    const cold = createBotEndpoint({ mode: "SingleTenant", appId: APP_ID, tenantId: TENANT, password: PASSWORD }, { onMessage: async () => [], onConversationEvent: async () => [] }, { error: () => undefined, refused: (status) => seen.push(status) }, { issuer: { openIdMetadataUrl: down.metadataUrl, issuer: down.issuer } });
    try {
      const res = await cold({ method: "POST", headers: { authorization: `Bearer ${down.token()}` }, body: activity() });
      expect(res.status).toBe(503);
      expect(JSON.stringify(res.body)).not.toMatch(/127\.0\.0\.1|openid|metadata/i);
      expect(seen).toEqual([503]);
    } finally {
      await down.close();
    }
  });

  it("logs every refusal with a reason and never the token", () => {
    expect(refusals.filter((r) => r.status === 401).length).toBeGreaterThanOrEqual(forgeries.length + 1);
    for (const r of refusals) expect(r.reason).not.toMatch(/eyJ/);
  });
});
