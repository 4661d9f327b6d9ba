import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { JobStatusTable } from "../../src/adapters/tables/jobStatusTable";
import { AuditTable } from "../../src/adapters/tables/auditTable";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableQueryStore } from "../../src/adapters/tables/queryStore";
import { ScopedQueryStore } from "../../src/app/scope";
import { tenantList } from "../../src/core/access";
import { parseJob } from "../../src/core/jobs/status";
import { parseAudit } from "../../src/core/jobs/audit";
import type { StoredJobStatus } from "../../src/app/jobHealthPorts";
import { testTables } from "../support/tables";

/** The job-status and audit-trail tables on Azurite, with data from outside of any shape. */
const record = (jobId: string, spId: string, appName: string, code: string, reason: string, tenantId = ""): StoredJobStatus => ({
  jobKey: jobId,
  jobId,
  servicePrincipalId: spId,
  appName,
  tenantId,
  status: parseJob({ id: jobId, schedule: { interval: "PT40M" }, status: { code, quarantine: reason ? { reason, seriesBegan: "2026-11-30T00:00:00Z" } : undefined } })!,
  checkedAt: "2026-12-01T10:00:00.000Z",
  changedAt: "2026-12-01T10:00:00.000Z",
});

describe("job status and audit trail in Table Storage", () => {
  it("keeps the latest status of every job and its history newest first; a change saved twice is one row", async () => {
    const { factory } = testTables();
    const table = new JobStatusTable(factory);
    const change = (at: string, code: string) => ({ at, code, reason: code === "Quarantine" ? "TooManyDeletes" : "", transitions: code === "Quarantine" ? (["quarantined"] as const).slice() : (["released"] as const).slice(), failing: 3, inScope: 10 });
    await table.save(record("J1", "sp1", "Box", "Quarantine", "TooManyDeletes"), change("2026-12-01T10:00:00.000Z", "Quarantine"));
    await table.save(record("J1", "sp1", "Box", "Active", ""), change("2026-12-01T11:00:00.000Z", "Active"));
    await table.save(record("J1", "sp1", "Box", "Active", ""), change("2026-12-01T11:00:00.000Z", "Active"));
    await table.save(record("J2", "sp2", "Zoom", "Paused", ""), null);
    const all = await table.all();
    expect(all.map((r) => [r.jobKey, r.status.code]).sort()).toEqual([["J1", "Active"], ["J2", "Paused"]]);
    const history = await table.history("J1", 10);
    expect(history.map((h) => [h.code, h.transitions])).toEqual([["Active", ["released"]], ["Quarantine", ["quarantined"]]]);
    expect(await table.history("J2", 10)).toEqual([]);
  });

  it("stores any job status and any audit record Graph may send, and reads back what it stored", async () => {
    const { factory } = testTables();
    const statuses = new JobStatusTable(factory);
    const audits = new AuditTable(factory);
    let i = 0;
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary", maxLength: 300 }), fc.string({ unit: "grapheme", maxLength: 100 }), async (hostile, name) => {
        i++;
        const status = parseJob({ id: `job-${i}-${hostile}`, schedule: { interval: hostile }, status: { code: "Quarantine", quarantine: { reason: hostile, error: { code: hostile, message: hostile.repeat(5) } } } })!;
        const stored: StoredJobStatus = { jobKey: status.jobId, jobId: status.jobId, servicePrincipalId: hostile.slice(0, 50).toWellFormed(), appName: name, tenantId: "", status, checkedAt: "2026-12-01T10:00:00.000Z", changedAt: "2026-12-01T10:00:00.000Z" };
        await statuses.save(stored, { at: `2026-12-01T10:00:${String(i % 60).padStart(2, "0")}.000Z`, code: status.code, reason: status.quarantine!.reason, transitions: ["quarantined"], failing: 0, inScope: 0 });
        const audit = parseAudit({ id: `a-${i}-${hostile}`, activityDateTime: "2026-12-01T09:00:00Z", activityDisplayName: hostile, initiatedBy: { user: { userPrincipalName: name } }, targetResources: [{ id: "sp-hostile", type: "ServicePrincipal", displayName: hostile, modifiedProperties: [{ displayName: hostile || "x", oldValue: hostile, newValue: name }] }], additionalDetails: [{ key: "k", value: hostile }] })!;
        await audits.write([audit, audit]);
        const back = (await audits.list("sp-hostile", "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z", 1000)).find((a) => a.id === audit.id);
        expect(back).toEqual(audit);
      }),
      { numRuns: 25 },
    );
    const all = await statuses.all();
    expect(all).toHaveLength(i);
    for (const r of all) expect(parseJob({ id: r.jobId })).not.toBeNull();
  }, 120_000);

  it("a conversation reads only its own tenant's job status, and an application owner only their own apps", async () => {
    const { factory } = testTables();
    const store = new TableEventStore(factory);
    await store.statuses.save(record("JA", "sp-a", "Alpha", "Active", "", "tenant-a"), null);
    await store.statuses.save(record("JB", "sp-b", "Beta", "Quarantine", "TooManyDeletes", "tenant-b"), null);
    const audit = (sp: string) => parseAudit({ id: `audit-${sp}`, activityDateTime: "2026-12-01T09:00:00Z", activityDisplayName: "Disable/pause provisioning", targetResources: [{ id: sp, type: "ServicePrincipal" }] })!;
    await store.audits.write([audit("sp-a"), audit("sp-b")]);
    const query = new TableQueryStore(store);
    const tenantA = new ScopedQueryStore(query, tenantList(["tenant-a"]));
    expect((await tenantA.jobStatuses()).map((s) => s.appName)).toEqual(["Alpha"]);
    // A job known only from its status is a job like any other, scoped the same way.
    expect((await tenantA.jobs()).map((j) => [j.app, j.statusOnly])).toEqual([["Alpha", true]]);
    expect(await tenantA.audits("sp-b", "2026-11-01T00:00:00Z", "2026-12-02T00:00:00Z", 10)).toEqual([]);
    expect(await tenantA.audits("sp-a", "2026-11-01T00:00:00Z", "2026-12-02T00:00:00Z", 10)).toHaveLength(1);
    const ownerOfB = new ScopedQueryStore(query, null, new Set(["sp-b"]));
    expect((await ownerOfB.jobStatuses()).map((s) => s.appName)).toEqual(["Beta"]);
    expect(await ownerOfB.statusHistory("JA", 10)).toEqual([]);
  });
});
