import { GraphCutShort, GraphHttp } from "./client";
import type { JobControl, JobControlAnswer } from "../../app/actions";

/**
 * Microsoft Graph's synchronization actions on one job (application permission
 * Synchronization.ReadWrite.All): the job's schema rules, provisionOnDemand, restart, pause and
 * start. Built with no retries: a throttled or failed action is reported, never repeated on its own.
 * Ids reach Graph in the path, encoded.
 */
export class GraphJobControl extends GraphHttp implements JobControl {
  private job(servicePrincipalId: string, jobId: string): string {
    return `${this.baseUrl}/servicePrincipals/${encodeURIComponent(servicePrincipalId)}/synchronization/jobs/${encodeURIComponent(jobId)}`;
  }

  private async call(method: "GET" | "POST", url: string, body?: unknown): Promise<JobControlAnswer> {
    try {
      const r = await this.send(method, url, body);
      return { status: r.status, body: r.body, code: r.code, ...(r.retryAfterMs !== undefined ? { retryAfterMs: r.retryAfterMs } : {}) };
    } catch (err) {
      // A Retry-After beyond the cap is still a throttled answer, and says so.
      if (err instanceof GraphCutShort && err.reason === "retry-after-cap") return { status: 429, body: null, code: "TooManyRequests" };
      throw err;
    }
  }

  async rules(servicePrincipalId: string, jobId: string): Promise<JobControlAnswer> {
    return this.call("GET", `${this.job(servicePrincipalId, jobId)}/schema?$select=synchronizationRules`);
  }

  async provisionOnDemand(servicePrincipalId: string, jobId: string, ruleId: string, subject: { objectId: string; objectTypeName: string }): Promise<JobControlAnswer> {
    return this.call("POST", `${this.job(servicePrincipalId, jobId)}/provisionOnDemand`, { parameters: [{ ruleId, subjects: [{ objectId: subject.objectId, objectTypeName: subject.objectTypeName }] }] });
  }

  async restart(servicePrincipalId: string, jobId: string, resetScope: string): Promise<JobControlAnswer> {
    return this.call("POST", `${this.job(servicePrincipalId, jobId)}/restart`, { criteria: resetScope ? { resetScope } : {} });
  }

  async pause(servicePrincipalId: string, jobId: string): Promise<JobControlAnswer> {
    return this.call("POST", `${this.job(servicePrincipalId, jobId)}/pause`);
  }

  async start(servicePrincipalId: string, jobId: string): Promise<JobControlAnswer> {
    return this.call("POST", `${this.job(servicePrincipalId, jobId)}/start`);
  }

  async groupMemberCount(groupId: string, atMost: number): Promise<number> {
    const r = await this.call("GET", `${this.baseUrl}/groups/${encodeURIComponent(groupId)}/members?$select=id&$top=${atMost + 1}`);
    const value = (r.body as { value?: unknown } | null)?.value;
    if (r.status !== 200 || !Array.isArray(value)) throw new Error(`Microsoft Graph answered ${r.status}${r.code ? ` ${r.code}` : ""} for the group's members`);
    return value.length;
  }
}
