import { describe, expect, it } from "vitest";
import { createChatHandler } from "../../src/app/chat";
import { ingestItems } from "../../src/app/ingest";
import type { ConversationTarget, ConversationType } from "../../src/core/conversation";
import { scrubIds } from "../../src/core/privacy";
import { MemoryStore } from "../support/memoryStore";
import { provisioningRecord } from "../support/records";

/** Issue 13: in channels and group chats everyone sees the card, so it carries no UPNs, ids, values or raw reasons. */
async function setup() {
  const store = new MemoryStore();
  const record = provisioningRecord({ jobId: "ServiceNowOutDelta.p", app: "ServiceNow", at: new Date(Date.now() - 600_000), user: 42, status: "failure" });
  record["modifiedProperties"] = [{ displayName: "department", oldValue: "Payroll-Secret", newValue: "Finance-Secret" }];
  (record["provisioningStatusInfo"] as { errorInformation: { reason: string } }).errorInformation.reason = "StatusCode: BadRequest Message: user42@contoso.com rejected: raw-reason-marker";
  await ingestItems([{ index: 0, record }], "test", { store, deadLetters: { put: async () => "dl" } });
  const chat = createChatHandler({ version: "t", store, now: () => new Date() });
  return { chat, changeId: String(record["changeId"]) };
}

const target = (conversationType: ConversationType): ConversationTarget => ({ conversationId: `conv-${conversationType}`, serviceUrl: "http://127.0.0.1:1/", tenantId: "t", conversationType });

describe("what shared conversations see", () => {
  it("a channel and a group chat get names, actions, statuses, codes and steps; a personal chat also gets UPNs, ids, values and the raw reason", async () => {
    const { chat, changeId } = await setup();
    const ask = async (type: ConversationType, text: string) => JSON.stringify(await chat.onMessage({ text, target: target(type), from: { id: "u", name: "Ada" } }));
    const personal = await ask("personal", changeId);
    for (const secret of ["user42@contoso.com", "obj-42", "Payroll-Secret", "Finance-Secret", "raw-reason-marker"]) expect(personal).toContain(secret);
    for (const type of ["channel", "groupChat"] as const) {
      for (const q of [changeId, "why did User 42 fail in ServiceNow?", "failures in ServiceNow today", "what happened to User 42"]) {
        const shared = await ask(type, q);
        for (const secret of ["user42@contoso.com", "obj-42", "Payroll-Secret", "Finance-Secret", "raw-reason-marker"]) expect(shared, `${type}: ${q}`).not.toContain(secret);
      }
      const detail = await ask(type, changeId);
      expect(detail).toContain("User 42");
      expect(detail).toContain("Failure");
      expect(detail).toContain("department");
      expect(detail).toContain("personal chat");
    }
  });

  it("scrubs email-like identifiers and object ids from free text", () => {
    expect(scrubIds("export of Jane.O'Neil+x@sub.contoso.co.uk for 1f2e3d4c-0000-4000-8000-00000000abcd failed")).toBe("export of (hidden here) for (hidden here) failed");
  });
});
