import { describe, expect, it } from "vitest";
import { createChatHandler } from "../../src/app/chat";
import { loadConfig } from "../../src/config";
import { ingestItems } from "../../src/app/ingest";
import type { ConversationTarget } from "../../src/core/conversation";
import { MemoryStore } from "../support/memoryStore";
import { provisioningRecord } from "../support/records";

/**
 * Issue 13: data is scoped by tenant. A conversation in tenant A never answers with tenant B's
 * people, apps, counts or changes; the same questions in tenant B do (the positive control).
 */
const A = "aaaaaaaa-0000-0000-0000-000000000001";
const B = "bbbbbbbb-0000-0000-0000-000000000002";

async function twoTenants() {
  const store = new MemoryStore();
  const at = new Date(Date.now() - 3_600_000);
  const inTenant = (tenantId: string, r: Record<string, unknown>, upn?: string, name?: string) => {
    const rec = { ...r, tenantId } as unknown as Record<string, unknown> & { sourceIdentity: { displayName: string; details: Record<string, string> } };
    if (upn) rec.sourceIdentity = { ...rec.sourceIdentity, displayName: name ?? rec.sourceIdentity.displayName, details: { UserPrincipalName: upn } };
    return rec;
  };
  const ours = [1, 2, 3].map((u) => inTenant(A, provisioningRecord({ jobId: "ServiceNowOutDelta.a", app: "ServiceNow", at, user: u, status: "failure" })));
  const secret = inTenant(B, provisioningRecord({ jobId: "SecretOutDelta.b", app: "TenantB Secret App", at, user: 9, status: "failure", errorCode: "SecretAppOnlyCode" }), "alice.zhang@tenant-b.example", "Alice Zhang");
  const report = await ingestItems([...ours, secret].map((record, index) => ({ index, record })), "test", { store, deadLetters: { put: async () => "dl" } });
  expect(report.accepted).toBe(4);
  return { store, secret };
}

const target = (tenantId: string): ConversationTarget => ({ conversationId: `conv-${tenantId.slice(0, 4)}`, serviceUrl: "http://127.0.0.1:1/", tenantId, conversationType: "personal" });
const ask = async (chat: ReturnType<typeof createChatHandler>, tenantId: string, text: string) => JSON.stringify(await chat.onMessage({ text, target: target(tenantId), from: { id: "u", name: "Ada" } }));

describe("tenant scoping of answers", () => {
  it("tenant A's conversation sees none of tenant B's people, apps, counts or changes; tenant B's does", async () => {
    const { store, secret } = await twoTenants();
    const chat = createChatHandler({ version: "t", store, now: () => new Date(), tenantScoped: true });
    const leaks = /Alice Zhang|alice\.zhang|TenantB Secret App|SecretAppOnlyCode/;

    // Asked about tenant B's person: the same answer as for someone who does not exist (the
    // question is echoed back, nothing else is).
    for (const who of ["alice.zhang@tenant-b.example", "Alice Zhang"]) {
      const answer = await ask(chat, A, `what happened to ${who}`);
      const nobody = await ask(chat, A, `what happened to ${who.replace(/lice/gi, "nnie")}`);
      expect(answer.replaceAll(who, "X")).toBe(nobody.replaceAll(who.replace(/lice/gi, "nnie"), "X"));
    }
    for (const q of ["failures in TenantB Secret App", "how many failures today", "top errors this week", String(secret["changeId"])]) {
      expect((await ask(chat, A, q)).replaceAll(q, ""), q).not.toMatch(leaks);
    }
    // The counts of tenant A are its own three failures, not four.
    expect(await ask(chat, A, "how many failures today")).toMatch(/"title":"(About )?3: events · Failure"/);
    expect(await ask(chat, B, "how many failures today")).toMatch(/"title":"(About )?1: events · Failure"/);
    // Tenant B sees its own.
    expect(await ask(chat, B, String(secret["changeId"]))).toMatch(/Alice Zhang|alice\.zhang/);
    expect(await ask(chat, B, "failures in TenantB Secret App")).toContain("SecretAppOnlyCode");
  });

  it("without scoping (the local demo, no tenant rule) every tenant is answered, as before", async () => {
    const { store, secret } = await twoTenants();
    const chat = createChatHandler({ version: "t", store, now: () => new Date() });
    expect(await ask(chat, A, String(secret["changeId"]))).toMatch(/Alice Zhang|alice\.zhang/);
  });

  it("a provider's conversation tenant reads the data tenants granted to it (PROVBOT_TENANT_GRANTS), and not the other way round", async () => {
    const { store, secret } = await twoTenants();
    const chat = createChatHandler({ version: "t", store, now: () => new Date(), tenantScoped: true, tenantGrants: { [A]: [B] } });
    expect(await ask(chat, A, String(secret["changeId"]))).toMatch(/Alice Zhang|alice\.zhang/);
    expect(await ask(chat, A, "how many failures today")).toMatch(/"title":"(About )?4: events · Failure"/);
    expect(await ask(chat, B, "how many failures today")).toMatch(/"title":"(About )?1: events · Failure"/);
    const cfg = loadConfig({ AzureWebJobsStorage: "UseDevelopmentStorage=true", PROVBOT_LOCAL_HOST: "1", PROVBOT_TENANT_GRANTS: `${A.toUpperCase()}=${B}` });
    expect(cfg.tenantGrants).toEqual({ [A]: [B] });
    expect(() => loadConfig({ AzureWebJobsStorage: "UseDevelopmentStorage=true", PROVBOT_LOCAL_HOST: "1", PROVBOT_TENANT_GRANTS: "contoso=fabrikam" })).toThrow();
  });
});
