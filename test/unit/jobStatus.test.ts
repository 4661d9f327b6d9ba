import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { QUARANTINE_REASONS, disableDate, parseJob, transitions } from "../../src/core/jobs/status";

/** Shaped like Graph's synchronizationJob documentation example (values of our own). */
const job = (status: Record<string, unknown>) => ({
  id: "SalesforceOutDelta.e0c7d9f3a2b44b0f9c6c1e2f3a4b5c6d",
  templateId: "salesforce",
  schedule: { expiration: null, interval: "PT40M", state: "Active" },
  status: {
    code: "Active",
    countSuccessiveCompleteFailures: 0,
    escrowsPruned: false,
    steadyStateFirstAchievedTime: "0001-01-01T00:00:00Z",
    lastExecution: { timeBegan: "2026-11-30T10:00:00Z", timeEnded: "2026-11-30T10:02:30Z", state: "Succeeded", countImported: 120, countExported: 7, countEscrowed: 1, error: null },
    synchronizedEntryCountByType: [{ key: "User", value: 1200 }, { key: "Group", value: "40" }],
    ...status,
  },
});

describe("a provisioning job's status", () => {
  it("reads Graph's synchronizationJob: status, schedule, last cycle, objects in scope, the initial cycle", () => {
    const s = parseJob(job({}))!;
    expect(s).toMatchObject({ code: "Active", interval: "PT40M", scheduleState: "Active", steadyStateFirstAchievedTime: null, entriesByType: { User: 1200, Group: 40 }, quarantine: null });
    expect(s.lastExecution).toMatchObject({ began: "2026-11-30T10:00:00.000Z", state: "Succeeded", imported: 120, exported: 7, escrowed: 1 });
    expect(parseJob(job({ steadyStateFirstAchievedTime: "2026-11-20T08:00:00Z" }))!.steadyStateFirstAchievedTime).toBe("2026-11-20T08:00:00.000Z");
  });

  it("explains a quarantine and says when Entra will disable the job", () => {
    const q = parseJob(job({ code: "Quarantine", quarantine: { reason: "EncounteredQuarantineException", currentBegan: "2026-11-29T00:00:00Z", nextAttempt: "2026-11-30T00:00:00Z", seriesBegan: "2026-11-28T12:00:00Z", seriesCount: 3, error: { code: "SalesforceCredentialsInvalid", message: "bad password" } } }))!;
    expect(q.quarantine).toMatchObject({ reason: "EncounteredQuarantineException", seriesCount: 3, errorCode: "SalesforceCredentialsInvalid" });
    expect(QUARANTINE_REASONS[q.quarantine!.reason]!.fix).toMatch(/admin credentials/);
    expect(disableDate(q.quarantine!)).toBe("2026-12-26T12:00:00.000Z");
  });

  it("names the transitions the alerts need: quarantined, reason changed, released, paused, resumed, initial cycle completed", () => {
    const active = parseJob(job({}))!;
    const quarantined = parseJob(job({ code: "Quarantine", quarantine: { reason: "TooManyDeletes" } }))!;
    const other = parseJob(job({ code: "Quarantine", quarantine: { reason: "EncounteredEscrowProportionThreshold" } }))!;
    const paused = parseJob(job({ code: "Paused" }))!;
    const steady = parseJob(job({ steadyStateFirstAchievedTime: "2026-11-30T11:00:00Z" }))!;
    expect(transitions(active, quarantined)).toEqual(["quarantined"]);
    expect(transitions(quarantined, other)).toEqual(["reasonChanged"]);
    expect(transitions(other, active)).toEqual(["released"]);
    expect(transitions(active, paused)).toEqual(["paused"]);
    expect(transitions(paused, active)).toEqual(["resumed"]);
    expect(transitions(active, steady)).toEqual(["initialCycleCompleted"]);
    expect(transitions(active, active)).toEqual([]);
  });

  it("any JSON is read or refused, never thrown", () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
      const s = parseJob(v);
      expect(s === null || typeof s.jobId === "string").toBe(true);
      expect(parseJob({ id: "x", status: v, schedule: v })).not.toBeNull();
    }));
  });
});
