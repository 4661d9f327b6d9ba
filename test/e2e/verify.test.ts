import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { join } from "node:path";
import { verify, type Check } from "../../scripts/verify";
import { startGraphServer, graphRecord, type GraphServer } from "../support/graphServer";
import { ROOT, runFunction, startHostProcess, type HostProcess } from "../support/stack";

/**
 * `npm run verify` against the built local host: once configured as a deployment is (bot
 * authentication, the tab's SSO app, Graph), where every check passes once the pollers have run; once
 * as the open development host, where the checks that guard a deployment fail; and with Graph
 * refusing the identity (403), where the Graph check fails and says to grant the permissions.
 */
const run = Date.now().toString(36);
let graph: GraphServer;
let deployed: HostProcess;
let open: HostProcess;

const admin = (host: HostProcess, fn: string) => runFunction(host, fn);
const byName = (checks: Check[]) => Object.fromEntries(checks.map((c) => [c.name, c]));

beforeAll(async () => {
  graph = await startGraphServer(Array.from({ length: 5 }, (_, i) => graphRecord(i, new Date(Date.now() - (i + 1) * 60_000).toISOString())));
  const asDeployed = {
    PROVBOT_TABLE_PREFIX: `vf${run}`,
    MicrosoftAppId: "11111111-1111-4111-8111-111111111111",
    MicrosoftAppType: "SingleTenant",
    MicrosoftAppTenantId: "22222222-2222-4222-8222-222222222222",
    MicrosoftAppPassword: "not-used-by-a-refusal",
    PROVBOT_TAB_CLIENT_ID: "33333333-3333-4333-8333-333333333333",
    PROVBOT_GRAPH_BASE_URL: graph.baseUrl,
    PROVBOT_GRAPH_ACCESS_TOKEN: "verify-token",
    PROVBOT_GRAPH_INITIAL_DAYS: "1",
  };
  [deployed, open] = await Promise.all([startHostProcess(inject("azurite").port, asDeployed), startHostProcess(inject("azurite").port, { PROVBOT_TABLE_PREFIX: `vo${run}` })]);
}, 60_000);
afterAll(async () => {
  await Promise.all([deployed?.stop(), open?.stop()]);
  await graph?.close();
});

describe("npm run verify", () => {
  it("a host configured as a deployment: storage, the queue, the bot's and the tab's refusals pass; Graph is pending until the pollers run, then passes", async () => {
    const before = byName(await verify(deployed.url));
    for (const name of ["health", "storage", "alert queue", "bot", "tab", "tab data"]) expect(before[name], `${name}: ${before[name]?.detail}`).toMatchObject({ verdict: "pass" });
    expect(before["graph"]!.verdict).toBe("pending");
    await admin(deployed, "graphPoll");
    await admin(deployed, "jobStatusPoll");
    const after = byName(await verify(deployed.url));
    expect(after["graph"], after["graph"]!.detail).toMatchObject({ verdict: "pass" });
    // The CLI: every check printed, exit code 0.
    const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, "dist", "scripts", "verify.js"), deployed.url]);
    expect(stdout).toMatch(/ok {2}\s*bot\s+an unsigned request is refused \(401\)/);
    expect(stdout).toContain("every check passed");
  }, 60_000);

  it("the open development host: the bot and the tab's data answer without a token, and verify fails (exit code 1)", async () => {
    const checks = byName(await verify(open.url));
    expect(checks["bot"]).toMatchObject({ verdict: "fail" });
    expect(checks["bot"]!.detail).toContain("not 401");
    expect(checks["tab data"]).toMatchObject({ verdict: "fail" });
    expect(checks["storage"]).toMatchObject({ verdict: "pass" });
    await expect(promisify(execFile)(process.execPath, [join(ROOT, "dist", "scripts", "verify.js"), open.url])).rejects.toMatchObject({ code: 1 });
  });

  it("Graph refusing the identity (403): the Graph check fails and says to grant the permissions", async () => {
    for (let i = 0; i < 20; i++) graph.faults.push({ status: 403, body: JSON.stringify({ error: { code: "Authorization_RequestDenied", message: "Insufficient privileges to complete the operation." } }) });
    await admin(deployed, "graphPoll");
    graph.faults.length = 0;
    const checks = byName(await verify(deployed.url));
    expect(checks["graph"]).toMatchObject({ verdict: "fail" });
    expect(checks["graph"]!.detail).toMatch(/403/);
    expect(checks["graph"]!.detail).toContain("permissions are not granted");
  });

  it("a host that does not answer: health fails, nothing is taken for granted", async () => {
    const checks = byName(await verify("http://127.0.0.1:9"));
    expect(checks["health"]).toMatchObject({ verdict: "fail" });
    expect(checks["bot"]).toMatchObject({ verdict: "fail" });
    expect(checks["tab"]).toMatchObject({ verdict: "fail" });
  });
});
