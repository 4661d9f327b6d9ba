import { GraphHttp } from "./client";

/**
 * Issue 14 (work in progress): the provisioning jobs of service principals, on the shared Graph
 * pipeline (application permissions Synchronization.Read.All and Application.Read.All).
 */
export class GraphJobs extends GraphHttp {
  /** Every service principal, paged (a job quarantined for credentials logs no event to find it by). */
  async servicePrincipals(): Promise<{ id: string; appId: string; displayName: string }[]> {
    const all = await this.all(`${this.baseUrl}/servicePrincipals?$select=id,appId,displayName&$top=999`);
    return all.map((v) => {
      const o = (v ?? {}) as Record<string, unknown>;
      return { id: String(o["id"] ?? ""), appId: String(o["appId"] ?? ""), displayName: String(o["displayName"] ?? "") };
    }).filter((s) => s.id);
  }

  /** The raw synchronizationJob objects of one service principal (parse with core/jobs/status.ts). */
  async jobsOf(servicePrincipalId: string): Promise<unknown[]> {
    return this.all(`${this.baseUrl}/servicePrincipals/${encodeURIComponent(servicePrincipalId)}/synchronization/jobs`);
  }
}
