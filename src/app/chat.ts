import type { ChatUser, ConversationTarget } from "../core/conversation";
import type { CardName } from "../core/ask/views";
import { answerQuestion, type AnswerDeps } from "./answer";

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

export type Reply = { kind: "text"; text: string } | { kind: "card"; card: CardName; viewModel: object };

export interface ChatHandler {
  onMessage(message: IncomingMessage): Promise<Reply[]>;
}

export function normaliseText(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

export function createChatHandler(deps: AnswerDeps): ChatHandler {
  return {
    async onMessage(message) {
      const fromAction = typeof message.value?.["text"] === "string" ? (message.value["text"] as string) : "";
      const text = normaliseText(message.text || fromAction);
      const page = Number(message.value?.["page"] ?? 1);
      const answer = await answerQuestion(text, deps, { page: Number.isInteger(page) && page > 0 ? page : 1 });
      return [{ kind: "card", card: answer.card, viewModel: answer.viewModel }];
    },
  };
}
