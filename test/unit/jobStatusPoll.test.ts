import { describe, expect, it } from "vitest";
import { pollJobStatus, type JobStatusStore } from "../../src/app/jobStatusPoll";
import type { JobStatus, Transition } from "../../src/core/jobs/status";

/** Issue 14 (work in progress): the poll use case over fakes of its two ports. */
function memoryStore() {
  const latest = new Map<string, JobStatus>();
  const history: { key: string; changes: Transition[] }[] = [];
  const store: JobStatusStore = {
    latest: async (sp, job) => latest.get(`${sp}|${job}`) ?? null,
    save: async (sp, status, changes) => {
      latest.set(`${sp}|${status.jobId}`, status);
      history.push({ key: `${sp}|${status.jobId}`, changes });
    },
  };
  return { store, history };
}

const job = (code: string, extra: Record<string, unknown> = {}) => ({ id: "Job1", schedule: { interval: "PT40M", state: "Active" }, status: { code, ...extra } });

describe("polling job status", () => {
  it("finds jobs of listed and known service principals, records transitions, and one failing principal stops nothing", async () => {
    const { store, history } = memoryStore();
    let code = "Active";
    const source = {
      servicePrincipals: async () => [{ id: "sp-listed", displayName: "Quarantined App" }, { id: "sp-broken", displayName: "Gone" }],
      jobsOf: async (id: string) => {
        if (id === "sp-broken") throw new Error("404 Request_ResourceNotFound");
        return id === "sp-listed" ? [job(code, code === "Quarantine" ? { quarantine: { reason: "EncounteredQuarantineException" } } : {})] : [];
      },
    };
    const first = await pollJobStatus(source, store, ["sp-from-events"], "2026-12-01T10:00:00Z");
    expect(first).toMatchObject({ servicePrincipals: 3, jobs: 1, changes: [], failed: [{ servicePrincipalId: "sp-broken" }] });
    code = "Quarantine";
    const second = await pollJobStatus(source, store, [], "2026-12-01T10:05:00Z");
    expect(second.changes).toEqual([{ servicePrincipalId: "sp-listed", jobId: "Job1", transitions: ["quarantined"] }]);
    // Nothing changed: nothing written.
    const writes = history.length;
    await pollJobStatus(source, store, [], "2026-12-01T10:10:00Z");
    expect(history.length).toBe(writes);
    code = "Active";
    expect((await pollJobStatus(source, store, [], "2026-12-01T10:15:00Z")).changes[0]!.transitions).toEqual(["released"]);
  });
});
