import type { ConversationTarget } from "../../core/conversation";
import type { Clock } from "../ports";
import type { AlertLog, ConversationStore } from "../alertPorts";

/**
 * Where to reach each conversation the bot is in (in the spirit of Company Communicator's data
 * capture): stored when the app is installed and refreshed by every message, removed when the app
 * is uninstalled or Teams says the conversation is gone (403/404 on a send). It runs whether
 * alerts are on or off, so switching alerts on later reaches every conversation already known.
 */
const SEEN_CACHE_MS = 10 * 60_000;

export class ConversationRegistry {
  private readonly seenTargets = new Map<string, { at: number; key: string }>();
  constructor(private readonly deps: { store: ConversationStore; clock: Clock; log?: AlertLog }) {}

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  async installed(target: ConversationTarget): Promise<void> {
    await this.deps.store.touch(target, this.now());
    this.seenTargets.set(target.conversationId, { at: Date.parse(this.now()), key: JSON.stringify(target) });
  }

  /**
   * Every message refreshes where to reach its conversation, but a target this process wrote
   * unchanged within SEEN_CACHE_MS is not written again (one Table write per message otherwise).
   */
  async seen(target: ConversationTarget): Promise<void> {
    const known = this.seenTargets.get(target.conversationId);
    if (known && known.key === JSON.stringify(target) && Date.parse(this.now()) - known.at < SEEN_CACHE_MS) return;
    await this.installed(target);
  }

  async uninstalled(target: ConversationTarget): Promise<void> {
    this.seenTargets.delete(target.conversationId);
    await this.deps.store.remove(target.conversationId);
    this.deps.log?.({ event: "conversation.removed", conversationId: target.conversationId });
  }
}
