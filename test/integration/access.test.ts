import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccessToken } from "@azure/core-auth";
import { GraphDirectory } from "../../src/adapters/graph/directory";
import { AccessControl } from "../../src/app/access";
import { createChatHandler, type ChatHandler } from "../../src/app/chat";
import { ingestItems } from "../../src/app/ingest";
import { ConversationRegistry, createAlerts } from "../../src/app/alerts";
import { TableAlertStore, TableSubscriptionStore } from "../../src/adapters/tables/alertStore";
import type { AccessMode } from "../../src/core/access";
import type { ConversationTarget } from "../../src/core/conversation";
import { MemoryStore } from "../support/memoryStore";
import { provisioningRecord } from "../support/records";
import { startDirectoryServer, type DirectoryServer } from "../support/directoryServer";
import { testTables } from "../support/tables";

/**
 * Issue 13: who may ask, decided as the Entra admin center decides who may read provisioning logs,
 * from a loopback Microsoft Graph (the real GraphDirectory client in the loop).
 */
const id = (n: number) => `00000000-0000-0000-0000-${String(n).padStart(12, "0")}`;
const READER = id(1);
const APP_ADMIN = id(2);
const CUSTOM = id(3);
const OWNER = id(4);
const NOBODY = id(5);
const IN_GROUP = id(6);
const GROUP = id(90);
const ROLE = { reportsReader: "4a5d8f65-41da-4de4-8968-e035b65339cf", appAdmin: "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", directoryReaders: "88d8e3e3-8f55-4a1e-953a-9b9898b8876b" };

let graph: DirectoryServer;
beforeAll(async () => {
  graph = await startDirectoryServer({
    [READER]: { roles: [ROLE.directoryReaders, "some-other-role", ROLE.reportsReader] },
    [APP_ADMIN]: { roles: [ROLE.appAdmin] },
    [CUSTOM]: { customPermissions: ["microsoft.directory/provisioningLogs/allProperties/read"] },
    [OWNER]: { owns: ["sp-owned"] },
    [NOBODY]: { roles: [ROLE.directoryReaders], customPermissions: ["microsoft.directory/users/basic/read"] },
    [IN_GROUP]: { groups: [id(91), GROUP] },
  });
});
afterAll(async () => graph?.close());

const credential = { getToken: async (): Promise<AccessToken> => ({ token: "directory-token", expiresOnTimestamp: Date.now() + 3_600_000 }) };

async function world(mode: AccessMode, now = { t: Date.now() }) {
  const store = new MemoryStore();
  const at = new Date(Date.now() - 3_600_000);
  const owned = [1, 2].map((u) => provisioningRecord({ jobId: "OwnedOutDelta.j", app: "Owned App", at, user: u, status: "failure" }));
  const other = [3, 4, 5].map((u) => provisioningRecord({ jobId: "OtherOutDelta.j", app: "Other App", at, user: u, status: "failure", errorCode: "OtherAppOnlyCode" }));
  for (const r of owned) (r["servicePrincipal"] as { id: string }).id = "sp-owned";
  await ingestItems([...owned, ...other].map((record, index) => ({ index, record })), "test", { store, deadLetters: { put: async () => "dl" } });
  const clock = { now: () => new Date(now.t) };
  const access = new AccessControl({ mode, directory: new GraphDirectory({ credential, baseUrl: graph.baseUrl, maxRetries: 0, timeoutMs: 2_000 }), principals: new Set([GROUP]), clock });
  const refused: { userObjectId: string; reason: string }[] = [];
  const { factory } = testTables();
  const subs = new TableSubscriptionStore(factory);
  const alertStore = new TableAlertStore(factory);
  const conversations = new ConversationRegistry({ store: subs, clock });
  const alerts = createAlerts({ subs, incidents: alertStore, thresholds: alertStore, query: store, sender: { send: async () => ({ kind: "ok", activityId: "a" }), update: async () => ({ kind: "ok", activityId: "a" }) }, outbox: { notify: async () => undefined }, conversations, clock, jobKeyOf: () => "" });
  const chat = createChatHandler({ version: "t", store, now: () => new Date(now.t), access, conversations, alerts: alerts.commands, refused: (e) => refused.push(e) });
  return { store, chat, refused, other, subs, now };
}

const target: ConversationTarget = { conversationId: "conv-access", serviceUrl: "http://127.0.0.1:1/", tenantId: "t1", conversationType: "personal" };
const ask = async (chat: ChatHandler, user: string, text: string) => JSON.stringify(await chat.onMessage({ text, target: { ...target, conversationId: `conv-${user}` }, from: { id: "u", name: "Someone", aadObjectId: user } }));

describe("who may ask (PROVBOT_ACCESS=roles)", () => {
  it("the portal's roles and a custom role with the provisioning-logs permission are let in; everyone else gets a card that names the roles and reveals nothing", async () => {
    const w = await world("roles");
    for (const user of [READER, APP_ADMIN, CUSTOM]) expect(await ask(w.chat, user, "failures today")).toContain("Other App");
    const refusal = await ask(w.chat, NOBODY, "failures in Other App today");
    expect(refusal).toContain("You need access to provisioning logs");
    expect(refusal).toContain("Reports Reader");
    expect(refusal).not.toMatch(/Other App|OtherAppOnlyCode|failure/i);
    expect(w.refused).toEqual([{ tenantId: "t1", userObjectId: NOBODY, reason: expect.stringContaining("no role that may read provisioning logs") }]);
    // A message without an object id is refused without asking Graph.
    const before = graph.requests.length;
    expect(await ask(w.chat, "", "failures today")).toContain("You need access to provisioning logs");
    expect(await ask(w.chat, "../../servicePrincipals", "failures today")).toContain("You need access to provisioning logs");
    expect(graph.requests.length).toBe(before);
    expect(graph.requests.every((r) => r.authorization === "Bearer directory-token")).toBe(true);
  });

  it("an application owner sees only the apps they own: lists, counts, lookups and subscriptions", async () => {
    const w = await world("roles");
    const list = await ask(w.chat, OWNER, "failures today");
    expect(list).toContain("Owned App");
    expect(list).not.toContain("Other App");
    expect(await ask(w.chat, OWNER, "how many failures today")).toMatch(/"title":"(About )?2: events · Failure"/);
    // Another app's change is "not found", exactly as a change that does not exist.
    const theirs = String(w.other[0]!["changeId"]);
    const nothing = "11111111-2222-3333-4444-555555555555";
    expect((await ask(w.chat, OWNER, theirs)).replaceAll(theirs, "X")).toBe((await ask(w.chat, OWNER, nothing)).replaceAll(nothing, "X"));
    expect(await ask(w.chat, OWNER, "failures in Other App today")).not.toContain("OtherAppOnlyCode");
    // "subscribe" subscribes an owner to their own apps, not to every app.
    await ask(w.chat, OWNER, "subscribe");
    expect(await w.subs.get(`conv-${OWNER}`)).toMatchObject({ subscribed: true, apps: ["Owned App"] });
  });

  it("tenant-wide thresholds only for the administrator roles", async () => {
    const w = await world("roles");
    expect(await ask(w.chat, READER, "threshold Other App failures 100000")).toContain("Threshold not changed");
    expect(await ask(w.chat, OWNER, "threshold Owned App failures 100000")).toContain("Threshold not changed");
    expect(await ask(w.chat, APP_ADMIN, "threshold Other App failures 25")).toContain("failures ≥ 25");
  });

  it("decisions are cached for minutes: a removed role takes effect when the cache expires; a directory that cannot be read refuses for now, uncached", async () => {
    const now = { t: Date.now() };
    const w = await world("roles", now);
    graph.users.set(id(7), { roles: [ROLE.reportsReader] });
    expect(await ask(w.chat, id(7), "failures today")).toContain("Other App");
    const calls = graph.requests.length;
    graph.users.set(id(7), { roles: [] });
    expect(await ask(w.chat, id(7), "failures today")).toContain("Other App");
    expect(graph.requests.length).toBe(calls);
    now.t += 5 * 60_000 + 1_000;
    expect(await ask(w.chat, id(7), "failures today")).toContain("You need access to provisioning logs");
    graph.fail = 503;
    try {
      expect(await ask(w.chat, id(8), "failures today")).toContain("could not check your access");
    } finally {
      graph.fail = null;
    }
    graph.users.set(id(8), { roles: [ROLE.reportsReader] });
    expect(await ask(w.chat, id(8), "failures today")).toContain("Other App");
  });
});

describe("a person the directory does not hold (another allowed tenant's user)", () => {
  for (const mode of ["roles", "allowlist"] as const) {
    it(`is refused (not "could not check"), logged, and the decision is cached (${mode})`, async () => {
      const w = await world(mode);
      const stranger = id(4242);
      const answer = await ask(w.chat, stranger, "failures today");
      expect(answer).toContain("You need access to provisioning logs");
      expect(answer).not.toContain("could not check your access");
      expect(answer).not.toMatch(/Other App|OtherAppOnlyCode/);
      expect(w.refused).toEqual([{ tenantId: "t1", userObjectId: stranger, reason: "not found in this directory" }]);
      const calls = graph.requests.length;
      expect(await ask(w.chat, stranger, "failures today")).toContain("You need access to provisioning logs");
      expect(graph.requests.length).toBe(calls);
    });
  }
});

describe("who may ask (PROVBOT_ACCESS=allowlist)", () => {
  it("members of an allow-listed group, transitively, are let in; others are not", async () => {
    const w = await world("allowlist");
    expect(await ask(w.chat, IN_GROUP, "failures today")).toContain("Other App");
    expect(await ask(w.chat, READER, "failures today")).toContain("You need access to provisioning logs");
  });
});
