import type { ChatUser, ConversationTarget } from "../core/conversation";
import type { Answer } from "../core/ask/views";
import { parseAlertCommand, type AlertCommand } from "../core/alerts/subscriptions";
import { info, type ActionOffer, type CardAction } from "../core/ask/views";
import { parseActionCommand } from "../core/actions";
import { CHECK_FAILED_TEXT, NO_ACCESS_TEXT, NO_ACCESS_TITLE, REFUSED_TEXT, REFUSED_TITLE, tenantAllowed, type Access, type TenantList } from "../core/access";
import { storeFor } from "./scope";
import { forShared } from "../core/privacy";
import { answerQuestion, answerStoredEvent, tooLong, type AnswerDeps } from "./answer";

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

/** `replace`: the card takes the place of the card whose button was pressed (a confirmation answered), when the channel allows. */
export type Reply = { kind: "text"; text: string } | ({ kind: "card"; replace?: boolean } & Pick<Answer, "card" | "viewModel">);

export type ConversationEvent = "installed" | "uninstalled";

export interface ChatHandler {
  onMessage(message: IncomingMessage): Promise<Reply[]>;
  /** The app was added to or removed from a chat or team (not an upgrade). */
  onConversationEvent(event: ConversationEvent, target: ConversationTarget): Promise<Reply[]>;
}

/** Where to reach each conversation (ConversationRegistry): kept whether alerts are on or off. */
export interface Conversations {
  installed(target: ConversationTarget): Promise<void>;
  /** A message arrived: refresh the target (cheaply). */
  seen(target: ConversationTarget): Promise<void>;
  uninstalled(target: ConversationTarget): Promise<void>;
}

/** The alert commands and card actions (AlertCommandHandler); absent when alerts are off. */
export interface AlertCommands {
  command(cmd: AlertCommand, target: ConversationTarget, from: ChatUser, access?: Access): Promise<Answer>;
  action(data: Record<string, unknown>, target: ConversationTarget, from: ChatUser, access?: Access): Promise<Answer | null>;
}

/** Actions on provisioning jobs (app/actions.ts JobActions); absent when PROVBOT_ACTIONS is off. */
export interface ActionCommands {
  text(text: string, target: ConversationTarget, from: ChatUser): Promise<Answer | null>;
  value(value: Record<string, unknown>, target: ConversationTarget, from: ChatUser): Promise<Answer | null>;
  buttons(offer: ActionOffer, from: ChatUser): Promise<CardAction[]>;
}

export interface ChatDeps extends AnswerDeps {
  /** Tenants that may use the bot (null: every tenant, the local demo only). */
  tenants?: TenantList;
  /** A refusal, logged with object ids and the reason only. */
  refused?: (entry: { tenantId: string; userObjectId: string; reason: string }) => void;
  conversations?: Conversations;
  /** A conversation reads only its own tenant's data, and any granted to it (src/app/scope.ts). */
  tenantScoped?: boolean;
  tenantGrants?: Readonly<Record<string, string[]>>;
  /** Posts to a user's personal chat with the bot (the Details button of shared cards). */
  personal?: (userId: string, target: ConversationTarget, reply: Reply) => Promise<boolean>;
  /** Who may ask (src/app/access.ts); absent: everyone in the allowed tenants. */
  access?: { decide(userObjectId: string): Promise<Access> };
  alerts?: AlertCommands;
  actions?: ActionCommands;
  log?: (message: string, err?: unknown) => void;
}

export function normaliseText(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

const card = (a: Answer): Reply => ({ kind: "card", card: a.card, viewModel: a.viewModel });
/** In a channel or group chat every member sees the card: no UPNs in it (src/core/privacy.ts). */
const scrubbed = <A extends Answer>(a: A): A => ({ ...a, viewModel: forShared(a.viewModel) });
const cardFor = (target: ConversationTarget, a: Answer): Reply => (target.conversationType === "personal" ? card(a) : card(scrubbed(a)));

export const ACTIONS_OFF = "Actions on provisioning jobs (provision on demand, restart, pause, start, allow deletes) are turned off in this deployment. Use the Microsoft Entra admin center, or ask the administrator who installed provbot about PROVBOT_ACTIONS.";

export function createChatHandler(deps: ChatDeps): ChatHandler {
  /** An answer's job actions become buttons only in a personal chat, and only for someone who may act. */
  const withActionButtons = async (answer: Answer, message: IncomingMessage): Promise<Answer> => {
    if (!deps.actions || !answer.offer || message.target.conversationType !== "personal") return answer;
    const vm = answer.viewModel as { actions?: CardAction[] };
    if (!Array.isArray(vm.actions)) return answer;
    const extra = await deps.actions.buttons(answer.offer, message.from).catch((err: unknown) => (deps.log?.("could not check who may act", err), []));
    return extra.length ? ({ ...answer, viewModel: { ...answer.viewModel, actions: [...extra, ...vm.actions].slice(0, 6) } } as Answer) : answer;
  };
  const refusal = card(info(REFUSED_TITLE, REFUSED_TEXT));
  const outsider = (target: ConversationTarget, userObjectId: string): boolean => {
    if (tenantAllowed(deps.tenants ?? null, target.tenantId)) return false;
    deps.refused?.({ tenantId: target.tenantId, userObjectId, reason: "tenant not allowed (PROVBOT_ALLOWED_TENANTS)" });
    return true;
  };
  return {
    async onMessage(message) {
      // Before anything is read or stored: another organisation gets the refusal and nothing else.
      if (outsider(message.target, message.from.aadObjectId ?? "")) return [refusal];
      // Then the person, for every way in: questions, commands and card actions alike (an action is
      // checked again, never trusted because a card was shown).
      const access: Access = deps.access ? await deps.access.decide(message.from.aadObjectId ?? "") : { kind: "all", thresholds: true, why: "no access rule" };
      if (access.kind === "refused" || access.kind === "unavailable") {
        deps.refused?.({ tenantId: message.target.tenantId, userObjectId: message.from.aadObjectId ?? "", reason: access.reason });
        return [card(access.kind === "refused" ? info(NO_ACCESS_TITLE, NO_ACCESS_TEXT) : info("Access not checked", CHECK_FAILED_TEXT))];
      }
      const fromAction = typeof message.value?.["text"] === "string" ? (message.value["text"] as string) : "";
      const text = normaliseText(message.text || fromAction);
      const long = tooLong(text, deps.maxQuestionChars);
      if (long) return [card(long)];
      // Every message refreshes where to reach this conversation; answering must not depend on it.
      await deps.conversations?.seen(message.target).catch((err) => deps.log?.("could not refresh the conversation target", err));
      // Actions on a job (issue 26): a button press, or a command typed. Off: said, never misread as a question.
      if (message.value?.["jobAction"]) {
        if (!deps.actions) return [card(info("Actions are off", ACTIONS_OFF))];
        const answer = await deps.actions.value(message.value, message.target, message.from);
        // A confirmation answered replaces itself: its buttons are gone, and the result stands where it was.
        const op = (message.value["jobAction"] as { op?: unknown }).op;
        if (answer) return [{ ...card(answer), ...(op === "confirm" || op === "cancel" ? { replace: true } : {}) }];
      } else if (deps.actions) {
        const answer = await deps.actions.text(text, message.target, message.from);
        if (answer) return [card(answer)];
      } else if (parseActionCommand(text)) return [card(info("Actions are off", ACTIONS_OFF))];
      if (deps.alerts) {
        const alert = message.value?.["alert"];
        if (alert && typeof alert === "object") {
          const answer = await deps.alerts.action(alert as Record<string, unknown>, message.target, message.from, access);
          return answer ? [card(answer)] : [];
        }
        const cmd = parseAlertCommand(text);
        if (cmd) return [card(await deps.alerts.command(cmd, message.target, message.from, access))];
      }
      const answering = { ...deps, store: storeFor(deps.store, deps.tenantScoped === true, message.target.tenantId, access, deps.tenantGrants), audience: message.target.conversationType === "personal" ? ("personal" as const) : ("shared" as const) };
      const details = message.value?.["details"];
      // A button's payload is data from outside: a changeId is short; anything else is not a Details press.
      if (typeof details === "string" && details && details.length <= 200) {
        // The full card, checked for this person (the access check above), to their personal chat only.
        const full = await answerQuestion(details, { ...answering, audience: "personal" });
        const sent = message.target.conversationType !== "personal" && deps.personal ? await deps.personal(message.from.id, message.target, card(full)).catch(() => false) : false;
        if (message.target.conversationType === "personal") return [card(full)];
        return [card(sent ? info("Sent to your personal chat", "provbot sent you the full details in your personal chat.") : info("Not sent", "provbot could not open a personal chat with you: add provbot for yourself, then paste the change ID there."))];
      }
      const open = message.value?.["open"] as { pk?: unknown; rk?: unknown } | undefined;
      if (open && typeof open === "object" && typeof open.pk === "string" && typeof open.rk === "string") return [cardFor(message.target, await answerStoredEvent(open.pk, open.rk, answering))];
      const page = Number(message.value?.["page"] ?? 1);
      const answer = await answerQuestion(text, answering, { page: Number.isInteger(page) && page > 0 ? page : 1 });
      return [cardFor(message.target, await withActionButtons(answer, message))];
    },
    async onConversationEvent(event, target) {
      if (event === "installed" && outsider(target, "")) return [refusal];
      if (event === "uninstalled") {
        await deps.conversations?.uninstalled(target);
        return [];
      }
      await deps.conversations?.installed(target);
      const where = target.conversationType === "personal" ? "this chat" : target.conversationType === "channel" ? "this channel" : "this group chat";
      const help = { title: "Help", data: { text: "help" } };
      if (!deps.alerts) return [card(info("provbot is here", `Ask about Entra ID provisioning in plain English in ${where} (type "help").`, [], [help]))];
      return [
        card(
          info("provbot is here", `Ask about Entra ID provisioning in plain English (type "help"), or type "subscribe" to get alerts about failure spikes, bursts of disables/deletes and silent jobs in ${where}.`, [], [
            { title: "Subscribe to alerts", data: { text: "subscribe" } },
            help,
          ]),
        ),
      ];
    },
  };
}
