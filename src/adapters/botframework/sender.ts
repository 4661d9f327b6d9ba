import { CloudAdapter, ConfigurationBotFrameworkAuthentication, MessageFactory, type ConversationParameters, type ConversationReference, type TurnContext } from "botbuilder";
import type { BotAuth } from "../../config";
import type { ConversationTarget } from "../../core/conversation";
import { SlidingWindowLimiter, TEAMS_BOT_LIMITS, TEAMS_CONVERSATION_LIMITS } from "../../core/alerts/rateLimit";
import type { Reply } from "../../app/chat";
import type { AlertSender, SendResult } from "../../app/alertPorts";
import { AsyncLocalStorage } from "node:async_hooks";
import { backOff } from "exponential-backoff";
import { renderCard } from "../cards/render";
import { authOptions } from "./endpoint";

/**
 * Proactive sends through botbuilder's continueConversationAsync, with the real ConnectorClient.
 * The SDK's own HTTP pipeline would retry 429 and 5xx inside the call (and sleep for any
 * Retry-After, however long); here the transport reports those as they are, so the send step can
 * decide: wait for a short Retry-After, back off on 5xx and timeouts, retire the target on 403/404,
 * and always return a result value.
 */
class ConnectorFailure extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly retryAfter: string | null,
  ) {
    super(status ? `connector answered ${status}` : `connector unreachable: ${detail}`);
    this.name = "ConnectorFailure";
  }
}

interface LegacyHeaders {
  toJson(options?: { preserveCase?: boolean }): Record<string, string>;
}
interface LegacyRequest {
  url: string;
  method: string;
  headers: LegacyHeaders;
  body?: unknown;
}

function headersLike(h: Headers) {
  const all: Record<string, string> = {};
  h.forEach((v, k) => (all[k] = v));
  return {
    toJson: () => ({ ...all }),
    get: (name: string) => all[name.toLowerCase()],
    contains: (name: string) => name.toLowerCase() in all,
    set: (name: string, value: string) => void (all[name.toLowerCase()] = String(value)),
    remove: (name: string) => delete all[name.toLowerCase()],
    rawHeaders: () => ({ ...all }),
    headersArray: () => Object.entries(all).map(([name, value]) => ({ name, value })),
    headerNames: () => Object.keys(all),
    headerValues: () => Object.values(all),
    clone: () => headersLike(h),
  };
}

/**
 * The post a call belongs to: its deadline travels with it through botbuilder's calls (the SDK
 * offers no per-call signal), so a call never outlives the post that made it.
 */
interface PostContext {
  signal: AbortSignal;
  limitMs: number;
}
const currentPost = new AsyncLocalStorage<PostContext>();

/** Transport for the ConnectorClient: one attempt per call, a timeout, statuses passed up as they are. */
class OneShotHttpClient {
  constructor(private readonly timeoutMs: number) {}
  async sendRequest(req: LegacyRequest) {
    const post = currentPost.getStore();
    const attempt = AbortSignal.timeout(this.timeoutMs);
    const signal = post ? AbortSignal.any([attempt, post.signal]) : attempt;
    const silence = () => (post?.signal.aborted ? `no answer within the post's limit of ${post.limitMs} ms` : `no answer within ${this.timeoutMs} ms`);
    let res: Response;
    let text: string;
    try {
      res = await fetch(req.url, {
        method: req.method,
        headers: req.headers.toJson({ preserveCase: true }),
        body: typeof req.body === "string" ? req.body : req.body === undefined || req.body === null ? undefined : JSON.stringify(req.body),
        signal,
      });
      text = await res.text();
    } catch (err) {
      const name = (err as Error).name;
      throw new ConnectorFailure(0, name === "TimeoutError" || name === "AbortError" ? silence() : (err as Error).message, null);
    }
    if (res.status === 429 || res.status >= 500) throw new ConnectorFailure(res.status, text.slice(0, 300), res.headers.get("retry-after"));
    return { request: req, status: res.status, headers: headersLike(res.headers), bodyAsText: text };
  }
}

/** Retry-After is seconds or an HTTP date. */
export function retryAfterMs(value: string | null, now = Date.now()): number {
  if (!value) return 1_000;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : 1_000;
}

export function classify(err: unknown): SendResult {
  if (err instanceof ConnectorFailure) {
    if (err.status === 429) return { kind: "throttled", retryAfterMs: retryAfterMs(err.retryAfter), reason: "429 Too Many Requests" };
    return { kind: "transient", reason: err.status ? `${err.status} ${err.detail}`.trim() : err.detail };
  }
  const status = (err as { statusCode?: number }).statusCode ?? 0;
  const reason = (err as Error).message ?? String(err);
  if (status === 403 || status === 404) return { kind: "gone", status, reason };
  if (status === 429) return { kind: "throttled", retryAfterMs: 1_000, reason };
  if (status >= 500 || status === 0) return { kind: "transient", reason };
  return { kind: "fatal", status, reason };
}

const MAX_LIMIT_WAIT_MS = 10_000;
const INLINE_RETRY_AFTER_MS = 10_000;

/**
 * The most one post (a new card or an update, its retries included) may take. A conversation whose
 * Teams does not answer within it is left pending for the timer; the post gives up its place so
 * no other conversation's card waits behind it.
 */
export const POST_TIME_LIMIT_MS = 20_000;

export interface SenderOptions {
  /** One HTTP call to the connector. */
  timeoutMs?: number;
  /** One post, every attempt and wait included (POST_TIME_LIMIT_MS). */
  postTimeLimitMs?: number;
  attempts?: number;
  startingDelayMs?: number;
}

export function createAlertSender(auth: BotAuth, options: SenderOptions = {}): AlertSender {
  const adapter = new CloudAdapter(
    new ConfigurationBotFrameworkAuthentication(authOptions(auth), undefined, undefined, undefined, {
      httpClient: new OneShotHttpClient(options.timeoutMs ?? 15_000) as never,
    }),
  );
  const appId = auth.mode === "none" ? "" : auth.appId;
  const perConversation = new SlidingWindowLimiter(TEAMS_CONVERSATION_LIMITS);
  const perBot = new SlidingWindowLimiter(TEAMS_BOT_LIMITS);
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const postLimitMs = options.postTimeLimitMs ?? POST_TIME_LIMIT_MS;

  const reference = (t: ConversationTarget): ConversationReference =>
    ({
      channelId: "msteams",
      serviceUrl: t.serviceUrl,
      conversation: { id: t.conversationId, tenantId: t.tenantId, conversationType: t.conversationType, isGroup: t.conversationType !== "personal", name: "" },
      bot: { id: appId ? `28:${appId}` : "provbot", name: "provbot" },
    }) as ConversationReference;

  const activityOf = (message: Reply) => {
    if (message.kind === "text") return MessageFactory.text(message.text);
    const card = renderCard(message.card, message.viewModel);
    return MessageFactory.attachment({ contentType: card.contentType, content: card.content });
  };

  async function once(target: ConversationTarget, work: (context: TurnContext) => Promise<string>): Promise<SendResult> {
    // Short waits happen here; a conversation at its hourly limit is handed back to the timer.
    const wait = await perConversation.acquire(target.conversationId, Date.now, sleep, MAX_LIMIT_WAIT_MS);
    if (wait > 0) return { kind: "throttled", retryAfterMs: wait, reason: "Teams per-conversation message limit" };
    await perBot.acquire("bot", Date.now, sleep);
    const post = currentPost.getStore();
    if (post?.signal.aborted) return { kind: "transient", reason: `no answer within the post's limit of ${post.limitMs} ms` };
    try {
      let id = "";
      await adapter.continueConversationAsync(appId, reference(target), async (context) => {
        id = await work(context);
      });
      return { kind: "ok", activityId: id };
    } catch (err) {
      return classify(err);
    }
  }

  /** One post: its attempts and waits share one deadline; past it, the post answers "transient". */
  const retrying = (fn: () => Promise<SendResult>) => {
    const post: PostContext = { signal: AbortSignal.timeout(postLimitMs), limitMs: postLimitMs };
    const givenUp = new Promise<SendResult>((resolve) =>
      post.signal.addEventListener("abort", () => resolve({ kind: "transient", reason: `no answer within the post's limit of ${postLimitMs} ms` }), { once: true }),
    );
    // A backoff or a rate-limit wait still running at the limit ends there; an attempt it would
    // start later sees the aborted signal in once() and posts nothing.
    return Promise.race([currentPost.run(post, () => withSendRetries(fn, { attempts: options.attempts, startingDelayMs: options.startingDelayMs, signal: post.signal })), givenUp]);
  };

  /** The Bot Framework creates the 1:1 conversation (or returns the existing one) and we post in it. */
  async function personal(userId: string, target: ConversationTarget, message: Reply): Promise<SendResult> {
    try {
      let id = "";
      const parameters = {
        isGroup: false,
        bot: { id: appId ? `28:${appId}` : "provbot", name: "provbot" },
        members: [{ id: userId, name: "" }],
        tenantId: target.tenantId,
        channelData: { tenant: { id: target.tenantId } },
      } as unknown as ConversationParameters;
      await adapter.createConversationAsync(appId, "msteams", target.serviceUrl, "https://api.botframework.com", parameters, async (context) => {
        id = (await context.sendActivity(activityOf(message)))?.id ?? "";
      });
      return { kind: "ok", activityId: id };
    } catch (err) {
      return classify(err);
    }
  }

  return {
    sendPersonal: personal,
    send: (target, message) => retrying(() => once(target, async (context) => (await context.sendActivity(activityOf(message)))?.id ?? "")),
    update: (target, activityId, message) =>
      retrying(() =>
        once(target, async (context) => {
          await context.updateActivity({ ...activityOf(message), id: activityId });
          return activityId;
        }),
      ),
  };
}

/**
 * Retries one send while the result says it may succeed soon: 5xx and timeouts with exponential
 * backoff, 429 after its Retry-After when that is short. Used by the Bot Framework sender.
 */
export async function withSendRetries(send: () => Promise<SendResult>, options: { attempts?: number; startingDelayMs?: number; sleep?: (ms: number) => Promise<void>; signal?: AbortSignal } = {}): Promise<SendResult> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const over = () => options.signal?.aborted === true;
  let last: SendResult | null = null;
  try {
    return await backOff(
      async () => {
        last = await send();
        if (last.kind === "throttled" || last.kind === "transient") throw last;
        return last;
      },
      {
        numOfAttempts: options.attempts ?? 4,
        startingDelay: options.startingDelayMs ?? 250,
        timeMultiple: 2,
        maxDelay: 8_000,
        jitter: "full",
        retry: async (e: SendResult) => {
          // Past the post's time limit nothing more is tried (the backoff's own wait is cut short too).
          if (over()) return false;
          if (e.kind !== "throttled") return true;
          if (e.retryAfterMs > INLINE_RETRY_AFTER_MS) return false;
          await sleep(e.retryAfterMs);
          return true;
        },
      },
    );
  } catch (e) {
    return (last ?? (e as SendResult)) as SendResult;
  }
}
