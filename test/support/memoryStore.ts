import type { ProvisioningEvent } from "../../src/core/event";
import { identityKind, identityLabel } from "../../src/core/event";
import { canonicalIdentityKey, identityAliases } from "../../src/core/identityKeys";
import { normaliseName } from "../../src/core/names";
import { hourBucket, hourInRange } from "../../src/core/timeBuckets";
import { hourCount, totalOf, type HourCounts } from "../../src/core/counts";
import type { CsvParts, EventStore } from "../../src/app/ports";
import type { JobStatusChange, StoredJobStatus } from "../../src/app/jobHealthPorts";
import type { ProvisioningAudit } from "../../src/core/jobs/audit";
import { referenceProblemStep } from "../../src/core/references";
import type { ExportQuery, EventRow, IdentityCandidate, IdentityFilter, JobInfo, ListQuery, QueryStore } from "../../src/app/queryPorts";
import { jobKey } from "../../src/adapters/tables/keys";
import { nextJobRow } from "../../src/adapters/tables/jobsTable";

/**
 * In-memory fakes of the storage ports (EventStore + QueryStore) with the same semantics as the
 * Table Storage adapters: idempotent writes, newest-first rows, hourly counts of new events only.
 * Use cases are tested against it fast; test/integration/store-contract.test.ts proves that it and
 * the real adapters answer the same.
 */
export class MemoryStore implements EventStore, QueryStore {
  private readonly byId = new Map<string, { event: ProvisioningEvent; row: EventRow; identityKey: string }>();
  private readonly aliases = new Map<string, Map<string, IdentityCandidate>>();
  private readonly jobRows = new Map<string, Record<string, unknown>>();
  private readonly countRows = new Map<string, HourCounts>();

  async write(events: ProvisioningEvent[]): Promise<{ newIds: Set<string>; rejected: Map<string, string> }> {
    const newIds = new Set<string>();
    const fresh: ProvisioningEvent[] = [];
    for (const e of events) {
      const job = jobKey(e.jobId, e.servicePrincipal.id);
      const identityKey = canonicalIdentityKey(e);
      const row: EventRow = {
        epk: `${job}|${hourBucket(e.activityDateTime)}`,
        erk: e.id,
        at: e.activityDateTime,
        jobKey: job,
        action: e.action,
        status: e.status,
        errorCode: e.error?.code ?? "",
        targetId: e.targetIdentity.id,
        identity: identityLabel(e),
        identityName: e.sourceIdentity.displayName || e.targetIdentity.displayName,
        identityType: identityKind(e.sourceIdentity.identityType || e.targetIdentity.identityType),
        changeId: e.changeId,
        cycleId: e.cycleId,
        ...(referenceProblemStep(e) ? { refIssue: true } : {}),
      };
      const known = this.byId.has(e.id);
      this.byId.set(e.id, { event: e, row, identityKey });
      for (const a of identityKey ? identityAliases(e) : []) {
        let m = this.aliases.get(a.value);
        if (!m) this.aliases.set(a.value, (m = new Map()));
        m.set(`${a.kind}|${identityKey}`, { identityKey, displayName: row.identityName ?? "", identity: row.identity ?? "", identityType: row.identityType ?? "", matchedBy: a.kind, ...(e.tenantId ? { tenantId: e.tenantId } : {}) });
      }
      if (known || fresh.some((f) => f.id === e.id)) continue;
      newIds.add(e.id);
      fresh.push(e);
    }
    for (const e of fresh) {
      const job = jobKey(e.jobId, e.servicePrincipal.id);
      const hour = hourBucket(e.activityDateTime);
      const key = `${job}|${hour}`;
      const c = this.countRows.get(key) ?? { jobKey: job, hour, total: 0, cells: [], errors: Object.create(null) as Record<string, number> };
      c.total++;
      let cell = c.cells.find((x) => x.action === e.action && x.status === e.status);
      if (!cell) c.cells.push((cell = { action: e.action, status: e.status, n: 0, groups: 0 }));
      cell.n++;
      if (identityKind(e.sourceIdentity.identityType) === "Group") cell.groups++;
      if (e.status === "failure" && e.error?.code) c.errors[e.error.code] = (c.errors[e.error.code] ?? 0) + 1;
      this.countRows.set(key, c);
      this.jobRows.set(job, nextJobRow(job, this.jobRows.get(job) ?? null, [e]));
    }
    return { newIds, rejected: new Map() };
  }

  async getByChangeId(changeId: string): Promise<ProvisioningEvent[]> {
    return [...this.byId.values()].filter((x) => x.event.changeId === changeId).map((x) => x.event);
  }

  async attachParts(parts: CsvParts): Promise<{ attached: number; pending: number }> {
    let attached = 0;
    for (const x of this.byId.values()) {
      const steps = parts.steps.get(x.event.changeId);
      const modified = parts.modifiedProperties.get(x.event.changeId);
      if (!steps && !modified) continue;
      x.event = { ...x.event, steps: steps ?? x.event.steps, modifiedProperties: modified ?? x.event.modifiedProperties };
      attached++;
    }
    return { attached, pending: 0 };
  }

  async findIdentities(phrase: string): Promise<IdentityCandidate[]> {
    const out = new Map<string, IdentityCandidate>();
    for (const c of this.aliases.get(normaliseName(phrase))?.values() ?? []) if (!out.has(c.identityKey)) out.set(c.identityKey, c);
    return [...out.values()];
  }

  async allNames(): Promise<IdentityCandidate[]> {
    const out: IdentityCandidate[] = [];
    for (const [value, m] of this.aliases) for (const c of m.values()) if (c.matchedBy === "n" || c.matchedBy === "g") out.push({ ...c, matchedBy: value });
    return out;
  }

  async jobs(): Promise<JobInfo[]> {
    return [...this.jobRows.entries()].map(([job, j]) => ({
      jobKey: job,
      jobId: String(j["jobId"] ?? ""),
      servicePrincipalId: String(j["servicePrincipalId"] ?? ""),
      appId: String(j["appId"] ?? ""),
      app: String(j["app"] ?? ""),
      sourceSystem: String(j["sourceSystem"] ?? ""),
      targetSystem: String(j["targetSystem"] ?? ""),
      firstAt: String(j["firstAt"] ?? ""),
      lastAt: String(j["lastAt"] ?? ""),
      lastCycleId: String(j["lastCycleId"] ?? ""),
      cycleStarts: (JSON.parse(String(j["cycles"] ?? "[]")) as [string, string][]).map((c) => c[1]).sort(),
      tenantId: String(j["tenantId"] ?? ""),
    }));
  }

  private rows(pick: (r: EventRow, identityKey: string) => boolean): EventRow[] {
    return [...this.byId.values()].filter((x) => pick(x.row, x.identityKey)).map((x) => x.row).sort((a, b) => b.at.localeCompare(a.at) || a.erk.localeCompare(b.erk));
  }

  async windowEvents(job: string, from: string, to: string, limit: number): Promise<EventRow[]> {
    return this.rows((r) => r.jobKey === job && r.at >= from && r.at < to).slice(0, limit);
  }

  async identityEvents(identityKey: string, from: string, to: string, limit: number, filter: IdentityFilter = {}): Promise<EventRow[]> {
    return this.rows((r, k) => k === identityKey && r.at >= from && r.at < to && (!filter.statuses || filter.statuses.includes(r.status)) && (!filter.jobKeys || filter.jobKeys.includes(r.jobKey))).slice(0, limit);
  }

  async lastKnownState(identityKey: string, job: string, now: string): Promise<EventRow | null> {
    return this.rows((r, k) => k === identityKey && r.jobKey === job && r.at <= now)[0] ?? null;
  }

  async getEvent(_epk: string, erk: string): Promise<ProvisioningEvent | null> {
    return this.byId.get(erk)?.event ?? null;
  }

  async cycle(cycleId: string): Promise<{ jobKey: string; at: string } | null> {
    const r = this.rows((x) => x.cycleId === cycleId)[0];
    return r ? { jobKey: r.jobKey, at: r.at } : null;
  }

  async cycleEvents(job: string, cycleId: string, around: string, limit: number): Promise<EventRow[]> {
    const t = Date.parse(around);
    const from = new Date(t - 2 * 3_600_000).toISOString();
    const to = new Date(t + 2 * 3_600_000).toISOString();
    return this.rows((r) => r.jobKey === job && r.cycleId === cycleId && r.at >= from && r.at < to).slice(0, limit);
  }

  async listEvents(q: ListQuery): Promise<{ rows: EventRow[]; more: boolean; total: number; exact: boolean }> {
    const counts = await this.counts(q.jobKeys, q.from, q.to);
    const matches = this.rows(
      (r) =>
        q.jobKeys.includes(r.jobKey) && r.at >= q.from && r.at < q.to && (!q.status || r.status === q.status) && (!q.actions || q.actions.includes(r.action)) && (!q.identityType || r.identityType === q.identityType) && (!q.errorCode || r.errorCode === q.errorCode) && (!q.referenceProblem || r.refIssue === true),
    ).filter((r) => counts.some((c) => c.jobKey === r.jobKey && c.hour === hourBucket(r.at) && hourCount(c, q) > 0));
    const page = matches.slice(q.offset, q.offset + q.limit + 1);
    const { total, exact } = totalOf(counts, q);
    return { rows: page.slice(0, q.limit), more: page.length > q.limit, total: page.length > 0 ? Math.max(total, q.offset + page.length) : total, exact };
  }

  async counts(jobKeys: string[] | null, from: string, to: string): Promise<HourCounts[]> {
    return [...this.countRows.values()].filter((c) => (!jobKeys || jobKeys.includes(c.jobKey)) && hourInRange(c.hour, from, to)).map((c) => ({ ...c, cells: c.cells.map((x) => ({ ...x })) }));
  }

  /** As the table store counts: exact (the events themselves), but for an error code ("about", from the counts). */
  async countEvents(q: Omit<ListQuery, "limit" | "offset">): Promise<{ total: number; exact: boolean }> {
    if (q.errorCode) return totalOf(await this.counts(q.jobKeys, q.from, q.to), q);
    const total = this.rows((r) => q.jobKeys.includes(r.jobKey) && r.at >= q.from && r.at < q.to && (!q.status || r.status === q.status) && (!q.actions || q.actions.includes(r.action)) && (!q.identityType || r.identityType === q.identityType)).length;
    return { total, exact: true };
  }

  async *exportEvents(q: ExportQuery): AsyncIterable<ProvisioningEvent> {
    const rows = await this.listEvents({ ...q, limit: Number.MAX_SAFE_INTEGER, offset: 0 });
    for (const r of rows.rows) {
      const e = await this.getEvent(r.epk, r.erk);
      if (e && (!q.cycleId || e.cycleId === q.cycleId)) yield e;
    }
  }

  /** Job health, kept in memory by tests that set it. */
  statuses: StoredJobStatus[] = [];
  history = new Map<string, JobStatusChange[]>();
  auditRows: ProvisioningAudit[] = [];

  async jobStatuses(): Promise<StoredJobStatus[]> {
    return this.statuses;
  }

  async statusHistory(jobKey: string, limit: number): Promise<JobStatusChange[]> {
    return (this.history.get(jobKey) ?? []).slice(0, limit);
  }

  async audits(servicePrincipalId: string, from: string, to: string, limit: number): Promise<ProvisioningAudit[]> {
    return this.auditRows.filter((a) => a.servicePrincipalId === servicePrincipalId && a.at >= from && a.at < to).sort((a, b) => b.at.localeCompare(a.at)).slice(0, limit);
  }
}
