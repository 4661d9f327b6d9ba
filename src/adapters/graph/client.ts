import {
  createDefaultHttpClient,
  createEmptyPipeline,
  createHttpHeaders,
  createPipelineRequest,
  defaultRetryPolicy,
  RestError,
  type HttpClient,
  type Pipeline,
  type PipelinePolicy,
} from "@azure/core-rest-pipeline";
import type { TokenCredential } from "@azure/core-auth";
import type { GraphPage, GraphSource } from "../../app/graphPoll";
import type { JobSource } from "../../app/jobStatusPoll";

/**
 * Microsoft Graph, read page by page. Transport concerns come from
 * @azure/core-rest-pipeline: 429/503 wait for Retry-After (throttling policy), 5xx, 408 and
 * network errors back off exponentially; a timed-out request is turned into a retryable
 * system error. Anything else (400, 401, 403, ...) is thrown as a RestError.
 */
export interface GraphClientOptions {
  credential: TokenCredential;
  /** https://graph.microsoft.com/v1.0; plain http only for loopback test servers. */
  baseUrl?: string;
  pageSize?: number;
  timeoutMs?: number;
  maxRetries?: number;
  retryDelayInMs?: number;
  maxRetryDelayInMs?: number;
  httpClient?: HttpClient;
  /** Bounds per run of one collection, whatever Graph sends (defaults: GRAPH_LIMITS). */
  limits?: Partial<GraphLimits>;
}

/**
 * What one read of a collection may cost, whatever Graph sends: pages, wall time, a `Retry-After`
 * worth waiting for, and the bytes of one response. Beyond them the run is cut short (GraphCutShort)
 * and the next timer tries again.
 */
export interface GraphLimits {
  maxPages: number;
  maxRunMs: number;
  maxRetryAfterMs: number;
  maxResponseBytes: number;
}

export const GRAPH_LIMITS: GraphLimits = { maxPages: 2_000, maxRunMs: 8 * 60_000, maxRetryAfterMs: 120_000, maxResponseBytes: 32 * 1024 * 1024 };

/** Why a read of Graph stopped before its end: said in the log and on the health endpoint (app/graphPoll.ts isCutShort). */
export type CutShortReason = "nextlink-origin" | "nextlink-repeated" | "page-cap" | "time-cap" | "retry-after-cap" | "response-too-large";

export class GraphCutShort extends Error {
  readonly cutShort = true;
  constructor(
    readonly reason: CutShortReason,
    detail: string,
  ) {
    super(`Microsoft Graph run cut short (${reason}): ${detail}`);
    this.name = "GraphCutShort";
  }
}

const SCOPE = "https://graph.microsoft.com/.default";

/** The origin the token may be sent to; every request is checked against it before it is signed. */
function authPolicy(credential: TokenCredential, origin: string): PipelinePolicy {
  return {
    name: "provbotGraphAuth",
    async sendRequest(request, next) {
      if (new URL(request.url).origin !== origin) throw new GraphCutShort("nextlink-origin", `a request to ${new URL(request.url).origin} was refused: the token is sent only to ${origin}`);
      const token = await credential.getToken(SCOPE);
      if (!token) throw new RestError("could not get a token for Microsoft Graph", { code: "GraphAuthFailed", request });
      request.headers.set("Authorization", `Bearer ${token.token}`);
      return next(request);
    },
  };
}

/** A request that hit its timeout aborts; report it as ETIMEDOUT so the exponential policy retries it. */
const timeoutAsSystemError: PipelinePolicy = {
  name: "provbotTimeoutAsSystemError",
  async sendRequest(request, next) {
    try {
      return await next(request);
    } catch (err) {
      if (err instanceof Error && err.name === "AbortError" && !request.abortSignal?.aborted) {
        throw new RestError(`Microsoft Graph did not answer within ${request.timeout} ms`, { code: "ETIMEDOUT", request });
      }
      throw err;
    }
  },
};

/** Retry-After in ms as the throttling policy would read it (seconds, an HTTP date, or the -ms headers). */
export function retryAfterMs(headers: { get(name: string): string | undefined }, nowMs: number): number | undefined {
  for (const [name, factor] of [["retry-after-ms", 1], ["x-ms-retry-after-ms", 1], ["retry-after", 1000]] as const) {
    const raw = headers.get(name);
    if (raw === undefined || raw.trim() === "") continue;
    const n = Number(raw);
    if (Number.isFinite(n)) return n * factor;
    if (name === "retry-after") {
      const date = Date.parse(raw);
      if (Number.isFinite(date)) return Math.max(0, date - nowMs);
    }
  }
  return undefined;
}

/**
 * Inside the retry policy, per attempt: a throttled answer that asks for a longer wait than the
 * cap gives up the run (the next timer tries again), so neither a day's sleep nor a wait beyond
 * what a timer can hold (2^31 ms, which fires at once) happens. Every body is read here with a
 * cap, never buffered whole: an error body is kept to 64 KiB (only its code is used).
 */
function boundedResponses(limits: GraphLimits): PipelinePolicy {
  return {
    name: "provbotBoundedResponses",
    async sendRequest(request, next) {
      request.streamResponseStatusCodes = new Set([Number.POSITIVE_INFINITY]);
      const response = await next(request);
      const stream = response.readableStreamBody;
      response.readableStreamBody = undefined;
      if (response.status === 429 || response.status === 503) {
        const wait = retryAfterMs(response.headers, Date.now());
        if (wait !== undefined && wait > limits.maxRetryAfterMs) {
          destroy(stream);
          throw new GraphCutShort("retry-after-cap", `Graph asked to wait ${Math.round(wait / 1000)} s (HTTP ${response.status}); at most ${limits.maxRetryAfterMs / 1000} s is waited in one run`);
        }
      }
      const cap = response.status === 200 ? limits.maxResponseBytes : 64 * 1024;
      const declared = Number(response.headers.get("content-length"));
      if (response.status === 200 && Number.isFinite(declared) && declared > cap) {
        destroy(stream);
        throw new GraphCutShort("response-too-large", `a response of ${declared} bytes was refused (at most ${cap})`);
      }
      response.bodyAsText = stream ? await readCapped(stream, cap, response.status === 200) : "";
      return response;
    },
  };
}

function destroy(stream: NodeJS.ReadableStream | undefined): void {
  (stream as { destroy?: () => void } | undefined)?.destroy?.();
}

async function readCapped(stream: NodeJS.ReadableStream, cap: number, refuseBeyond: boolean): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      if (size + b.length > cap) {
        if (refuseBeyond) throw new GraphCutShort("response-too-large", `a response of more than ${cap} bytes was refused`);
        chunks.push(b.subarray(0, cap - size));
        size = cap;
        break;
      }
      chunks.push(b);
      size += b.length;
    }
  } finally {
    destroy(stream);
  }
  return Buffer.concat(chunks, size).toString("utf8");
}

export function isLoopbackHttp(url: string): boolean {
  const u = new URL(url);
  return u.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname);
}

/** The error code of a Graph error body ({ error: { code } }), never its message (it may echo secrets). */
function errorCodeOf(text: string | null | undefined): string {
  try {
    const code = (JSON.parse(text ?? "") as { error?: { code?: unknown } }).error?.code;
    return typeof code === "string" ? code.replace(/[^\w.-]/g, "").slice(0, 80) : "";
  } catch {
    return "";
  }
}

/**
 * Microsoft Graph over one retrying, authenticated pipeline: GET a URL, or every page of a
 * collection (following @odata.nextLink only on the configured Graph origin, never to a link seen
 * before, within GraphLimits). Shared by the provisioning-log reader and the directory look-ups
 * of access control.
 */
export class GraphHttp {
  private readonly pipeline: Pipeline;
  private readonly httpClient: HttpClient;
  protected readonly baseUrl: string;
  protected readonly origin: string;
  protected readonly limits: GraphLimits;

  constructor(protected readonly options: GraphClientOptions) {
    this.baseUrl = (options.baseUrl ?? "https://graph.microsoft.com/v1.0").replace(/\/+$/, "");
    if (!this.baseUrl.startsWith("https://") && !isLoopbackHttp(this.baseUrl)) {
      throw new Error(`Graph base URL must be https (plain http is allowed only on loopback): ${this.baseUrl}`);
    }
    this.origin = new URL(this.baseUrl).origin;
    this.limits = { ...GRAPH_LIMITS, ...options.limits };
    const maxRetries = options.maxRetries ?? 6;
    this.pipeline = createEmptyPipeline();
    // Throttling (429/503 + Retry-After) first, then exponential back-off for 5xx, 408 and system errors.
    this.pipeline.addPolicy(defaultRetryPolicy({ maxRetries, retryDelayInMs: options.retryDelayInMs ?? 2000, maxRetryDelayInMs: options.maxRetryDelayInMs ?? 60_000 }));
    this.pipeline.addPolicy(timeoutAsSystemError);
    this.pipeline.addPolicy(authPolicy(options.credential, this.origin));
    this.pipeline.addPolicy(boundedResponses(this.limits));
    this.httpClient = options.httpClient ?? createDefaultHttpClient();
  }

  /** One page: its items and the next page's URL (checked: on the Graph origin, or the run stops). */
  protected async page(url: string, headers: Record<string, string> = {}): Promise<{ value: unknown[]; next: string | null }> {
    const request = createPipelineRequest({
      url,
      method: "GET",
      timeout: this.options.timeoutMs ?? 60_000,
      headers: createHttpHeaders({ accept: "application/json", ...headers }),
      allowInsecureConnection: isLoopbackHttp(this.baseUrl),
    });
    const response = await this.pipeline.sendRequest(this.httpClient, request);
    if (response.status !== 200) {
      // Status and Graph's error code only: an error body may echo the request (and its token).
      const code = errorCodeOf(response.bodyAsText);
      throw new RestError(`Microsoft Graph answered ${response.status}${code ? ` ${code}` : ""}`, { statusCode: response.status, ...(code ? { code } : {}), request });
    }
    let body: { value?: unknown; "@odata.nextLink"?: unknown };
    try {
      body = JSON.parse(response.bodyAsText ?? "{}") as typeof body;
    } catch {
      throw new RestError("Microsoft Graph answered 200 with a body that is not JSON", { statusCode: 200, code: "GraphBadJson", request });
    }
    const raw = body?.["@odata.nextLink"];
    return { value: Array.isArray(body?.value) ? body.value : [], next: typeof raw === "string" && raw ? this.checkedNext(raw) : null };
  }

  /**
   * One request with a JSON body (the synchronization actions). Whatever the status, the answer is
   * returned as it is: the caller decides (a POST that changes a job is never retried here unless
   * the client was built with retries).
   */
  protected async send(method: "GET" | "POST", url: string, body?: unknown): Promise<{ status: number; body: unknown; code: string; retryAfterMs: number | undefined }> {
    const request = createPipelineRequest({
      url,
      method,
      timeout: this.options.timeoutMs ?? 60_000,
      headers: createHttpHeaders({ accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) }),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      allowInsecureConnection: isLoopbackHttp(this.baseUrl),
    });
    const response = await this.pipeline.sendRequest(this.httpClient, request);
    let parsed: unknown = null;
    try {
      parsed = response.bodyAsText ? JSON.parse(response.bodyAsText) : null;
    } catch {
      parsed = null;
    }
    return { status: response.status, body: parsed, code: errorCodeOf(response.bodyAsText), retryAfterMs: retryAfterMs(response.headers, Date.now()) };
  }

  /** A nextLink is followed only on the configured Graph origin: the token never leaves it. */
  private checkedNext(link: string): string {
    let origin: string;
    try {
      origin = new URL(link).origin;
    } catch {
      throw new GraphCutShort("nextlink-origin", "an @odata.nextLink that is not a URL was not followed");
    }
    if (origin !== this.origin) throw new GraphCutShort("nextlink-origin", `an @odata.nextLink to ${origin} was not followed (only ${this.origin} is)`);
    return link;
  }

  /** Pages of a collection, within the run's limits, never the same link twice. */
  protected async *paged(url: string, headers: Record<string, string> = {}): AsyncGenerator<{ value: unknown[]; next: string | null }> {
    const seen = new Set<string>();
    const started = Date.now();
    let next: string | null = url;
    let pages = 0;
    while (next) {
      if (seen.has(next)) throw new GraphCutShort("nextlink-repeated", `an @odata.nextLink repeated a page already read (after ${pages} pages)`);
      if (pages >= this.limits.maxPages) throw new GraphCutShort("page-cap", `${pages} pages read, the most one run reads`);
      if (Date.now() - started > this.limits.maxRunMs) throw new GraphCutShort("time-cap", `${pages} pages in ${Math.round((Date.now() - started) / 1000)} s, the longest one run reads`);
      seen.add(next);
      const p = await this.page(next, headers);
      pages++;
      yield p;
      next = p.next;
    }
  }

  /** Every item of a collection, page after page. */
  protected async all(url: string, headers: Record<string, string> = {}): Promise<unknown[]> {
    const out: unknown[] = [];
    for await (const p of this.paged(url, headers)) for (const v of p.value) out.push(v);
    return out;
  }
}

/**
 * Every read provbot makes of Microsoft Graph for ingestion and job health, on one pipeline:
 * provisioning logs, the provisioning audit trail, service principals and their provisioning jobs.
 */
export class GraphProvisioningClient extends GraphHttp implements GraphSource, JobSource {
  /** Events with activityDateTime strictly after `sinceIso` (the endpoint supports gt/lt only). */
  pages(sinceIso: string, untilIso?: string): AsyncGenerator<GraphPage> {
    return this.windowed("/auditLogs/provisioning", "", sinceIso, untilIso);
  }

  /**
   * The Account Provisioning service's audit records (category ProvisioningManagement) in the
   * window. `category` is not a documented filter; `loggedByService` is.
   */
  auditPages(sinceIso: string, untilIso?: string): AsyncGenerator<GraphPage> {
    return this.windowed("/auditLogs/directoryAudits", "loggedByService eq 'Account Provisioning' and ", sinceIso, untilIso);
  }

  private async *windowed(path: string, prefix: string, sinceIso: string, untilIso?: string): AsyncGenerator<GraphPage> {
    const filter = `${prefix}activityDateTime gt ${sinceIso}${untilIso ? ` and activityDateTime lt ${untilIso}` : ""}`;
    for await (const p of this.paged(`${this.baseUrl}${path}?$filter=${encodeURIComponent(filter)}&$top=${this.options.pageSize ?? 500}`)) yield { records: p.value, nextLink: p.next };
  }

  /** Every service principal, paged (a job quarantined for credentials logs no event to find it by). */
  async servicePrincipals(): Promise<{ id: string; displayName: string }[]> {
    const all = await this.all(`${this.baseUrl}/servicePrincipals?$select=id,appId,displayName&$top=999`);
    return all
      .map((v) => {
        const o = (v ?? {}) as Record<string, unknown>;
        return { id: typeof o["id"] === "string" ? o["id"].slice(0, 100) : "", displayName: typeof o["displayName"] === "string" ? o["displayName"].slice(0, 300) : "" };
      })
      .filter((s) => s.id);
  }

  /** The raw synchronizationJob objects of one service principal (parsed by core/jobs/status.ts). */
  async jobsOf(servicePrincipalId: string): Promise<unknown[]> {
    return this.all(`${this.baseUrl}/servicePrincipals/${encodeURIComponent(servicePrincipalId)}/synchronization/jobs`);
  }
}
