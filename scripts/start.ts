import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { rmSync } from "node:fs";
import { findPackageRoot } from "../src/packageInfo";
import { loadConfig } from "../src/config";
import { TENANT_ID } from "../src/core/demo/tenant";
import { createTableFactory } from "../src/adapters/tables/client";
import { TableEventStore } from "../src/adapters/tables/eventStore";
import { TableWatermarkStore } from "../src/adapters/tables/watermarks";
import { applyLocalSettings } from "./local-settings";
import { postDemo, startDemoGraph } from "./demo";
import { DEFAULT_AZURITE_PORT, DEFAULT_AZURITE_QUEUE_PORT } from "./local-settings";
import {
  httpOk,
  killChildSync,
  portIsFree,
  startAzurite,
  startAzuriteQueue,
  startChild,
  startPlayground,
  stopChild,
  toolPaths,
  waitUntil,
  type Child,
} from "./processes";

/**
 * `npm start`: the whole product on this machine, on loopback only: Azurite (Table Storage and the
 * queue service), the local Functions host, demo data, and the Microsoft 365 Agents Playground
 * talking to the bot. A host that dies is started again (as Azure restarts a worker), at most 5
 * times a minute. Ctrl-C stops every child process.
 */
const USAGE = `usage: npm start [-- --no-playground] [-- --no-demo] [-- --fresh]
  --no-playground   do not start the Microsoft 365 Agents Playground
  --no-demo         do not load the demo tenant
  --fresh           wipe local storage (.azurite/) first, then load the demo tenant anew
environment: PORT (7071), AZURITE_TABLE_PORT (${DEFAULT_AZURITE_PORT}), AZURITE_QUEUE_PORT (${DEFAULT_AZURITE_QUEUE_PORT}), PLAYGROUND_PORT (56150), FUNCTION_KEY`;

const RESTARTS_PER_MINUTE = 5;

export const PLAYGROUND_CONVERSATION_ID = "provbot-playground-personal";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "no-playground": { type: "boolean", default: false },
      "no-demo": { type: "boolean", default: false },
      fresh: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const root = findPackageRoot(__dirname);
  const hostPort = Number(process.env["PORT"] ?? 7071);
  const azuritePort = Number(process.env["AZURITE_TABLE_PORT"] ?? DEFAULT_AZURITE_PORT);
  const queuePort = Number(process.env["AZURITE_QUEUE_PORT"] ?? DEFAULT_AZURITE_QUEUE_PORT);
  const playgroundPort = Number(process.env["PLAYGROUND_PORT"] ?? 56150);
  const functionKey = process.env["FUNCTION_KEY"] || randomBytes(24).toString("base64url");
  const stateDir = join(root, ".provbot");

  const wanted: [string, number][] = [
    ["AZURITE_TABLE_PORT", azuritePort],
    ["AZURITE_QUEUE_PORT", queuePort],
    ["PORT", hostPort],
  ];
  if (!values["no-playground"]) wanted.push(["PLAYGROUND_PORT", playgroundPort]);
  for (const [setting, port] of wanted) {
    if (!(await portIsFree(port))) throw new Error(`port ${port} on 127.0.0.1 is in use; stop what uses it or set ${setting} to another port`);
  }

  const children: Child[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping provbot...");
    await Promise.all([...children].reverse().map((c) => stopChild(c)));
    process.exit(code);
  };
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));
  process.on("exit", () => children.forEach(killChildSync));

  try {
    const t0 = performance.now();
    if (values.fresh) rmSync(join(root, ".azurite"), { recursive: true, force: true });
    children.push(await startAzurite({ root, port: azuritePort, location: join(root, ".azurite"), logFile: join(stateDir, "azurite.log") }));
    children.push(await startAzuriteQueue({ root, port: queuePort, location: join(root, ".azurite"), logFile: join(stateDir, "azurite-queue.log") }));
    // The demo tenant's Microsoft Graph, on loopback: the real pollers read its logs, audit trail
    // and job status (unless Graph settings of your own are configured).
    const demoNow = values["no-demo"] ? null : await demoTime(root, azuritePort);
    const emulator = demoNow && !graphConfigured(root) ? await startDemoGraph(demoNow) : null;
    const graphEnv: Record<string, string> = emulator
      ? { PROVBOT_GRAPH_BASE_URL: emulator.baseUrl, PROVBOT_GRAPH_ACCESS_TOKEN: "demo-emulator-token", PROVBOT_GRAPH_TENANT_ID: TENANT_ID, PROVBOT_GRAPH_INITIAL_DAYS: "8", PROVBOT_ACTIONS: process.env["PROVBOT_ACTIONS"] ?? "on" }
      : {};
    const startHost = () =>
      startChild({
        name: "host",
        command: process.execPath,
        args: ["-r", toolPaths(root).childGuard, toolPaths(root).localHost],
        env: { PORT: String(hostPort), AZURITE_TABLE_PORT: String(azuritePort), AZURITE_QUEUE_PORT: String(queuePort), FUNCTION_KEY: functionKey, ...graphEnv },
      });
    let host = startHost();
    children.push(host);
    // Like Azure, which starts a crashed worker again: requests in flight fail and their callers
    // retry (ingest is idempotent); queue messages and timers resume on the new host.
    const restarts: number[] = [];
    const supervise = (child: Child) =>
      void child.exited.then(async (code) => {
        if (stopping) return;
        const now = Date.now();
        restarts.push(now);
        while (restarts.length && now - restarts[0]! > 60_000) restarts.shift();
        if (restarts.length > RESTARTS_PER_MINUTE) {
          console.error(`the local Functions host exited (${code}) ${restarts.length} times within a minute; stopping (see the output above)`);
          return stopAll(1);
        }
        console.error(`the local Functions host exited (${code}); starting it again`);
        await new Promise((r) => setTimeout(r, 1000));
        if (stopping) return;
        children.splice(children.indexOf(child), 1, (host = startHost()));
        supervise(host);
      });
    supervise(host);
    const hostUrl = `http://127.0.0.1:${hostPort}`;
    await waitUntil("local Functions host", () => httpOk(`${hostUrl}/api/health`), { timeoutMs: 30_000, child: host });

    let demo = "skipped (--no-demo)";
    if (demoNow && emulator) demo = await pollDemo(root, azuritePort, hostUrl, functionKey, demoNow);
    else if (demoNow) demo = await loadDemo(root, azuritePort, hostUrl, functionKey, demoNow);

    let playgroundUrl: string | null = null;
    if (!values["no-playground"]) {
      children.push(
        await startPlayground({
          root,
          port: playgroundPort,
          botEndpoint: `${hostUrl}/api/messages`,
          conversationId: PLAYGROUND_CONVERSATION_ID,
          logFile: join(stateDir, "playground.log"),
        }),
      );
      playgroundUrl = `http://127.0.0.1:${playgroundPort}`;
    }

    const lines = [
      "",
      `provbot is running (ready in ${((performance.now() - t0) / 1000).toFixed(1)} s). Ctrl-C stops everything.`,
      playgroundUrl ? `  Agents Playground  ${playgroundUrl}   <- open this and type "help"` : "  Agents Playground  not started (--no-playground)",
      `  Teams tab          ${hostUrl}/api/tab   <- provisioning health in a browser (in Teams once sideloaded)`,
      `  Bot endpoint       ${hostUrl}/api/messages`,
      `  Health             ${hostUrl}/api/health`,
      `  Table Storage      Azurite on 127.0.0.1:${azuritePort} (data in .azurite/)`,
      `  Alert outbox       Azurite queue service on 127.0.0.1:${queuePort} (queue provbot-alerts)`,
      emulator ? `  Microsoft Graph    loopback emulator ${emulator.baseUrl} (the demo tenant's logs, audit trail and job status)` : `  Microsoft Graph    ${values["no-demo"] ? "not used (--no-demo)" : "your PROVBOT_GRAPH_* settings"}`,
      `  Function key       ${functionKey}   (x-functions-key for function-level routes and /admin/functions/<name>)`,
      `  Demo data          ${demo}`,
      `  Logs               .provbot/`,
      "",
    ];
    console.log(lines.join("\n"));
  } catch (err) {
    console.error(`npm start failed: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll(1);
  }
}

const queuePortOf = () => Number(process.env["AZURITE_QUEUE_PORT"] ?? DEFAULT_AZURITE_QUEUE_PORT);

/** The local store's tables, as the host will see them (local.settings.json and the Azurite ports). */
function localStores(root: string, azuritePort: number) {
  const env: NodeJS.ProcessEnv = { ...process.env, AZURITE_TABLE_PORT: String(azuritePort), AZURITE_QUEUE_PORT: String(queuePortOf()) };
  applyLocalSettings(root, env);
  const config = loadConfig({ ...env, PROVBOT_LOCAL_HOST: "true" });
  const factory = createTableFactory(config.storage, config.tablePrefix);
  return { factory, watermarks: new TableWatermarkStore(factory), store: new TableEventStore(factory) };
}

/** Whether local.settings.json or the environment configures Graph: then the emulator is not used. */
function graphConfigured(root: string): boolean {
  const env: NodeJS.ProcessEnv = { ...process.env };
  applyLocalSettings(root, env);
  return Object.keys(env).some((k) => k.startsWith("PROVBOT_GRAPH_") && env[k]);
}

/**
 * The demo tenant's time: when it was first loaded into this local store (kept in .azurite/), or
 * now. A store of the layout before time shards is reported; the demo is loaded anew beside it.
 */
async function demoTime(root: string, azuritePort: number): Promise<Date> {
  const { watermarks, store } = localStores(root, azuritePort);
  const loaded = await watermarks.get("demo");
  const legacy = await store.legacyTables();
  if (legacy.length > 0) {
    console.log(`\n.azurite/ holds tables of an earlier storage layout (${legacy.join(", ")}); provbot does not read them. \`npm start -- --fresh\` removes them; re-ingest any files of your own.`);
    if ((await store.events.shards.existing()).length === 0) return new Date();
  }
  return loaded ? new Date(loaded) : new Date();
}


/**
 * The demo through the product's own Graph pollers: job status first, then graphPoll (the audit
 * trail, then the provisioning logs), waiting until the poller's watermark moves.
 */
async function pollDemo(root: string, azuritePort: number, hostUrl: string, functionKey: string, demoNow: Date): Promise<string> {
  const { watermarks } = localStores(root, azuritePort);
  const since = new Date().toISOString();
  const started = performance.now();
  process.stdout.write("reading the demo tenant from the loopback Graph (job status, audit trail, provisioning logs) ... ");
  for (const fn of ["jobStatusPoll", "graphPoll"]) {
    const res = await fetch(`${hostUrl}/admin/functions/${fn}`, { method: "POST", headers: { "x-functions-key": functionKey } });
    if (res.status !== 202) throw new Error(`POST /admin/functions/${fn} answered ${res.status}: ${await res.text()}`);
  }
  // Done when both pollers have recorded a run that started after this one: on a kept store the
  // demo was read before and the watermark does not move, but the run still ends (and says how).
  await waitUntil("the Graph pollers' runs", async () => {
    const runs = await watermarks.runs();
    return ["graph.jobs", "graph.events"].every((n) => (runs[n]?.at ?? "") >= since);
  }, { timeoutMs: 300_000 });
  const runs = await watermarks.runs();
  for (const n of ["graph.jobs", "graph.events"]) if (runs[n]?.outcome !== "ok") console.warn(`\n${n}: the run ${runs[n]?.outcome ?? "did not finish"}${runs[n]?.reason ? ` (${runs[n]!.reason})` : ""}: see the host's lines above`);
  await watermarks.set("demo", demoNow.toISOString());
  process.stdout.write("done\n");
  return `demo tenant of ${demoNow.toISOString()} read by the Graph pollers in ${((performance.now() - started) / 1000).toFixed(1)} s (kept in .azurite/; \`npm start -- --fresh\` starts it anew)`;
}

/** Loads the demo tenant through POST /api/ingest once per local store (when your own Graph is configured). */
async function loadDemo(root: string, azuritePort: number, hostUrl: string, functionKey: string, demoNow: Date): Promise<string> {
  const { watermarks } = localStores(root, azuritePort);
  const loaded = await watermarks.get("demo");
  if (loaded) return `demo tenant loaded at ${loaded} (kept in .azurite/; \`npm start -- --fresh\` reloads it around now)`;
  process.stdout.write("loading the demo tenant through POST /api/ingest ... ");
  const result = await postDemo(hostUrl, functionKey, { now: demoNow });
  await watermarks.set("demo", demoNow.toISOString());
  process.stdout.write("done\n");
  return `${result.accepted} events (${result.rejected} rejected) in ${(result.ms / 1000).toFixed(1)} s`;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
