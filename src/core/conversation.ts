/**
 * The slim conversation target every later feature (answers, proactive alerts) talks to.
 * It is all that is stored about a chat; no Bot Framework types leak past the adapter.
 */
export type ConversationType = "personal" | "groupChat" | "channel";

export interface ConversationTarget {
  conversationId: string;
  serviceUrl: string;
  tenantId: string;
  conversationType: ConversationType;
}

export interface ChatUser {
  id: string;
  name: string;
  aadObjectId?: string;
}

export function conversationTypeFrom(raw: string | undefined): ConversationType {
  switch ((raw ?? "").toLowerCase()) {
    case "groupchat":
      return "groupChat";
    case "channel":
      return "channel";
    default:
      return "personal";
  }
}
