import {
  ActivityTypes,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  MessageFactory,
  TurnContext,
  type Activity,
  type ConfigurationBotFrameworkAuthenticationOptions,
  type Response as BotResponseWriter,
} from "botbuilder";
import type { BotAuth } from "../../config";
import type { ChatHandler, Reply } from "../../app/chat";
import { conversationTypeFrom, type ConversationTarget } from "../../core/conversation";
import { renderCard } from "../cards/render";

/**
 * Everything that knows about the Bot Framework lives in this folder. The rest of the code sees
 * an HTTP-shaped endpoint ({headers, body} -> {status, body}) and, later, a proactive sender.
 */
export interface BotHttpRequest {
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface BotHttpResponse {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

export type BotEndpoint = (req: BotHttpRequest) => Promise<BotHttpResponse>;

export interface BotLogger {
  error(message: string, err?: unknown): void;
}

export function authOptions(auth: BotAuth): ConfigurationBotFrameworkAuthenticationOptions {
  switch (auth.mode) {
    case "none":
      return {};
    case "SingleTenant":
      return {
        MicrosoftAppId: auth.appId,
        MicrosoftAppPassword: auth.password,
        MicrosoftAppType: "SingleTenant",
        MicrosoftAppTenantId: auth.tenantId,
      };
    case "UserAssignedMSI":
      return { MicrosoftAppId: auth.appId, MicrosoftAppType: "UserAssignedMSI", MicrosoftAppTenantId: auth.tenantId };
  }
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

export function isLoopbackUrl(raw: string | undefined): boolean {
  if (!raw) return false;
  try {
    const host = new URL(raw).hostname.toLowerCase();
    return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

export function targetOf(activity: Partial<Activity>): ConversationTarget {
  const channelData = (activity.channelData ?? {}) as { tenant?: { id?: string } };
  return {
    conversationId: activity.conversation?.id ?? "",
    serviceUrl: activity.serviceUrl ?? "",
    tenantId: activity.conversation?.tenantId ?? channelData.tenant?.id ?? "",
    conversationType: conversationTypeFrom(activity.conversation?.conversationType),
  };
}

function toActivity(reply: Reply): Partial<Activity> {
  if (reply.kind === "text") return MessageFactory.text(reply.text);
  const card = renderCard(reply.card, reply.viewModel);
  return MessageFactory.attachment({ contentType: card.contentType, content: card.content });
}

/**
 * Install and uninstall, as Teams reports them: installationUpdate add/remove in every scope (an
 * upgrade is neither); the bot removed from a conversation, or the team deleted, also uninstall.
 * (Teams also sends conversationUpdate membersAdded on install; greeting on both would greet twice.)
 */
export function lifecycleEvent(activity: Partial<Activity>): "installed" | "uninstalled" | null {
  if (activity.type === ActivityTypes.InstallationUpdate) {
    if (activity.action === "add") return "installed";
    if (activity.action === "remove") return "uninstalled";
    return null;
  }
  if (activity.type === ActivityTypes.ConversationUpdate) {
    const eventType = (activity.channelData as { eventType?: string } | undefined)?.eventType;
    if (eventType === "teamDeleted") return "uninstalled";
    const bot = activity.recipient?.id;
    if (bot && activity.membersRemoved?.some((m) => m.id === bot)) return "uninstalled";
  }
  return null;
}

/** Collects what CloudAdapter writes into a plain response value. */
class ResponseCollector implements BotResponseWriter {
  socket: unknown = null;
  statusCode = 200;
  headers: Record<string, string> = {};
  body: unknown = undefined;
  status(code: number): unknown {
    this.statusCode = code;
    return this;
  }
  header(name: string, value: unknown): unknown {
    this.headers[name.toLowerCase()] = String(value);
    return this;
  }
  send(body?: unknown): unknown {
    if (body !== undefined) this.body = body;
    return this;
  }
  end(): unknown {
    return this;
  }
}

export function createBotEndpoint(auth: BotAuth, handler: ChatHandler, logger: BotLogger): BotEndpoint {
  const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication(authOptions(auth)));
  adapter.onTurnError = async (context, error) => {
    logger.error(`turn failed for conversation ${context.activity.conversation?.id ?? "?"}`, error);
    try {
      await context.sendActivity("Sorry, something went wrong while answering. The error was logged; please try again.");
    } catch (sendError) {
      logger.error("could not send the error message", sendError);
    }
  };

  async function logic(context: TurnContext): Promise<void> {
    const activity = context.activity;
    if (activity.type === ActivityTypes.Message) {
      const text = TurnContext.removeRecipientMention(activity) ?? activity.text ?? "";
      const replies = await handler.onMessage({
        text,
        value: (activity.value ?? undefined) as Record<string, unknown> | undefined,
        target: targetOf(activity),
        from: { id: activity.from?.id ?? "", name: activity.from?.name ?? "", aadObjectId: activity.from?.aadObjectId },
      });
      for (const reply of replies) await context.sendActivity(toActivity(reply));
      return;
    }
    const lifecycle = lifecycleEvent(activity);
    if (lifecycle) {
      const replies = await handler.onConversationEvent(lifecycle, targetOf(activity));
      for (const reply of replies) await context.sendActivity(toActivity(reply));
      return;
    }
    if (activity.type === ActivityTypes.Invoke && activity.name === "adaptiveCard/action") {
      const data = ((activity.value as { action?: { data?: Record<string, unknown> } } | undefined)?.action?.data ?? {}) as Record<
        string,
        unknown
      >;
      const replies = await handler.onMessage({
        text: typeof data["text"] === "string" ? data["text"] : "",
        value: data,
        target: targetOf(activity),
        from: { id: activity.from?.id ?? "", name: activity.from?.name ?? "", aadObjectId: activity.from?.aadObjectId },
      });
      const card = replies.find((r) => r.kind === "card");
      const body = card
        ? { statusCode: 200, type: "application/vnd.microsoft.card.adaptive", value: renderCard(card.card, card.viewModel).content }
        : { statusCode: 200, type: "application/vnd.microsoft.activity.message", value: replies[0]?.kind === "text" ? replies[0].text : "" };
      await context.sendActivity({ type: ActivityTypes.InvokeResponse, value: { status: 200, body } });
      return;
    }
    if (activity.type === ActivityTypes.Invoke) {
      await context.sendActivity({ type: ActivityTypes.InvokeResponse, value: { status: 200 } });
    }
  }

  return async (req) => {
    if (req.method.toUpperCase() !== "POST") return { status: 405, headers: { allow: "POST" } };
    const body = req.body as Partial<Activity> | undefined;
    if (!body || typeof body !== "object" || typeof body.type !== "string") {
      return { status: 400, headers: {}, body: { error: "expected a Bot Framework activity (JSON object with a type)" } };
    }
    if (auth.mode === "none" && !isLoopbackUrl(body.serviceUrl)) {
      // Without authentication the bot would post to any serviceUrl it is given: allow only loopback.
      return { status: 403, headers: {}, body: { error: "authentication is off (local host); only loopback serviceUrl values are accepted" } };
    }
    const res = new ResponseCollector();
    await adapter.process({ method: "POST", headers: req.headers, body: body as Record<string, unknown> }, res, logic);
    return { status: res.statusCode, headers: res.headers, body: res.body };
  };
}
