import { describe, expect, it } from "vitest";
import { parseJob } from "../../src/core/jobs/status";
import { severity, stateWord, statusVerdictText } from "../../src/core/jobs/report";
import { answerQuestion } from "../../src/app/answer";
import { overview } from "../../src/app/dashboard";
import { MemoryStore } from "../support/memoryStore";
import { ingestItems } from "../../src/app/ingest";
import { provisioningRecord } from "../support/records";

/**
 * Issue 22: "how is Workday doing?" is not Healthy while its job status says 4,300 of 11,800
 * objects are failing. One verdict from the job status and the logs, the same in the chat's health
 * card, its job list, and the tab's app row.
 */
const NOW = new Date("2026-12-06T12:00:00.000Z");
const job = (escrowed: number, inScope: number) =>
  parseJob({
    id: "Workday2AAD.w0rk",
    schedule: { interval: "PT40M", state: "Active" },
    status: { code: "Active", steadyStateFirstAchievedTime: "2026-10-01T00:00:00Z", lastExecution: { timeBegan: "2026-12-06T11:00:00Z", timeEnded: "2026-12-06T11:20:00Z", state: "Succeeded", countEscrowed: escrowed }, synchronizedEntryCountByType: [{ key: "worker to user", value: inScope }] },
  })!;

describe("one health verdict", () => {
  it.each([
    [4_300, 11_800, /Heading for quarantine/],
    [900, 5_000, /Running with failing objects/],
    [12, 11_800, /^Running$/],
  ])("%i of %i failing objects: %s", (escrowed, inScope, word) => {
    expect(stateWord(job(escrowed, inScope))).toMatch(word);
  });

  it("a job heading for quarantine sorts before a healthy one and says why", () => {
    expect(severity(job(4_300, 11_800))).toBeLessThan(severity(job(12, 11_800)));
    expect(statusVerdictText(job(4_300, 11_800))).toMatch(/4,300 of 11,800 objects in scope are failing/);
    expect(statusVerdictText(job(12, 11_800))).toBeNull();
  });

  it("the chat's health card, its job list and the tab's app row agree", async () => {
    const store = new MemoryStore();
    const records = Array.from({ length: 20 }, (_, i) => provisioningRecord({ jobId: "Workday2AAD.w0rk", app: "Workday", at: new Date(NOW.getTime() - (i + 1) * 60_000), user: i, status: "success" }));
    await ingestItems(records.map((record, index) => ({ index, record })), "test", { store, deadLetters: { put: async () => "dl" }, clock: { now: () => NOW } });
    store.statuses.push({ jobKey: "Workday2AAD.w0rk", jobId: "Workday2AAD.w0rk", servicePrincipalId: "sp-Workday2AAD.w0rk", appName: "Workday", tenantId: "", status: job(4_300, 11_800), checkedAt: NOW.toISOString(), changedAt: NOW.toISOString() });
    const deps = { store, now: () => NOW, version: "t" };
    const health = JSON.stringify(await answerQuestion("how is workday doing?", deps));
    expect(health).toMatch(/Heading for quarantine/);
    expect(health).not.toMatch(/Healthy/);
    expect(JSON.stringify(await answerQuestion("status of all apps", deps))).toMatch(/Heading for quarantine/);
    const tab = (await overview({}, store, NOW)).body as { apps: { status: string | null }[] };
    expect(tab.apps.map((a) => a.status)).toContain("Heading for quarantine");
  });
});
