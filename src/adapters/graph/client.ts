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
}

const SCOPE = "https://graph.microsoft.com/.default";

function authPolicy(credential: TokenCredential): PipelinePolicy {
  return {
    name: "provbotGraphAuth",
    async sendRequest(request, next) {
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

export function isLoopbackHttp(url: string): boolean {
  const u = new URL(url);
  return u.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname);
}

/**
 * Microsoft Graph over one retrying, authenticated pipeline: GET a URL, or every page of a
 * collection (following @odata.nextLink). Shared by the provisioning-log reader and the directory
 * look-ups of access control.
 */
export class GraphHttp {
  private readonly pipeline: Pipeline;
  private readonly httpClient: HttpClient;
  protected readonly baseUrl: string;

  constructor(protected readonly options: GraphClientOptions) {
    this.baseUrl = (options.baseUrl ?? "https://graph.microsoft.com/v1.0").replace(/\/+$/, "");
    if (!this.baseUrl.startsWith("https://") && !isLoopbackHttp(this.baseUrl)) {
      throw new Error(`Graph base URL must be https (plain http is allowed only on loopback): ${this.baseUrl}`);
    }
    const maxRetries = options.maxRetries ?? 6;
    this.pipeline = createEmptyPipeline();
    // Throttling (429/503 + Retry-After) first, then exponential back-off for 5xx, 408 and system errors.
    this.pipeline.addPolicy(defaultRetryPolicy({ maxRetries, retryDelayInMs: options.retryDelayInMs ?? 2000, maxRetryDelayInMs: options.maxRetryDelayInMs ?? 60_000 }));
    this.pipeline.addPolicy(timeoutAsSystemError);
    this.pipeline.addPolicy(authPolicy(options.credential));
    this.httpClient = options.httpClient ?? createDefaultHttpClient();
  }

  /** One page: its items and the next page's URL. */
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
      throw new RestError(`Microsoft Graph answered ${response.status}: ${(response.bodyAsText ?? "").slice(0, 500)}`, { statusCode: response.status, request, response });
    }
    const body = JSON.parse(response.bodyAsText ?? "{}") as { value?: unknown[]; "@odata.nextLink"?: string };
    return { value: Array.isArray(body.value) ? body.value : [], next: body["@odata.nextLink"] ?? null };
  }

  /** Every item of a collection, page after page. */
  protected async all(url: string, headers: Record<string, string> = {}): Promise<unknown[]> {
    const out: unknown[] = [];
    let next: string | null = url;
    while (next) {
      const p = await this.page(next, headers);
      out.push(...p.value);
      next = p.next;
    }
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
    let url: string | null = `${this.baseUrl}${path}?$filter=${encodeURIComponent(filter)}&$top=${this.options.pageSize ?? 500}`;
    while (url) {
      const p = await this.page(url);
      yield { records: p.value, nextLink: p.next };
      url = p.next;
    }
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
