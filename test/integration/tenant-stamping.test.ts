import { describe, expect, it } from "vitest";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableQueryStore } from "../../src/adapters/tables/queryStore";
import { TableDeadLetterStore } from "../../src/adapters/tables/deadLetters";
import { jobKey } from "../../src/adapters/tables/keys";
import { ingestItems } from "../../src/app/ingest";
import { storeFor } from "../../src/app/scope";
import { pollJobStatus } from "../../src/app/jobStatusPoll";
import { graphDataTenant, loadConfig } from "../../src/config";
import { tenantList } from "../../src/core/access";
import { normaliseRecord } from "../../src/core/ingest/normalise";
import { provisioningRecord } from "../support/records";
import { testTables } from "../support/tables";

/**
 * Issue 21, item 4: data without a tenant id belongs to the deployment's own tenant, never to
 * everyone. It is stamped when stored; rows stored before (or by a path that had no tenant) are
 * read as the own tenant's; job status read through a managed identity is the own tenant's.
 */
const A = "aaaaaaaa-0000-0000-0000-00000000000a";
const B = "bbbbbbbb-0000-0000-0000-00000000000b";
const owner = { kind: "all", thresholds: true, why: "test" } as const;

function setup() {
  const { factory } = testTables();
  const store = new TableEventStore(factory);
  const query = new TableQueryStore(store, Date.now, A);
  return { factory, store, query, deadLetters: new TableDeadLetterStore(factory, { now: () => new Date() }) };
}

function tenantless(jobId: string, user: number, upn: string) {
  const r = provisioningRecord({ jobId, app: `App ${jobId}`, at: new Date(Date.now() - 600_000), user, status: "failure" }) as Record<string, any>;
  delete r["tenantId"];
  r["sourceIdentity"].details = { UserPrincipalName: upn };
  r["sourceIdentity"].displayName = `Person ${jobId}`;
  return r;
}

async function whatTenantSees(query: TableQueryStore, tenant: string, job: string, changeId: string, upn: string) {
  const scoped = storeFor(query, true, tenant, owner as never);
  const now = new Date().toISOString();
  const from = new Date(Date.now() - 86_400_000).toISOString();
  return {
    jobs: (await scoped.jobs(true)).filter((j) => j.jobKey === job).length,
    people: (await scoped.findIdentities(upn)).length,
    changes: (await scoped.getByChangeId(changeId)).length,
    counted: (await scoped.counts([job], from, now)).reduce((n, c) => n + c.total, 0),
    statuses: (await scoped.jobStatuses()).filter((s) => s.jobKey === job).length,
  };
}

describe("data without a tenant", () => {
  it("is stamped with the deployment's own tenant when ingested, and seen by that tenant only", async () => {
    const s = setup();
    const jobId = `Stamp.${Date.now().toString(36)}`;
    const upn = `nobody.${jobId}@contoso.example`;
    const record = tenantless(jobId, 1, upn);
    const report = await ingestItems([{ index: 0, record }], "test", { store: s.store, deadLetters: s.deadLetters, tenants: tenantList([A, B]), ownTenant: A });
    expect(report.accepted).toBe(1);
    // Stored with the tenant (read from the store itself, not through the reading fallback).
    const [stored] = await s.store.getByChangeId(String(record["changeId"]));
    expect(stored?.tenantId).toBe(A);
    const job = jobKey(jobId, `sp-${jobId}`);
    expect(await whatTenantSees(s.query, B, job, String(record["changeId"]), upn)).toEqual({ jobs: 0, people: 0, changes: 0, counted: 0, statuses: 0 });
    expect(await whatTenantSees(s.query, A, job, String(record["changeId"]), upn)).toMatchObject({ jobs: 1, people: 1, changes: 1, counted: 1 });
  });

  it("stored before stamping (or by a path with no tenant), is read as the own tenant's, never every tenant's", async () => {
    const s = setup();
    const jobId = `Legacy.${Date.now().toString(36)}`;
    const upn = `legacy.${jobId}@contoso.example`;
    const record = tenantless(jobId, 2, upn);
    const n = normaliseRecord(record);
    if (n.kind !== "event") throw new Error("record does not normalise");
    expect(n.event.tenantId).toBeFalsy();
    await s.store.write([n.event]);
    const job = jobKey(jobId, `sp-${jobId}`);
    await s.store.statuses.save({ jobKey: job, jobId, servicePrincipalId: `sp-${jobId}`, appName: "Legacy", tenantId: "", status: { jobId, code: "Quarantine" } as never, checkedAt: new Date().toISOString(), changedAt: new Date().toISOString() }, null);
    expect(await whatTenantSees(s.query, B, job, String(record["changeId"]), upn)).toEqual({ jobs: 0, people: 0, changes: 0, counted: 0, statuses: 0 });
    expect(await whatTenantSees(s.query, A, job, String(record["changeId"]), upn)).toEqual({ jobs: 1, people: 1, changes: 1, counted: 1, statuses: 1 });
  });

  it("job status read through a managed identity (no tenant in its settings) is the own tenant's", async () => {
    const base = { PROVBOT_STORAGE_ACCOUNT_URL: "https://acct.table.core.windows.net", PROVBOT_GRAPH_MANAGED_IDENTITY: "true", PROVBOT_GRAPH_CLIENT_ID: "11111111-1111-1111-1111-111111111111" };
    const config = loadConfig({ ...base, MicrosoftAppId: "app", MicrosoftAppType: "UserAssignedMSI", MicrosoftAppTenantId: A });
    expect(config.graph?.auth.kind).toBe("managedIdentity");
    expect(config.ownTenant).toBe(A);
    expect(graphDataTenant(config)).toBe(A);
    expect(loadConfig({ ...base, MicrosoftAppId: "app", MicrosoftAppType: "UserAssignedMSI", MicrosoftAppTenantId: A, PROVBOT_TENANT_ID: B }).ownTenant).toBe(B);
    // Stored through the poller with that tenant, tenant B does not see it.
    const s = setup();
    const jobId = `Mi.${Date.now().toString(36)}`;
    const source = { servicePrincipals: async () => [{ id: `sp-${jobId}`, displayName: "Box" }], jobsOf: async () => [{ id: jobId, schedule: { interval: "PT40M", state: "Active" }, status: { code: "Quarantine", quarantine: { reason: "EncounteredQuarantineException" } } }] };
    await pollJobStatus({ source, store: s.store.statuses, jobKeyOf: jobKey, tenantId: graphDataTenant(config) }, [], new Date().toISOString());
    const job = jobKey(jobId, `sp-${jobId}`);
    const plain = new TableQueryStore(s.store);
    expect((await storeFor(plain, true, B, owner as never).jobStatuses()).filter((x) => x.jobKey === job)).toEqual([]);
    expect((await storeFor(plain, true, A, owner as never).jobStatuses()).filter((x) => x.jobKey === job)).toHaveLength(1);
  });

  it("a configuration with a tenant rule but no own tenant is refused, naming PROVBOT_TENANT_ID", () => {
    expect(() => loadConfig({ PROVBOT_STORAGE_ACCOUNT_URL: "https://acct.table.core.windows.net", PROVBOT_ALLOWED_TENANTS: `${A},${B}`, MicrosoftAppId: "app", MicrosoftAppType: "UserAssignedMSI", MicrosoftAppTenantId: "", PROVBOT_GRAPH_MANAGED_IDENTITY: "true" })).toThrow(/PROVBOT_TENANT_ID/);
  });
});
