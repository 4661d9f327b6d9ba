import { describe, expect, it } from "vitest";
import { createChatHandler } from "../../src/app/chat";
import { ConversationRegistry } from "../../src/app/alerts";
import type { ConversationStore } from "../../src/app/alertPorts";
import type { ConversationTarget } from "../../src/core/conversation";
import { MemoryStore } from "../support/memoryStore";

/** The conversation registry runs whether alerts are on or off (issue 12). */
class RecordingTargets implements ConversationStore {
  readonly rows = new Map<string, ConversationTarget>();
  async touch(target: ConversationTarget): Promise<void> {
    this.rows.set(target.conversationId, target);
  }
  async remove(conversationId: string): Promise<void> {
    this.rows.delete(conversationId);
  }
}

const target: ConversationTarget = { conversationId: "conv-off", serviceUrl: "http://127.0.0.1:1/", tenantId: "t1", conversationType: "groupChat" };

describe("conversations with alerts off", () => {
  it("install stores the target and greets without offering alerts; a message refreshes it; uninstall removes it", async () => {
    const store = new RecordingTargets();
    const conversations = new ConversationRegistry({ store, clock: { now: () => new Date("2026-12-01T10:00:00Z") } });
    const chat = createChatHandler({ version: "t", store: new MemoryStore(), now: () => new Date("2026-12-01T10:00:00Z"), conversations });
    const [greeting] = await chat.onConversationEvent("installed", target);
    expect(store.rows.get("conv-off")).toEqual(target);
    const text = JSON.stringify(greeting);
    expect(text).toContain("provbot is here");
    expect(text).not.toContain("subscribe");
    // Alerts off: "subscribe" is a question like any other, and the target is still refreshed.
    const moved = { ...target, serviceUrl: "http://127.0.0.1:2/" };
    await chat.onMessage({ text: "subscribe", target: moved, from: { id: "u", name: "Ada" } });
    expect(store.rows.get("conv-off")?.serviceUrl).toBe("http://127.0.0.1:2/");
    await chat.onConversationEvent("uninstalled", moved);
    expect(store.rows.has("conv-off")).toBe(false);
  });
});
