import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, AZURITE_CONNECTION_STRING } from "../../src/config";
import { tenantAllowed, tenantList } from "../../src/core/access";
import { createChatHandler } from "../../src/app/chat";
import { ingestItems } from "../../src/app/ingest";
import { ConversationRegistry } from "../../src/app/alerts";
import type { ConversationTarget } from "../../src/core/conversation";
import { MemoryStore } from "../support/memoryStore";
import { provisioningRecord } from "../support/records";

/** Issue 13, first step: only the tenants provbot serves may talk to it, and only their records are stored. */
const storage = { AzureWebJobsStorage: AZURITE_CONNECTION_STRING(10002) };
const A = "11111111-1111-1111-1111-111111111111";
const B = "22222222-2222-2222-2222-222222222222";
const bot = { MicrosoftAppId: "app", MicrosoftAppType: "SingleTenant", MicrosoftAppTenantId: A.toUpperCase(), MicrosoftAppPassword: "pw", PROVBOT_GRAPH_MANAGED_IDENTITY: "true" };

describe("the allowed tenants", () => {
  it("default to the bot registration's tenant, can be listed, and are every tenant only on the unauthenticated local host", () => {
    expect(loadConfig({ ...storage, ...bot }).allowedTenants).toEqual([A]);
    expect(loadConfig({ ...storage, ...bot, PROVBOT_ALLOWED_TENANTS: `${A}, ${B}` }).allowedTenants).toEqual([A, B]);
    expect(loadConfig({ ...storage, PROVBOT_LOCAL_HOST: "1" }).allowedTenants).toBeNull();
    expect(loadConfig({ ...storage, PROVBOT_LOCAL_HOST: "1", PROVBOT_ALLOWED_TENANTS: B }).allowedTenants).toEqual([B]);
    expect(() => loadConfig({ ...storage, ...bot, PROVBOT_ALLOWED_TENANTS: "contoso.com" })).toThrow(ConfigError);
    expect(tenantAllowed(tenantList([A]), A.toUpperCase())).toBe(true);
    expect(tenantAllowed(tenantList([A]), B)).toBe(false);
    expect(tenantAllowed(tenantList([A]), "")).toBe(false);
    expect(tenantAllowed(null, B)).toBe(true);
  });

  it("a message or an install from another tenant gets a refusal that reveals nothing, and nothing is stored or answered", async () => {
    const store = new MemoryStore();
    const targets = new Map<string, ConversationTarget>();
    const conversations = new ConversationRegistry({ store: { touch: async (t) => void targets.set(t.conversationId, t), remove: async (id) => void targets.delete(id) }, clock: { now: () => new Date() } });
    const refused: { tenantId: string; userObjectId: string; reason: string }[] = [];
    const chat = createChatHandler({ version: "t", store, now: () => new Date(), tenants: tenantList([A]), conversations, refused: (e) => refused.push(e) });
    const outside: ConversationTarget = { conversationId: "conv-b", serviceUrl: "http://127.0.0.1:1/", tenantId: B, conversationType: "personal" };
    const replies = [...(await chat.onConversationEvent("installed", outside)), ...(await chat.onMessage({ text: "why did alice fail in ServiceNow?", target: outside, from: { id: "u", name: "Eve", aadObjectId: "aad-eve" } }))];
    expect(replies).toHaveLength(2);
    for (const r of replies) {
      const text = JSON.stringify(r);
      expect(text).toContain("provbot is not available here");
      expect(text).not.toMatch(/alice|ServiceNow|not found/i);
    }
    expect(targets.size).toBe(0);
    expect(refused).toEqual([
      { tenantId: B, userObjectId: "", reason: expect.stringContaining("tenant not allowed") },
      { tenantId: B, userObjectId: "aad-eve", reason: expect.stringContaining("tenant not allowed") },
    ]);
    // The same question from the allowed tenant is answered.
    const [answer] = await chat.onMessage({ text: "help", target: { ...outside, tenantId: A }, from: { id: "u", name: "Ada" } });
    expect(JSON.stringify(answer)).not.toContain("provbot is not available here");
  });

  it("records of another tenant are rejected with the reason; records without a tenant id are the deployment's own", async () => {
    const store = new MemoryStore();
    const at = new Date(Date.now() - 600_000);
    const ours = { ...provisioningRecord({ jobId: "Job.a", app: "A", at, user: 1 }), tenantId: A };
    const theirs: Record<string, unknown> = { ...provisioningRecord({ jobId: "Job.b", app: "TenantB Secret App", at, user: 2 }), tenantId: B };
    const none = { ...provisioningRecord({ jobId: "Job.a", app: "A", at, user: 3 }), tenantId: "" };
    const report = await ingestItems([ours, theirs, none].map((record, index) => ({ index, record })), "test", { store, deadLetters: { put: async () => "dl-1" }, tenants: tenantList([A]) });
    expect(report.accepted).toBe(2);
    expect(report.rejected).toEqual([{ index: 1, reason: `tenantId ${B} is not a tenant provbot serves (PROVBOT_ALLOWED_TENANTS)` }]);
    expect(await store.getByChangeId(String(theirs["changeId"]))).toEqual([]);
  });
});
