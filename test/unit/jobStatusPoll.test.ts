import { describe, expect, it } from "vitest";
import { pollJobStatus } from "../../src/app/jobStatusPoll";
import type { JobStatusChange, JobStatusStore, StoredJobStatus } from "../../src/app/jobHealthPorts";

/** The poll use case over fakes of its two ports (the Table store has its own test on Azurite). */
function memoryStore() {
  const latest = new Map<string, StoredJobStatus>();
  const history: { jobKey: string; change: JobStatusChange }[] = [];
  const store: JobStatusStore = {
    all: async () => [...latest.values()],
    save: async (record, change) => {
      latest.set(record.jobKey, record);
      if (change) history.push({ jobKey: record.jobKey, change });
    },
    history: async (jobKey) => history.filter((h) => h.jobKey === jobKey).map((h) => h.change).reverse(),
  };
  return { store, history, latest };
}

const job = (code: string, extra: Record<string, unknown> = {}) => ({ id: "Job1", schedule: { interval: "PT40M", state: "Active" }, status: { code, ...extra } });

describe("polling job status", () => {
  it("finds jobs of listed and known service principals, records transitions, and one failing principal stops nothing", async () => {
    const { store, history, latest } = memoryStore();
    let code = "Active";
    const asked: string[] = [];
    const source = {
      servicePrincipals: async () => [{ id: "sp-listed", displayName: "Quarantined App" }, { id: "sp-broken", displayName: "Gone" }],
      jobsOf: async (id: string) => {
        asked.push(id);
        if (id === "sp-broken") throw new Error("404 Request_ResourceNotFound");
        return id === "sp-listed" ? [job(code, code === "Quarantine" ? { quarantine: { reason: "EncounteredQuarantineException" } } : {}), { no: "id" }] : [];
      },
    };
    const deps = { source, store, jobKeyOf: (j: string, sp: string) => `${j}@${sp}`, tenantId: "t1" };
    const first = await pollJobStatus(deps, [{ id: "sp-from-events", displayName: "Known" }], "2026-12-01T10:00:00Z");
    expect(first).toMatchObject({ servicePrincipals: 3, jobs: 1, failed: [{ servicePrincipalId: "sp-broken" }] });
    expect(asked.sort()).toEqual(["sp-broken", "sp-from-events", "sp-listed"]);
    expect(latest.get("Job1@sp-listed")).toMatchObject({ appName: "Quarantined App", tenantId: "t1", checkedAt: "2026-12-01T10:00:00Z", changedAt: "2026-12-01T10:00:00Z" });
    code = "Quarantine";
    const second = await pollJobStatus(deps, [], "2026-12-01T10:05:00Z");
    expect(second.readings.map((r) => r.transitions)).toEqual([["quarantined"]]);
    expect(history.at(-1)!.change).toMatchObject({ code: "Quarantine", reason: "EncounteredQuarantineException", transitions: ["quarantined"] });
    // Nothing changed: no history row, and the status keeps the time it changed (only the reading time moves).
    const rows = history.length;
    await pollJobStatus(deps, [], "2026-12-01T10:10:00Z");
    expect(history.length).toBe(rows);
    expect(latest.get("Job1@sp-listed")).toMatchObject({ checkedAt: "2026-12-01T10:10:00Z", changedAt: "2026-12-01T10:05:00Z" });
    code = "Active";
    expect((await pollJobStatus(deps, [], "2026-12-01T10:15:00Z")).readings[0]!.transitions).toEqual(["released"]);
  });

  it("reads the service principals known from events when the list cannot be read, and says so", async () => {
    const { store, latest } = memoryStore();
    const source = {
      servicePrincipals: async () => {
        throw new Error("403 Authorization_RequestDenied");
      },
      jobsOf: async () => [job("Active")],
    };
    const out = await pollJobStatus({ source, store, jobKeyOf: (j: string, sp: string) => `${j}@${sp}`, tenantId: "" }, [{ id: "sp-known", displayName: "Known" }], "2026-12-01T10:00:00Z");
    expect(out.failed).toEqual([{ servicePrincipalId: "*", error: "403 Authorization_RequestDenied" }]);
    expect(out.jobs).toBe(1);
    expect(latest.get("Job1@sp-known")).toMatchObject({ appName: "Known" });
  });
});
