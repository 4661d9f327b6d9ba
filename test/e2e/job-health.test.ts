import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { cardOf, PlaygroundClient, runFunction, startHostProcess, startPlaygroundProcess, type HostProcess, type PlaygroundProcess } from "../support/stack";
import { startGraphServer, type GraphServer } from "../support/graphServer";
import { burst } from "../support/records";

/**
 * Job health end to end: the built host on Azurite reads a loopback Microsoft Graph (the emulator
 * `npm start` uses) with PROVBOT_GRAPH_BASE_URL and PROVBOT_GRAPH_ACCESS_TOKEN; the Agents
 * Playground is Teams. The job-status poller and the Graph poller run as the host runs them
 * (POST /admin/functions/<name>). A quarantine is entered, changes reason and is released; a job
 * is paused; an initial cycle completes; a job heads for quarantine; a scope change shows on the
 * burst card that follows it; and the questions are answered from the job status.
 */
let host: HostProcess;
let playground: PlaygroundProcess;
let client: PlaygroundClient;
let graph: GraphServer;

const run = Date.now().toString(36);
const J = { quarantine: `Quar.${run}`, paused: `Paus.${run}`, initial: `Init.${run}`, forecast: `Fore.${run}`, burst: `Burst.${run}` };
const apps: Record<string, string> = { [J.quarantine]: "Salesforce Sandbox", [J.paused]: "Fabrikam Sync", [J.initial]: "Zoom Rooms", [J.forecast]: "Workday Inbound", [J.burst]: "Adobe Creative" };
const sp = (jobId: string) => `sp-${jobId}`;
const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();

function syncJob(jobId: string, status: Record<string, unknown>, scheduleState = "Active") {
  const last = { timeBegan: iso(20 * 60_000), timeEnded: iso(15 * 60_000), state: "Succeeded", countImported: 100, countExported: 5, countEscrowed: 0 };
  return {
    id: jobId,
    templateId: jobId.split(".")[0],
    schedule: { interval: "PT40M", state: scheduleState },
    status: { code: "Active", lastExecution: last, steadyStateFirstAchievedTime: iso(30 * 86_400_000), synchronizedEntryCountByType: [{ key: "user to user", value: 1000 }], ...status },
  };
}

const ask = async (text: string) => JSON.stringify(cardOf((await client.ask(playground.conversationId, text)) as never));
const text = (m: unknown) => JSON.stringify(cardOf(m as never) ?? null);
/** Runs a function as the host does and returns what it logged during that run. */
const admin = async (fn: string) => {
  const output = await runFunction(host, fn);
  expect(host.output().split(`[${fn}] admin run succeeded`).length).toBeGreaterThan(1);
  return output;
};
/**
 * The incidents a job-status poll handed to the alert outbox, from its own log line: the positive
 * signal that the evaluation is done, so "no card" is a decision read, not a wait that cannot fail.
 */
const pollAlerts = (output: string): number => {
  const line = /jobstatus\.poll (\{.*\})/.exec(output);
  expect(line, "the poll's jobstatus.poll line").not.toBeNull();
  return (JSON.parse(line![1]!) as { alerts: number }).alerts;
};

beforeAll(async () => {
  graph = await startGraphServer([], {
    servicePrincipals: Object.entries(apps).map(([jobId, name]) => ({ id: sp(jobId), appId: `app-${jobId}`, displayName: name })),
    servicePrincipalPage: 2,
    throttleEvery: 9,
  });
  for (const jobId of Object.values(J)) graph.jobs[sp(jobId)] = [syncJob(jobId, {})];
  graph.jobs[sp(J.initial)] = [syncJob(J.initial, { steadyStateFirstAchievedTime: "0001-01-01T00:00:00Z", progress: [{ completedUnits: 300, totalUnits: 1000 }] })];
  host = await startHostProcess(inject("azurite").port, {
    PROVBOT_TABLE_PREFIX: `jh${run}`,
    PROVBOT_GRAPH_BASE_URL: graph.baseUrl,
    PROVBOT_GRAPH_ACCESS_TOKEN: "e2e-token",
    PROVBOT_GRAPH_INITIAL_DAYS: "1",
  });
  playground = await startPlaygroundProcess(host.url, "e2e-job-health");
  client = await PlaygroundClient.connect(playground.url);
  const seen = client.seen;
  await client.install(playground.conversationId);
  await client.waitForEvent((a, m) => a === "createMessage" && text(m).includes("provbot is here"), seen);
  expect(await ask("subscribe")).toContain("This conversation receives provisioning alerts.");
}, 120_000);

afterAll(async () => {
  if (process.env["JH_DEBUG"]) (await import("node:fs")).writeFileSync("/tmp/jh-host.log", host?.output() ?? "");
  client?.close();
  await playground?.stop();
  await host?.stop();
  await graph?.close();
});

describe("job health from a loopback Microsoft Graph", () => {
  it("reads every job through paged, throttled service principals with the bearer token; healthy jobs raise nothing", async () => {
    const seen = client.seen;
    const output = await admin("jobStatusPoll");
    expect(graph.requests.every((r) => r.authorization === "Bearer e2e-token")).toBe(true);
    expect(graph.requests.filter((r) => r.url.includes("/synchronization/jobs")).length).toBeGreaterThanOrEqual(5);
    // The poll is done and handed nothing to the outbox: no card can follow from it.
    expect(pollAlerts(output)).toBe(0);
    expect(client.events(seen).filter((e) => e.action === "createMessage")).toHaveLength(0);
    const all = await ask("status of all apps");
    for (const name of Object.values(apps)) expect(all).toContain(name);
    expect(all).toContain("Initial cycle in progress");
  }, 60_000);

  it("a quarantine posts one card with the reason, the fix and the disable date; a new reason updates it in place; release resolves it", async () => {
    const seen = client.seen;
    const began = iso(2 * 3_600_000);
    const quarantine = (reason: string) => ({ code: "Quarantine", quarantine: { reason, currentBegan: began, seriesBegan: began, nextAttempt: iso(-3_600_000), seriesCount: 2, error: { code: "E1", message: "escrows" } } });
    graph.jobs[sp(J.quarantine)] = [syncJob(J.quarantine, quarantine("EncounteredEscrowProportionThreshold"))];
    expect(pollAlerts(await admin("jobStatusPoll"))).toBe(1);
    const card = await client.waitForEvent((a, m) => a === "createMessage" && text(m).includes("Job in quarantine"), seen);
    expect(text(card.message)).toContain(apps[J.quarantine]);
    expect(text(card.message)).toContain("EncounteredEscrowProportionThreshold");
    expect(text(card.message)).toContain("Fix the most frequent error codes");
    const disable = new Date(Date.parse(began) + 28 * 86_400_000).toISOString().slice(0, 16).replace("T", " ");
    expect(text(card.message)).toContain(disable);

    const later = client.seen;
    graph.jobs[sp(J.quarantine)] = [syncJob(J.quarantine, quarantine("EncounteredQuarantineException"))];
    await admin("jobStatusPoll");
    const updated = await client.waitForEvent((a, m) => a === "updateMessage" && text(m).includes("EncounteredQuarantineException"), later);
    expect(updated.message.messageId).toBe(card.message.messageId);
    expect(text(updated.message)).toContain("re-enter the admin credentials");
    expect(await ask(`how is ${apps[J.quarantine]} doing?`)).toContain("In quarantine");
    expect(await ask("which jobs are quarantined?")).toContain(apps[J.quarantine]);

    const release = client.seen;
    graph.jobs[sp(J.quarantine)] = [syncJob(J.quarantine, {})];
    await admin("jobStatusPoll");
    const resolved = await client.waitForEvent((a, m) => a === "updateMessage" && text(m).includes("Released from quarantine"), release);
    expect(resolved.message.messageId).toBe(card.message.messageId);
    expect(client.events(seen).filter((e) => e.action === "createMessage" && text(e.message).includes("Job in quarantine"))).toHaveLength(1);
    expect(await ask(`quarantine history of ${apps[J.quarantine]}`)).toMatch(/Released[\s\S]*Reason changed[\s\S]*Quarantined/);
  }, 90_000);

  it("a paused job, an initial cycle that completes and a job heading for quarantine each post their card", async () => {
    const seen = client.seen;
    // Who paused it is in the audit trail (read by the Graph poller): the card names them (issue 25, item 8).
    graph.audits.push({
      id: `pause-${run}`,
      activityDateTime: new Date(Date.now() - 20 * 60_000).toISOString(),
      loggedByService: "Account Provisioning",
      category: "ProvisioningManagement",
      activityDisplayName: "Disable/pause provisioning",
      result: "success",
      initiatedBy: { user: { userPrincipalName: "carol@contoso.com" } },
      targetResources: [{ id: sp(J.paused), displayName: apps[J.paused], type: "ServicePrincipal", modifiedProperties: [] }],
    });
    await admin("graphPoll");
    graph.jobs[sp(J.paused)] = [syncJob(J.paused, { code: "Paused" }, "Disabled")];
    graph.jobs[sp(J.initial)] = [syncJob(J.initial, { steadyStateFirstAchievedTime: iso(60_000) })];
    graph.jobs[sp(J.forecast)] = [syncJob(J.forecast, { lastExecution: { timeBegan: iso(600_000), timeEnded: iso(300_000), state: "EntryLevelErrors", countImported: 10_000, countExported: 10, countEscrowed: 3_900 }, synchronizedEntryCountByType: [{ key: "worker to user", value: 10_000 }] })];
    expect(pollAlerts(await admin("jobStatusPoll"))).toBe(3);
    const paused = await client.waitForEvent((a, m) => a === "createMessage" && text(m).includes("Job paused"), seen);
    expect(text(paused.message)).toContain(apps[J.paused]);
    expect(text(paused.message)).toMatch(/Paused by.*carol@contoso\.com at \d{4}-\d\d-\d\d \d\d:\d\d UTC \(Disable\/pause provisioning, audit log\)/);
    expect(text(paused.message)).toContain("ask carol@contoso.com");
    const initial = await client.waitForEvent((a, m) => a === "createMessage" && text(m).includes("Initial cycle completed"), seen);
    expect(text(initial.message)).toContain(apps[J.initial]);
    const forecast = await client.waitForEvent((a, m) => a === "createMessage" && text(m).includes("Heading for quarantine"), seen);
    expect(text(forecast.message)).toContain("3,900 of 10,000 objects in scope are failing (39.0 %)");
    expect(await ask("what is paused?")).toContain(apps[J.paused]);
    // A second reading of the same status changes nothing: the forecast card is not repeated.
    expect(pollAlerts(await admin("jobStatusPoll"))).toBe(0);
    expect(client.events(seen).filter((e) => e.action === "createMessage" && text(e.message).includes("Heading for quarantine"))).toHaveLength(1);
  }, 90_000);

  it("a scope change in the audit trail shows on the burst card that follows it", async () => {
    const seen = client.seen;
    const end = new Date();
    graph.audits.push({
      id: `audit-${run}`,
      activityDateTime: new Date(end.getTime() - 16 * 60_000).toISOString(),
      loggedByService: "Account Provisioning",
      category: "ProvisioningManagement",
      activityDisplayName: "Update attribute mappings or scope",
      result: "success",
      initiatedBy: { user: { userPrincipalName: "bob@contoso.com" } },
      targetResources: [{ id: sp(J.burst), displayName: apps[J.burst], type: "ServicePrincipal", modifiedProperties: [{ displayName: "ScopingFilter", oldValue: '"department EQUALS Marketing OR Design"', newValue: '"department EQUALS Marketing"' }] }],
    });
    graph.events.push(...burst(24, { jobId: J.burst, app: apps[J.burst]!, action: "disable", end, cycleId: "storm" }));
    await admin("graphPoll");
    const card = await client.waitForEvent((a, m) => a === "createMessage" && text(m).includes("Burst of disables/deletes"), seen);
    expect(text(card.message)).toMatch(/attribute mappings or scope updated \(Update attribute mappings or scope\) by bob@contoso.com 1[0-9] minutes before the first disable or delete/);
    // What changed, old → new (issue 25, item 8).
    expect(text(card.message)).toContain('ScopingFilter: \\"department EQUALS Marketing OR Design\\" → \\"department EQUALS Marketing\\"');
    expect(await ask(`what changed in the ${apps[J.burst]} provisioning configuration?`)).toContain("bob@contoso.com");
  }, 90_000);
});
