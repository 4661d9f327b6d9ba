import { decodeJwt, type JWTPayload } from "jose";
import {
  ActivityTypes,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  MessageFactory,
  TurnContext,
  type Activity,
  type ConfigurationBotFrameworkAuthenticationOptions,
} from "botbuilder";

/** What botbuilder's authentication returns (its type lives in a package botbuilder depends on). */
type AuthenticateRequestResult = Awaited<ReturnType<ConfigurationBotFrameworkAuthentication["authenticateRequest"]>>;
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
  /** A refused or unverifiable request: the reason, never the token. */
  refused?(status: 401 | 503, reason: string): void;
}

/**
 * Where the channel's signing keys are published. Production uses botbuilder's defaults (the
 * Bot Framework's); tests point it at a loopback issuer with keys of its own (loopback only).
 */
export interface TokenIssuerOverride {
  openIdMetadataUrl: string;
  issuer: string;
}

export function authOptions(auth: BotAuth, issuer?: TokenIssuerOverride): ConfigurationBotFrameworkAuthenticationOptions {
  const override = issuer ? { ToBotFromChannelOpenIdMetadataUrl: issuer.openIdMetadataUrl, ToBotFromChannelTokenIssuer: issuer.issuer } : {};
  return { ...authOptionsOf(auth), ...override } as ConfigurationBotFrameworkAuthenticationOptions;
}

function authOptionsOf(auth: BotAuth): ConfigurationBotFrameworkAuthenticationOptions {
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

/** CloudAdapter, with its turn entry point reachable once the request is authenticated here. */
class EndpointAdapter extends CloudAdapter {
  run(auth: AuthenticateRequestResult, activity: Activity, logic: (context: TurnContext) => Promise<void>) {
    return this.processActivity(auth, activity, logic);
  }
}

/** Every authentication failure answers the same: nothing about why reaches the caller. */
export const UNAUTHORIZED = { error: "unauthorized" } as const;

/** The longest a channel token may live (the Bot Framework's last about an hour). */
export const MAX_TOKEN_LIFETIME_S = 24 * 3600;

/**
 * botbuilder accepts a token without `exp`, and one whose `exp` is years away: either would be a
 * key that never expires. Checked on the (not yet verified) claims before botbuilder verifies the
 * signature, issuer and audience; null when the lifetime is acceptable or the token is not a JWT
 * at all (botbuilder refuses that itself).
 */
export function lifetimeProblem(authorization: string, nowMs: number): string | null {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
  if (!token) return null;
  let claims: JWTPayload;
  try {
    claims = decodeJwt(token);
  } catch {
    return null;
  }
  const now = nowMs / 1000;
  if (typeof claims.exp !== "number" || !Number.isFinite(claims.exp)) return "the token has no expiry (exp)";
  const from = typeof claims.iat === "number" ? claims.iat : typeof claims.nbf === "number" ? claims.nbf : now;
  if (claims.exp - Math.min(from, now) > MAX_TOKEN_LIFETIME_S || claims.exp - now > MAX_TOKEN_LIFETIME_S) return "the token lives longer than 24 hours";
  return null;
}

/** The keys could not be fetched (the issuer's metadata or key set is unreachable): try again later. */
function isMetadataFailure(err: unknown): boolean {
  const text = `${(err as Error)?.message ?? ""} ${(err as { cause?: Error })?.cause?.message ?? ""}`;
  return /openid|metadata|failed to load (keys|openid)|fetch failed|ECONNREFUSED|ENOTFOUND|ETIMEDOUT|socket hang up|EAI_AGAIN/i.test(text);
}

export function createBotEndpoint(auth: BotAuth, handler: ChatHandler, logger: BotLogger, options: { issuer?: TokenIssuerOverride } = {}): BotEndpoint {
  if (options.issuer && (!isLoopbackUrl(options.issuer.openIdMetadataUrl) || !isLoopbackUrl(options.issuer.issuer))) throw new Error("a token issuer override is for tests on loopback only");
  const botAuth = new ConfigurationBotFrameworkAuthentication(authOptions(auth, options.issuer));
  const adapter = new EndpointAdapter(botAuth);
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
      for (const reply of replies) {
        // In place of the card whose button was pressed, when asked and possible; else a new message.
        if (reply.kind === "card" && reply.replace && activity.replyToId) {
          try {
            await context.updateActivity({ ...toActivity(reply), id: activity.replyToId });
            continue;
          } catch (err) {
            logger.error("could not update the pressed card in place; sending the answer as a new message", err);
          }
        }
        await context.sendActivity(toActivity(reply));
      }
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

  return async (req): Promise<BotHttpResponse> => {
    if (req.method.toUpperCase() !== "POST") return { status: 405, headers: { allow: "POST" } };
    const body = req.body as Partial<Activity> | undefined;
    if (!body || typeof body !== "object" || typeof body.type !== "string") {
      return { status: 400, headers: {}, body: { error: "expected a Bot Framework activity (JSON object with a type)" } };
    }
    if (auth.mode === "none" && !isLoopbackUrl(body.serviceUrl)) {
      // Without authentication the bot would post to any serviceUrl it is given: allow only loopback.
      return { status: 403, headers: {}, body: { error: "authentication is off (local host); only loopback serviceUrl values are accepted" } };
    }
    // Authenticate before anything else, and answer failures without detail: a fixed 401, or 503
    // when the keys could not be fetched (logged, so that an outage is seen).
    const header = req.headers["authorization"] ?? req.headers["Authorization"] ?? "";
    if (auth.mode !== "none") {
      const lifetime = lifetimeProblem(header, Date.now());
      if (lifetime) {
        logger.refused?.(401, lifetime);
        return { status: 401, headers: {}, body: UNAUTHORIZED };
      }
    }
    let identity: AuthenticateRequestResult;
    try {
      identity = await botAuth.authenticateRequest(body as Activity, header);
    } catch (err) {
      if (isMetadataFailure(err)) {
        logger.refused?.(503, "the token issuer's keys could not be fetched");
        logger.error("bot authentication could not fetch the token issuer's keys", err);
        return { status: 503, headers: { "retry-after": "5" }, body: { error: "authentication is unavailable; try again" } };
      }
      logger.refused?.(401, err instanceof Error ? err.message.split("\n")[0]!.slice(0, 120) : "unauthorized");
      return { status: 401, headers: {}, body: UNAUTHORIZED };
    }
    const invoke = await adapter.run(identity, body as Activity, logic);
    return invoke ? { status: invoke.status, headers: {}, body: invoke.body } : { status: 200, headers: {} };
  };
}
