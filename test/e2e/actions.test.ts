import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runFunction, startHostProcess, type HostProcess } from "../support/stack";
import { startGraphServer, type GraphServer } from "../support/graphServer";
import { messageActivity, startCaptureConnector, type CaptureConnector, type ConnectorCall } from "../support/connector";
import { provisioningRecord } from "../support/records";

/**
 * Issue 26 end to end: the built host on Azurite, with roles checked against a loopback Microsoft
 * Graph that also answers the synchronization actions (the emulator `npm start` uses), and Teams'
 * connector at the HTTP boundary. An Application Administrator provisions a user on demand and
 * restarts a job, each after a confirmation, and Graph receives exactly one correct request each;
 * a Reports Reader, an owner of another app and a person of another tenant see no button and are
 * refused when typing the command, and Graph receives no action; an expired or replayed
 * confirmation does nothing; a throttled call says so and retries nothing.
 */
const TENANT = "5d2f1c3a-0000-4000-8000-00000000ac75";
const OTHER_TENANT = "9e9e9e9e-0000-4000-8000-0000000000ff";
const gid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const ADMIN = gid(1);
const READER = gid(2);
const OWNER_OTHER = gid(3);
const OWNER_SN = gid(4);
const ROLE = { appAdmin: "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", reportsReader: "4a5d8f65-41da-4de4-8968-e035b65339cf" };
const run = Date.now().toString(36);
const SN = `ServiceNowOutDelta.${run}`;
const BOX = `BoxOutDelta.${run}`;
const sp = (jobId: string) => `sp-${jobId}`;

let host: HostProcess;
let graph: GraphServer;
let teams: CaptureConnector;
let seq = 0;

const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();
const syncJob = (jobId: string, status: Record<string, unknown> = {}) => ({
  id: jobId,
  templateId: jobId.split(".")[0],
  schedule: { interval: "PT40M", state: "Active" },
  status: { code: "Active", lastExecution: { timeBegan: iso(20 * 60_000), timeEnded: iso(15 * 60_000), state: "Succeeded", countImported: 10, countExported: 1, countEscrowed: 0 }, steadyStateFirstAchievedTime: iso(30 * 86_400_000), ...status },
});

/** The built host as a deployment with actions on: roles read from the loopback Graph, one allowed tenant. */
const hostEnv = (extra: Record<string, string>) => ({
  PROVBOT_GRAPH_BASE_URL: graph.baseUrl,
  PROVBOT_GRAPH_ACCESS_TOKEN: "e2e-token",
  PROVBOT_GRAPH_TENANT_ID: TENANT,
  PROVBOT_ACCESS: "roles",
  PROVBOT_ALLOWED_TENANTS: TENANT,
  PROVBOT_ACTIONS: "on",
  ...extra,
});

/** Says something as a person in a conversation; resolves with the cards the bot sent back. */
async function say(user: string, text: string, opts: { value?: Record<string, unknown>; conversationId?: string; tenant?: string; type?: string; replyToId?: string } = {}): Promise<Record<string, unknown>[]> {
  const conversationId = opts.conversationId ?? `conv-${user}`;
  const tenant = opts.tenant ?? TENANT;
  const before = teams.calls.length;
  const activity = messageActivity(text, teams.url, {
    id: `act-${run}-${++seq}`,
    from: { id: `29:${user}`, name: user === ADMIN ? "Ada Admin" : `User ${user.slice(-2)}`, aadObjectId: user },
    conversation: { id: conversationId, conversationType: opts.type ?? "personal", tenantId: tenant },
    channelData: { tenant: { id: tenant } },
    ...(opts.value ? { value: opts.value } : {}),
    ...(opts.replyToId ? { replyToId: opts.replyToId } : {}),
  });
  const res = await fetch(`${host.url}/api/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(activity) });
  expect(res.status).toBe(200);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    // A new message (POST), or the pressed card updated in place (PUT to its activity).
    const replies = teams.calls.slice(before).filter((c) => c.path.includes(encodeURIComponent(conversationId)) && (c.method === "POST" || c.method === "PUT"));
    if (replies.length) return replies.map(cardOf);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no reply to "${text}"`);
}
const cardOf = (c: ConnectorCall) => ((c.body?.["attachments"] as { content: Record<string, unknown> }[] | undefined)?.[0]?.content ?? {}) as Record<string, unknown>;
const buttons = (card: Record<string, unknown>) => ((card["actions"] as { title: string; data?: Record<string, unknown> }[] | undefined) ?? []).filter((a) => a.data);
const jobActions = (card: Record<string, unknown>) => buttons(card).filter((a) => a.data?.["jobAction"]);
const press = (user: string, button: { data?: Record<string, unknown> }, opts: { conversationId?: string; type?: string } = {}) => say(user, String(button.data?.["text"] ?? ""), { value: button.data!, replyToId: "activity-pressed", ...opts });
const lastMethod = () => teams.calls.at(-1)!.method;
const actionRequests = () => graph.requests.filter((r) => /\/synchronization\/jobs\/[^/]+\/(provisionOnDemand|restart|pause|start|schema)/.test(r.url));
const posted = () => graph.actions.map((a) => a.path);

beforeAll(async () => {
  teams = await startCaptureConnector();
  const at = new Date(Date.now() - 30 * 60_000);
  const records = [
    ...[1, 2, 3].map((u) => provisioningRecord({ jobId: SN, app: "ServiceNow", at, user: u, status: "failure", errorCode: "ServiceNowEntryConflict" })),
    provisioningRecord({ jobId: BOX, app: "Box", at, user: 1 }),
  ].map((r) => ({ ...r, tenantId: TENANT }));
  graph = await startGraphServer(records, {
    servicePrincipals: [
      { id: sp(SN), appId: `app-${SN}`, displayName: "ServiceNow" },
      { id: sp(BOX), appId: `app-${BOX}`, displayName: "Box" },
    ],
    directory: {
      [ADMIN]: { roles: [ROLE.appAdmin] },
      [READER]: { roles: [ROLE.reportsReader] },
      [OWNER_OTHER]: { owns: [sp(BOX)] },
      [OWNER_SN]: { owns: [sp(SN)] },
    },
  });
  graph.jobs[sp(SN)] = [syncJob(SN)];
  graph.jobs[sp(BOX)] = [syncJob(BOX, { code: "Quarantine", quarantine: { reason: "EncounteredQuarantineException", currentBegan: iso(3_600_000), nextAttempt: iso(-3_600_000), seriesBegan: iso(5 * 3_600_000), seriesCount: 5, error: { code: "InvalidCredentials", message: "bad token" } } })];
  host = await startHostProcess(inject("azurite").port, hostEnv({ PROVBOT_TABLE_PREFIX: `ac${run}`, PROVBOT_GRAPH_INITIAL_DAYS: "1" }));
  await runFunction(host, "jobStatusPoll");
  await runFunction(host, "graphPoll");
}, 120_000);

afterAll(async () => {
  await host?.stop();
  await graph?.close();
  await teams?.close();
});

describe("actions from the card, for the people Entra would let do them", () => {
  it("an Application Administrator provisions a user on demand after a confirmation: one correct request, the four steps answered", async () => {
    const [why] = await say(ADMIN, "why did user1 fail in ServiceNow");
    const button = jobActions(why!).find((b) => /Provision/.test(b.title));
    expect(button, JSON.stringify(buttons(why!))).toBeDefined();
    const before = actionRequests().length;
    const [confirm] = await press(ADMIN, button!);
    // Nothing is sent before the confirmation; the card names the job, the app, the tenant and what happens.
    expect(actionRequests().length).toBe(before);
    const text = JSON.stringify(confirm);
    for (const s of ["ServiceNow", SN, TENANT, "User 1", "changes ServiceNow for real"]) expect(text).toContain(s);
    const yes = buttons(confirm!).find((b) => /^Confirm/.test(b.title))!;
    const [result] = await press(ADMIN, yes);
    expect(JSON.stringify(result)).toContain("Provisioned on demand: User 1 in ServiceNow");
    // The result takes the confirmation card's place (its buttons are gone).
    expect(lastMethod()).toBe("PUT");
    expect(teams.calls.at(-1)!.path).toMatch(/\/activities\/activity-pressed$/);
    for (const phase of ["Import", "Determine if in scope", "Match between source and target", "Perform action"]) expect(JSON.stringify(result)).toContain(phase);
    const onDemand = graph.actions.filter((a) => a.path.endsWith("/provisionOnDemand"));
    expect(onDemand).toHaveLength(1);
    expect(onDemand[0]!.path).toBe(`/v1.0/servicePrincipals/${sp(SN)}/synchronization/jobs/${SN}/provisionOnDemand`);
    expect(onDemand[0]!.body).toEqual({ parameters: [{ ruleId: "ServiceNowOutDelta.rule", subjects: [{ objectId: "obj-1", objectTypeName: "User" }] }] });

    // The same confirmation pressed again does nothing.
    const [replay] = await press(ADMIN, yes);
    expect(JSON.stringify(replay)).toContain("already used");
    expect(graph.actions.filter((a) => a.path.endsWith("/provisionOnDemand"))).toHaveLength(1);
  });

  it("restart, typed, shows the seed's warning and restarts once after the confirmation", async () => {
    const [confirm] = await say(ADMIN, "restart the Box provisioning job");
    expect(JSON.stringify(confirm)).toMatch(/clears the job's state.*full cycle/);
    expect(posted().filter((p) => p.endsWith("/restart"))).toHaveLength(0);
    const [done] = await press(ADMIN, buttons(confirm!).find((b) => /^Confirm/.test(b.title))!);
    expect(JSON.stringify(done)).toContain("Done: Restart provisioning in Box");
    const restarts = graph.actions.filter((a) => a.path.endsWith("/restart"));
    expect(restarts).toHaveLength(1);
    expect(restarts[0]!.path).toBe(`/v1.0/servicePrincipals/${sp(BOX)}/synchronization/jobs/${BOX}/restart`);
    expect(restarts[0]!.body).toEqual({ criteria: {} });
    // Recorded, and listed by "what did provbot do this week".
    const [log] = await say(ADMIN, "what did provbot do this week");
    expect(JSON.stringify(log)).toMatch(/Restart provisioning in Box · done · by Ada Admin/);
    expect(JSON.stringify(log)).toMatch(/Provision on demand User 1 in ServiceNow · done/);
  });

  for (const [who, user, tenant] of [["a Reports Reader", READER, TENANT], ["an owner of another app", OWNER_OTHER, TENANT], ["a person of another tenant", ADMIN, OTHER_TENANT]] as const) {
    it(`${who} sees no action button, and is refused when typing the command; Graph receives no action`, async () => {
      const before = actionRequests().length;
      const [why] = await say(user, "why did user2 fail in ServiceNow", { tenant, conversationId: `conv-${user}-${tenant}` });
      expect(jobActions(why!)).toEqual([]);
      for (const command of ["provision user2 in ServiceNow", "restart ServiceNow", "pause the ServiceNow job"]) {
        const [refused] = await say(user, command, { tenant, conversationId: `conv-${user}-${tenant}` });
        const text = JSON.stringify(refused);
        expect(text).not.toContain(SN);
        expect(text).not.toMatch(/Confirm/);
      }
      expect(actionRequests().length).toBe(before);
    });
  }

  it("the app's owner may act on it; a confirmation pressed by someone else, or never issued, does nothing", async () => {
    const [confirm] = await say(OWNER_SN, "pause ServiceNow");
    const yes = buttons(confirm!).find((b) => /^Confirm/.test(b.title))!;
    expect(yes).toBeDefined();
    // Another admin pressing the owner's confirmation (from their own chat) does nothing.
    const [stolen] = await press(ADMIN, yes);
    expect(JSON.stringify(stolen)).toContain("Nothing was done");
    expect(posted().filter((p) => p.endsWith("/pause"))).toHaveLength(0);
    // A token that was never issued does nothing either.
    const [forged] = await press(OWNER_SN, { data: { text: "Confirm", jobAction: { op: "confirm", token: "AAAAAAAAAAAAAAAAAAAAAAAA" } } });
    expect(JSON.stringify(forged)).toContain("not known");
    const [paused] = await press(OWNER_SN, yes);
    expect(JSON.stringify(paused)).toContain("Done: Pause provisioning in ServiceNow");
    expect(posted().filter((p) => p.endsWith("/pause"))).toHaveLength(1);
  });

  it("asked in a channel, the confirmation goes to the asker's personal chat, and works there", async () => {
    const channel = `19:ops-${run}@thread.tacv2`;
    const before = teams.calls.length;
    const [inChannel] = await say(ADMIN, "restart Box", { conversationId: channel, type: "channel" });
    expect(JSON.stringify(inChannel)).toContain("Confirmation sent to your personal chat");
    expect(jobActions(inChannel!)).toEqual([]);
    // The Bot Framework opened the personal chat and posted the confirmation there, not in the channel.
    const created = teams.calls.slice(before).find((c) => c.method === "POST" && /^\/v3\/conversations\/?$/.test(c.path));
    expect(created?.body?.["members"]).toEqual([{ id: `29:${ADMIN}`, name: "" }]);
    const sent = teams.calls.slice(before).find((c) => /Confirm: Restart provisioning in Box/.test(JSON.stringify(c.body)))!;
    expect(sent.path).not.toContain(encodeURIComponent(channel));
    const yes = buttons(cardOf(sent)).find((b) => /^Confirm/.test(b.title))!;
    // Pressed in the channel (where it was never shown) it does nothing; in the personal chat it restarts once.
    const restartsBefore = posted().filter((p) => p.endsWith("/restart")).length;
    const [fromChannel] = await press(ADMIN, yes, { conversationId: channel, type: "channel" });
    expect(JSON.stringify(fromChannel)).toContain("Nothing was done");
    const [done] = await press(ADMIN, yes);
    expect(JSON.stringify(done)).toContain("Done: Restart provisioning in Box");
    expect(posted().filter((p) => p.endsWith("/restart")).length).toBe(restartsBefore + 1);
  });

  it("a restart narrowed to one of Graph's scopes sends that scope, and only scopes Graph offers are taken", async () => {
    const [confirm] = await say(ADMIN, "restart ServiceNow");
    const titles = buttons(confirm!).map((b) => b.title);
    expect(titles).toContain("Reset the watermark only");
    // ServiceNow is not quarantined: no quarantine-only restart is offered.
    expect(titles).not.toContain("Lift the quarantine only");
    const forged = { data: { text: "x", jobAction: { ...(buttons(confirm!).find((b) => b.title === "Reset the watermark only")!.data!["jobAction"] as object), scope: "ConnectorDataStore" } } };
    expect(JSON.stringify((await press(ADMIN, forged))[0])).toContain("Nothing was done");
    const before = graph.actions.length;
    await press(ADMIN, buttons(confirm!).find((b) => b.title === "Reset the watermark only")!);
    expect(graph.actions.slice(before).map((a) => [a.path.split("/").at(-1), a.body])).toEqual([["restart", { criteria: { resetScope: "Watermark" } }]]);
  });

  it("a throttled call says so, and nothing is retried on its own", async () => {
    graph.faults.push({ status: 429, headers: { "retry-after": "7" }, body: JSON.stringify({ error: { code: "TooManyRequests", message: "slow down" } }) });
    const [confirm] = await say(ADMIN, "start ServiceNow");
    const before = graph.requests.length;
    const [answer] = await press(ADMIN, buttons(confirm!).find((b) => /^Confirm/.test(b.title))!);
    expect(JSON.stringify(answer)).toMatch(/throttling.*does not retry on its own.*7 s/);
    await new Promise((r) => setTimeout(r, 1500));
    // The press made exactly one request to Graph's start (the 429), and nothing after it.
    expect(graph.requests.slice(before).filter((r) => r.url.includes("/start"))).toHaveLength(1);
    expect(posted().filter((p) => p.endsWith("/start"))).toHaveLength(0);
  });
});

describe("a confirmation that expired", () => {
  let shortHost: HostProcess;
  beforeAll(async () => {
    shortHost = await startHostProcess(inject("azurite").port, hostEnv({ PROVBOT_TABLE_PREFIX: `ax${run}`, PROVBOT_ACTION_CONFIRM_SECONDS: "1" }));
    await runFunction(shortHost, "jobStatusPoll");
  }, 60_000);
  afterAll(async () => shortHost?.stop());

  it("does nothing, and says so", async () => {
    const main = host;
    host = shortHost;
    try {
      const [confirm] = await say(ADMIN, "pause Box", { conversationId: "conv-expiry" });
      const yes = buttons(confirm!).find((b) => /^Confirm/.test(b.title))!;
      expect(yes).toBeDefined();
      await new Promise((r) => setTimeout(r, 1_500));
      const before = actionRequests().length;
      const [late] = await press(ADMIN, yes, { conversationId: "conv-expiry" });
      expect(JSON.stringify(late)).toContain("expired");
      expect(actionRequests().length).toBe(before);
    } finally {
      host = main;
    }
  });
});
