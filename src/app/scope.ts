import type { ProvisioningEvent } from "../core/event";
import { tenantAllowed, tenantList, type Access, type TenantList } from "../core/access";
import type { JobStatusChange, StoredJobStatus } from "./jobHealthPorts";
import type { ProvisioningAudit } from "../core/jobs/audit";
import type { ExportQuery, CountRow, EventRow, IdentityCandidate, IdentityFilter, JobInfo, ListQuery, QueryStore } from "./queryPorts";

/**
 * The store as one person in one conversation may read it: their tenant's data when tenant
 * scoping is on (`tenantScoped`), and only their own apps when they are an application owner.
 */
export function storeFor(store: QueryStore, tenantScoped: boolean, tenantId: string, access: Access, grants: Readonly<Record<string, string[]>> = {}): QueryStore {
  const owned = access.kind === "owner" ? new Set(access.servicePrincipalIds) : null;
  if (!tenantScoped && !owned) return store;
  return new ScopedQueryStore(store, tenantScoped ? tenantList(dataTenantsOf(tenantId, grants)) : null, owned);
}

/** The tenants whose data a conversation of `tenantId` reads: its own, and any granted to it. */
export function dataTenantsOf(tenantId: string, grants: Readonly<Record<string, string[]>>): string[] {
  return [tenantId, ...(grants[tenantId.trim().toLowerCase()] ?? [])];
}

/**
 * What one conversation may see: the events of its own tenant's jobs (data that carried no tenant
 * id is the deployment's own: stamped when stored, and read so by the store). Every read goes through here, so a question asked
 * in tenant A never answers with tenant B's people, apps, counts or changes: another tenant's
 * changeId is "not found", its people and apps are not suggested, its counts are not summed.
 */
export class ScopedQueryStore implements QueryStore {
  /** `servicePrincipalIds`: an application owner sees only the jobs of the apps they own. */
  constructor(
    private readonly inner: QueryStore,
    private readonly tenants: TenantList,
    private readonly servicePrincipalIds: ReadonlySet<string> | null = null,
  ) {}

  /** Data without a tenant is seen only when no tenant rule applies (the store reads it as its own tenant's). */
  private sees(tenantId: string | undefined): boolean {
    return tenantId ? tenantAllowed(this.tenants, tenantId) : this.tenants === null;
  }

  private owns(job: JobInfo): boolean {
    return this.servicePrincipalIds === null || this.servicePrincipalIds.has((job.servicePrincipalId ?? "").toLowerCase());
  }

  private async allowedJobs(fresh = false): Promise<Set<string>> {
    return new Set((await this.jobs(fresh)).map((j) => j.jobKey));
  }

  private async jobVisible(jobKey: string): Promise<boolean> {
    return (await this.allowedJobs()).has(jobKey) || (await this.allowedJobs(true)).has(jobKey);
  }

  async jobs(fresh?: boolean): Promise<JobInfo[]> {
    return (await this.inner.jobs(fresh)).filter((j) => this.sees(j.tenantId) && this.owns(j));
  }

  async findIdentities(phrase: string): Promise<IdentityCandidate[]> {
    return (await this.inner.findIdentities(phrase)).filter((c) => this.sees(c.tenantId));
  }

  /** An event is visible when its job is (an owner's own apps), or by tenant when no job is known. */
  private async eventVisible(e: ProvisioningEvent, jobKey?: string): Promise<boolean> {
    if (!this.sees(e.tenantId)) return false;
    if (this.servicePrincipalIds === null) return true;
    return this.servicePrincipalIds.has(e.servicePrincipal.id.toLowerCase()) || (jobKey !== undefined && (await this.jobVisible(jobKey)));
  }

  async allNames(): Promise<IdentityCandidate[]> {
    return (await this.inner.allNames()).filter((c) => this.sees(c.tenantId));
  }

  async windowEvents(jobKey: string, from: string, to: string, limit: number): Promise<EventRow[]> {
    return (await this.jobVisible(jobKey)) ? this.inner.windowEvents(jobKey, from, to, limit) : [];
  }

  async identityEvents(identityKey: string, from: string, to: string, limit: number, filter: IdentityFilter = {}): Promise<EventRow[]> {
    const allowed = await this.allowedJobs();
    const jobKeys = filter.jobKeys?.filter((k) => allowed.has(k));
    if (jobKeys && jobKeys.length === 0) return [];
    return (await this.inner.identityEvents(identityKey, from, to, limit, { ...filter, ...(jobKeys ? { jobKeys } : {}) })).filter((r) => allowed.has(r.jobKey));
  }

  async lastKnownState(identityKey: string, jobKey: string, now: string): Promise<EventRow | null> {
    return (await this.jobVisible(jobKey)) ? this.inner.lastKnownState(identityKey, jobKey, now) : null;
  }

  async getEvent(epk: string, erk: string): Promise<ProvisioningEvent | null> {
    const e = await this.inner.getEvent(epk, erk);
    return e && (await this.eventVisible(e)) ? e : null;
  }

  async getByChangeId(changeId: string): Promise<ProvisioningEvent[]> {
    const out: ProvisioningEvent[] = [];
    for (const e of await this.inner.getByChangeId(changeId)) if (await this.eventVisible(e)) out.push(e);
    return out;
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

  async *exportEvents(query: ExportQuery): AsyncIterable<ProvisioningEvent> {
    const allowed = await this.allowedJobs();
    const jobKeys = query.jobKeys.filter((k) => allowed.has(k));
    if (jobKeys.length === 0) return;
    for await (const e of this.inner.exportEvents({ ...query, jobKeys })) if (await this.eventVisible(e)) yield e;
  }

  async jobStatuses(): Promise<StoredJobStatus[]> {
    return (await this.inner.jobStatuses()).filter((s) => this.sees(s.tenantId) && (this.servicePrincipalIds === null || this.servicePrincipalIds.has(s.servicePrincipalId.toLowerCase())));
  }

  async statusHistory(jobKey: string, limit: number): Promise<JobStatusChange[]> {
    return (await this.jobVisible(jobKey)) ? this.inner.statusHistory(jobKey, limit) : [];
  }

  async audits(servicePrincipalId: string, from: string, to: string, limit: number): Promise<ProvisioningAudit[]> {
    const sp = servicePrincipalId.toLowerCase();
    const visible = (await this.jobs()).some((j) => (j.servicePrincipalId ?? "").toLowerCase() === sp);
    return visible ? this.inner.audits(servicePrincipalId, from, to, limit) : [];
  }

  async countEvents(query: Omit<ListQuery, "limit" | "offset">): Promise<{ total: number; exact: boolean }> {
    const allowed = await this.allowedJobs();
    const jobKeys = query.jobKeys.filter((k) => allowed.has(k));
    return jobKeys.length === 0 ? { total: 0, exact: true } : this.inner.countEvents({ ...query, jobKeys });
  }
}
