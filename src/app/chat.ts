import type { ChatUser, ConversationTarget } from "../core/conversation";
import { helpViewModel } from "../core/help";

/**
 * The conversation use case, independent of any bot SDK: a message in, replies out.
 * The Bot Framework adapter (src/adapters/botframework) translates activities to and from this.
 */
export interface IncomingMessage {
  /** Text with any @mention of the bot already removed. */
  text: string;
  /** Card action payload (Action.Submit / Action.Execute data), if any. */
  value?: Record<string, unknown>;
  target: ConversationTarget;
  from: ChatUser;
}

export type Reply = { kind: "text"; text: string } | { kind: "card"; card: "help"; viewModel: object };

export interface ChatDeps {
  version: string;
}

export interface ChatHandler {
  onMessage(message: IncomingMessage): Promise<Reply[]>;
}

export function normaliseText(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

export function createChatHandler(deps: ChatDeps): ChatHandler {
  return {
    async onMessage(message) {
      const fromAction = typeof message.value?.["text"] === "string" ? (message.value["text"] as string) : "";
      const text = normaliseText(message.text || fromAction);
      if (text === "" || /^(help|\?|hi|hello|start|commands?)\b/i.test(text)) {
        return [{ kind: "card", card: "help", viewModel: helpViewModel(deps.version) }];
      }
      return [{ kind: "card", card: "help", viewModel: helpViewModel(deps.version, text) }];
    },
  };
}
