import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccessToken } from "@azure/core-auth";
import { startDemoGraph } from "../../scripts/demo";
import type { GraphState } from "../../scripts/graph-emulator";
import { GraphJobControl } from "../../src/adapters/graph/jobControl";
import { JobActions } from "../../src/app/actions";
import { ingestItems } from "../../src/app/ingest";
import { jobKey } from "../../src/adapters/tables/keys";
import { parseJob } from "../../src/core/jobs/status";
import type { ConversationTarget } from "../../src/core/conversation";
import { MemoryStore } from "../support/memoryStore";
import { confirmButton, MemoryActionStore } from "../support/memoryActions";

/**
 * Issue 26 on the demo tenant: the loopback Graph `npm start` runs answers the job actions as Graph
 * does, so the demo can be fixed from Teams: Alice is provisioned on demand in ServiceNow (and the
 * success is logged), Box's quarantine is cleared, Dropbox's held-back deletions are released after
 * two confirmations. The real Graph client is in the loop.
 */
const NOW = new Date(Date.now() - 10 * 60_000);
let graph: GraphState;
let actions: JobActions;
const store = new MemoryStore();
const credential = { getToken: async (): Promise<AccessToken> => ({ token: "demo", expiresOnTimestamp: Date.now() + 3_600_000 }) };
const me = { id: "29:ada", name: "Ada Admin", aadObjectId: "00000000-0000-4000-8000-0000000000ad" };
const chat: ConversationTarget = { conversationId: "c-demo", serviceUrl: "http://127.0.0.1:1/", tenantId: "", conversationType: "personal" } as ConversationTarget;

const jobsNow = async () => {
  const out = [];
  for (const sp of graph.servicePrincipals) {
    let res = await fetch(`${graph.baseUrl}/servicePrincipals/${sp.id}/synchronization/jobs`, { headers: { authorization: "Bearer demo" } });
    // The demo's Graph throttles now and then, as a busy tenant's does.
    if (res.status === 429) res = await fetch(`${graph.baseUrl}/servicePrincipals/${sp.id}/synchronization/jobs`, { headers: { authorization: "Bearer demo" } });
    for (const j of ((await res.json()) as { value: unknown[] }).value) {
      const status = parseJob(j)!;
      out.push({ jobKey: jobKey(status.jobId, sp.id), jobId: status.jobId, servicePrincipalId: sp.id, appName: sp.displayName, tenantId: "", status, checkedAt: "", changedAt: "" });
    }
  }
  return out;
};

beforeAll(async () => {
  graph = await startDemoGraph(NOW);
  graph.throttleEvery = 0; // the throttling of the actions is tested in test/e2e/actions.test.ts
  // The demo's logs as the pollers would store them (the identities, and the held-back deletions).
  await ingestItems(graph.events.map((record, index) => ({ index, record })), "test", { store, deadLetters: { put: async () => "dl" } });
  store.statuses = await jobsNow();
  actions = new JobActions({ control: new GraphJobControl({ credential, baseUrl: graph.baseUrl, maxRetries: 0, timeoutMs: 5_000 }), store: new MemoryActionStore(), permission: { mayManage: async () => "yes" }, query: store, clock: { now: () => new Date() }, log: () => undefined });
}, 60_000);
afterAll(async () => graph?.close());

const confirm = (answer: unknown) => actions.value(confirmButton(answer), chat, me);

describe("fixing the demo tenant from Teams", () => {
  it("provisions Alice Zhang on demand in ServiceNow: one request with ServiceNow's rule and her object id, and the success is in the logs", async () => {
    const alice = (await store.findIdentities("alice zhang"))[0]!;
    const asked = await actions.text("provision Alice Zhang in ServiceNow now", chat, me);
    // One Alice Zhang in ServiceNow (her Workday worker record is not an object of that app): no picker.
    expect(asked!.card).toBe("info");
    const result = await confirm(asked);
    expect(JSON.stringify(result)).toContain("Provisioned on demand: Alice Zhang in ServiceNow");
    const sent = graph.actions.filter((a) => a.path.endsWith("/provisionOnDemand"));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toEqual({ parameters: [{ ruleId: "ServiceNowOutDelta.rule", subjects: [{ objectId: alice.identityKey.slice(2), objectTypeName: "User" }] }] });
    const logged = graph.events.at(-1)!;
    expect((logged["sourceIdentity"] as { id: string }).id).toBe(alice.identityKey.slice(2));
    expect((logged["provisioningStatusInfo"] as { status: string }).status).toBe("success");
  });

  it("clears Box's quarantine: Graph then reports the job active", async () => {
    expect(store.statuses.find((s) => s.appName === "Box")!.status.code).toBe("Quarantine");
    const done = await confirm(await actions.text("clear the quarantine of Box", chat, me));
    expect(JSON.stringify(done)).toContain("cleared the quarantine of Box");
    expect(graph.actions.map((a) => a.path).filter((p) => p.endsWith("/start"))).toHaveLength(1);
    expect((await jobsNow()).find((s) => s.appName === "Box")!.status).toMatchObject({ code: "Active", quarantine: null });
  });

  it("releases Dropbox's held-back deletions after two confirmations, with their count", async () => {
    const first = await actions.text("allow deletes in Dropbox", chat, me);
    expect(JSON.stringify(first)).toMatch(/Pending deletes","value":"12"/);
    const second = await confirm(first);
    expect(JSON.stringify(second)).toContain("Second confirmation");
    expect(graph.actions.filter((a) => a.path.endsWith("/restart"))).toHaveLength(0);
    await confirm(second);
    const restarts = graph.actions.filter((a) => a.path.endsWith("/restart"));
    expect(restarts.map((r) => r.body)).toEqual([{ criteria: { resetScope: "ForceDeletes" } }]);
    expect((await jobsNow()).find((s) => s.appName.startsWith("Dropbox"))!.status).toMatchObject({ code: "Active", quarantine: null });
  });
});
