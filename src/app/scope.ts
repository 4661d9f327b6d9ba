import type { ProvisioningEvent } from "../core/event";
import { tenantAllowed, type TenantList } from "../core/access";
import type { CountRow, EventRow, IdentityCandidate, JobInfo, ListQuery, QueryStore } from "./queryPorts";

/**
 * What one conversation may see: the events of its own tenant's jobs (and of jobs whose events
 * carried no tenant id, the deployment's own). Every read goes through here, so a question asked
 * in tenant A never answers with tenant B's people, apps, counts or changes: another tenant's
 * changeId is "not found", its people and apps are not suggested, its counts are not summed.
 */
export class ScopedQueryStore implements QueryStore {
  constructor(
    private readonly inner: QueryStore,
    private readonly tenants: TenantList,
  ) {}

  private sees(tenantId: string | undefined): boolean {
    return !tenantId || tenantAllowed(this.tenants, tenantId);
  }

  private async allowedJobs(fresh = false): Promise<Set<string>> {
    return new Set((await this.jobs(fresh)).map((j) => j.jobKey));
  }

  private async jobVisible(jobKey: string): Promise<boolean> {
    return (await this.allowedJobs()).has(jobKey) || (await this.allowedJobs(true)).has(jobKey);
  }

  async jobs(fresh?: boolean): Promise<JobInfo[]> {
    return (await this.inner.jobs(fresh)).filter((j) => this.sees(j.tenantId));
  }

  async findIdentities(phrase: string): Promise<IdentityCandidate[]> {
    return (await this.inner.findIdentities(phrase)).filter((c) => this.sees(c.tenantId));
  }

  async allNames(): Promise<IdentityCandidate[]> {
    return (await this.inner.allNames()).filter((c) => this.sees(c.tenantId));
  }

  async windowEvents(jobKey: string, from: string, to: string, limit: number): Promise<EventRow[]> {
    return (await this.jobVisible(jobKey)) ? this.inner.windowEvents(jobKey, from, to, limit) : [];
  }

  async identityEvents(identityKey: string, from: string, to: string, limit: number): Promise<EventRow[]> {
    const allowed = await this.allowedJobs();
    return (await this.inner.identityEvents(identityKey, from, to, limit)).filter((r) => allowed.has(r.jobKey));
  }

  async lastKnownState(identityKey: string, jobKey: string, now: string): Promise<EventRow | null> {
    return (await this.jobVisible(jobKey)) ? this.inner.lastKnownState(identityKey, jobKey, now) : null;
  }

  async getEvent(epk: string, erk: string): Promise<ProvisioningEvent | null> {
    const e = await this.inner.getEvent(epk, erk);
    return e && this.sees(e.tenantId) ? e : null;
  }

  async getByChangeId(changeId: string): Promise<ProvisioningEvent[]> {
    return (await this.inner.getByChangeId(changeId)).filter((e) => this.sees(e.tenantId));
  }

  async cycle(cycleId: string): Promise<{ jobKey: string; at: string } | null> {
    const c = await this.inner.cycle(cycleId);
    return c && (await this.jobVisible(c.jobKey)) ? c : null;
  }

  async cycleEvents(jobKey: string, cycleId: string, around: string, limit: number): Promise<EventRow[]> {
    return (await this.jobVisible(jobKey)) ? this.inner.cycleEvents(jobKey, cycleId, around, limit) : [];
  }

  async listEvents(query: ListQuery): Promise<{ rows: EventRow[]; more: boolean; total: number; exact: boolean }> {
    const allowed = await this.allowedJobs();
    const jobKeys = query.jobKeys.filter((k) => allowed.has(k));
    if (jobKeys.length === 0) return { rows: [], more: false, total: 0, exact: true };
    return this.inner.listEvents({ ...query, jobKeys });
  }

  async counts(jobKeys: string[] | null, from: string, to: string): Promise<CountRow[]> {
    const allowed = await this.allowedJobs();
    const keys = (jobKeys ?? [...allowed]).filter((k) => allowed.has(k));
    return keys.length === 0 ? [] : this.inner.counts(keys, from, to);
  }

  async countEvents(query: Omit<ListQuery, "limit" | "offset">): Promise<{ total: number; exact: boolean }> {
    const allowed = await this.allowedJobs();
    const jobKeys = query.jobKeys.filter((k) => allowed.has(k));
    return jobKeys.length === 0 ? { total: 0, exact: true } : this.inner.countEvents({ ...query, jobKeys });
  }
}
