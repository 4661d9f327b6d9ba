import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBotEndpoint } from "../../src/adapters/botframework/endpoint";
import { createAlertSender } from "../../src/adapters/botframework/sender";
import { createChatHandler } from "../../src/app/chat";
import { ingestItems } from "../../src/app/ingest";
import { MemoryStore } from "../support/memoryStore";
import { provisioningRecord } from "../support/records";
import { messageActivity, startCaptureConnector, type CaptureConnector } from "../support/connector";

/**
 * Issue 13: a shared card's Details button sends the full card to the person who pressed it, in
 * their personal chat with the bot (created through the real ConnectorClient), after their rights
 * are checked; the channel only hears that it was sent.
 */
let teams: CaptureConnector;
beforeAll(async () => {
  teams = await startCaptureConnector();
});
afterAll(async () => teams?.close());

describe("Details from a shared card", () => {
  it("sends the full card to the presser's personal chat and tells the channel only that", async () => {
    const store = new MemoryStore();
    const record = provisioningRecord({ jobId: "WorkdayToAD.d", app: "Workday", at: new Date(Date.now() - 600_000), user: 77, status: "failure" });
    await ingestItems([{ index: 0, record }], "test", { store, deadLetters: { put: async () => "dl" } });
    const sender = createAlertSender({ mode: "none" }, { startingDelayMs: 20, timeoutMs: 3_000 });
    let allowed = true;
    const chat = createChatHandler({
      version: "t",
      store,
      now: () => new Date(),
      personal: async (userId, target, reply) => (await sender.sendPersonal!(userId, target, reply)).kind === "ok",
      access: { decide: async () => (allowed ? { kind: "all", thresholds: false, why: "test" } : { kind: "refused", reason: "test" }) },
    });
    const bot = createBotEndpoint({ mode: "none" }, chat, { error: () => undefined });
    const channel = { conversation: { id: "19:shared@thread.tacv2", conversationType: "channel", tenantId: "tenant-1" } };
    const say = async (text: string, value?: Record<string, unknown>) => {
      const before = teams.calls.length;
      const res = await bot({ method: "POST", headers: {}, body: messageActivity(text, teams.url, { ...channel, ...(value ? { value } : {}) }) });
      expect(res.status).toBe(200);
      return teams.calls.slice(before);
    };
    const [shown] = await say(String(record["changeId"]));
    const card = JSON.stringify(shown!.body);
    expect(card).not.toContain("user77@contoso.com");
    const details = (shown!.body!["attachments"] as { content: { actions: { title: string; data: Record<string, unknown> }[] } }[])[0]!.content.actions.find((a) => a.title.startsWith("Details"))!;
    expect(details.data).toMatchObject({ details: record["changeId"] });

    const calls = await say("details", details.data);
    const created = calls.find((c) => c.method === "POST" && c.path === "/v3/conversations");
    expect(created?.body).toMatchObject({ isGroup: false, members: [{ id: "user-1" }], tenantId: "tenant-1" });
    const personal = calls.find((c) => c.path.startsWith("/v3/conversations/") && !c.path.includes("shared"));
    expect(JSON.stringify(personal?.body)).toContain("user77@contoso.com");
    const inChannel = calls.filter((c) => c.path.includes(encodeURIComponent("19:shared@thread.tacv2")));
    expect(inChannel).toHaveLength(1);
    expect(JSON.stringify(inChannel[0]!.body)).toContain("Sent to your personal chat");
    expect(JSON.stringify(inChannel[0]!.body)).not.toContain("user77@contoso.com");

    // Pressed by someone without the right: refused, and nothing is sent anywhere else.
    allowed = false;
    const refused = await say("details", details.data);
    expect(refused).toHaveLength(1);
    expect(JSON.stringify(refused[0]!.body)).toContain("You need access to provisioning logs");
  });
});
