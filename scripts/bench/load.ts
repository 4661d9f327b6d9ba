import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { findPackageRoot } from "../../src/packageInfo";
import { AZURITE_CONNECTION_STRING } from "../../src/config";
import { createTableFactory } from "../../src/adapters/tables/client";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { generateDemo } from "../../src/core/demo/generator";
import { freePort, startAzuriteQueue, httpOk, startAzurite, startChild, stopChild, toolPaths, waitUntil } from "../processes";
import { machineLine, ms, summarize, writeSection } from "./report";

/**
 * `npm run bench:load`: 50 simulated chat users asking mixed questions (why, changeId, list,
 * statistics) about once a second each, while ingestion runs at 1,000 events/s in batches of 500
 * through POST /api/ingest, for 60 s, against the built local host on Azurite (loopback only;
 * bounded in count and time). Reports answer latency, errors, the achieved ingest rate, peak RSS
 * of the host and of Azurite, and a reconciliation of every ingested event against the store.
 */
const root = findPackageRoot(__dirname);
const USERS = Number(process.env["BENCH_LOAD_USERS"] ?? 50);
const SECONDS = Number(process.env["BENCH_LOAD_SECONDS"] ?? 60);
const RATE = Number(process.env["BENCH_LOAD_RATE"] ?? 1000);
const BATCH = 500;
const PRELOAD = Number(process.env["BENCH_LOAD_PRELOAD"] ?? 50_000);
const TEAMS_TIMEOUT_MS = 15_000;

const rssMiB = (pid: number | undefined): number => {
  if (!pid) return NaN;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
};
const sleep = (msec: number) => new Promise<void>((r) => setTimeout(r, msec));

async function connector(): Promise<{ url: string; replies: () => number; close: () => void }> {
  let replies = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      replies++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(`{"id":"r${replies}"}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, replies: () => replies, close: () => server.close() };
}

async function main(): Promise<void> {
  const azuritePort = await freePort();
  const azurite = await startAzurite({ root, port: azuritePort, quiet: true, maxOldSpaceMiB: 8192 });
  const queuePort = await freePort();
  const azuriteQueue = await startAzuriteQueue({ root, port: queuePort, quiet: true });
  const port = await freePort();
  const key = "bench-load";
  const host = startChild({
    name: "host",
    command: process.execPath,
    // BENCH_PROFILE_DIR: the host is profiled too (where an answer's time goes under load).
    args: [...(process.env["BENCH_PROFILE_DIR"] ? ["--cpu-prof", `--cpu-prof-dir=${process.env["BENCH_PROFILE_DIR"]}`, "--cpu-prof-name=host.cpuprofile"] : []), "-r", toolPaths(root).childGuard, toolPaths(root).localHost],
    env: { PORT: String(port), AZURITE_TABLE_PORT: String(azuritePort), AZURITE_QUEUE_PORT: String(queuePort), FUNCTION_KEY: key, PROVBOT_TIMERS: "off", PROVBOT_TABLE_PREFIX: "load" },
    quiet: true,
  });
  const cap = await connector();
  const url = `http://127.0.0.1:${port}`;
  const peaks = { host: 0, azurite: 0 };
  const sampler = setInterval(() => {
    peaks.host = Math.max(peaks.host, rssMiB(host.process.pid));
    peaks.azurite = Math.max(peaks.azurite, rssMiB(azurite.process.pid));
  }, 500);
  try {
    await waitUntil("host", () => httpOk(`${url}/api/health`), { timeoutMs: 30_000, child: host });
    const now = new Date();
    const ingest = async (records: unknown[]) => {
      const res = await fetch(`${url}/api/ingest`, { method: "POST", body: JSON.stringify(records), headers: { "x-functions-key": key, "content-type": "application/json" } });
      if (res.status !== 200) throw new Error(`ingest ${res.status}: ${(await res.text()).slice(0, 300)}`);
      return (await res.json()) as { accepted: number; duplicates: number; rejectedCount: number };
    };

    // The store before the run: PRELOAD events over 14 days, the changeIds to paste kept aside.
    const changeIds: string[] = [];
    let preloaded = 0;
    let body: unknown[] = [];
    const p0 = performance.now();
    for (const r of generateDemo({ now, days: 14, perCycle: Math.max(1, Math.round(PRELOAD / 4200)), users: 2000 })) {
      if (preloaded + body.length >= PRELOAD) break;
      body.push(r);
      if (body.length % 211 === 0) changeIds.push(String(r["changeId"]));
      if (body.length === 2000) {
        preloaded += (await ingest(body)).accepted;
        body = [];
      }
    }
    if (body.length) preloaded += (await ingest(body)).accepted;
    const preloadSecs = (performance.now() - p0) / 1000;
    peaks.host = 0;
    peaks.azurite = 0;

    // Live events: another tenant history (another seed), re-stamped into the last hour.
    const live: Record<string, unknown>[] = [];
    const target = RATE * SECONDS;
    for (const r of generateDemo({ now, days: 2, perCycle: Math.ceil(target / 600), users: 2000, seed: 99, incidents: false })) {
      live.push({ ...r, id: `live-${live.length}-${String(r["id"])}`, changeId: `live-${live.length}-${String(r["changeId"])}`, activityDateTime: new Date(now.getTime() - 3_600_000 + (live.length / target) * 3_600_000).toISOString() });
      if (live.length >= target) break;
    }

    const questions: [string, () => string][] = [
      ["why", () => ["why did alice fail in ServiceNow?", "why was bob skipped in Salesforce", "what went wrong with carol in Dropbox"][Math.floor(Math.random() * 3)]!],
      ["changeId", () => changeIds[Math.floor(Math.random() * changeIds.length)]!],
      ["list", () => ["failures in the last 24 hours", "what users were removed from Adobe this week?", "what groups were created in ServiceNow?"][Math.floor(Math.random() * 3)]!],
      ["statistics", () => ["top errors in ServiceNow this week", "activity by action per day", "how is Salesforce doing?"][Math.floor(Math.random() * 3)]!],
    ];
    const latencies: Record<string, number[]> = Object.fromEntries(questions.map(([k]) => [k, []]));
    let asked = 0;
    let errors = 0;
    let late = 0;
    const t0 = performance.now();
    const end = t0 + SECONDS * 1000;
    const user = async (u: number) => {
      let seq = 0;
      await sleep(Math.random() * 1000);
      while (performance.now() < end) {
        const [kind, text] = questions[(u + seq) % questions.length]!;
        const started = performance.now();
        try {
          const res = await fetch(`${url}/api/messages`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ type: "message", id: `u${u}-${++seq}`, text: text(), channelId: "msteams", serviceUrl: cap.url, from: { id: `user-${u}`, name: `Admin ${u}` }, recipient: { id: "bot", name: "provbot" }, conversation: { id: `load-${u}`, conversationType: "personal", tenantId: "t" } }),
            signal: AbortSignal.timeout(TEAMS_TIMEOUT_MS),
          });
          await res.arrayBuffer();
          if (res.status !== 200) errors++;
        } catch {
          errors++;
        }
        const took = performance.now() - started;
        asked++;
        if (took > TEAMS_TIMEOUT_MS) late++;
        latencies[kind]!.push(took);
        await sleep(Math.max(0, 1000 - took) * (0.5 + Math.random()));
      }
    };
    // Ingestion: a batch of 500 every 500 ms (1,000 events/s), one call in flight; behind, it sends at once.
    let liveAccepted = 0;
    let liveDuplicates = 0;
    let liveSent = 0;
    let ingestErrors = 0;
    const ingester = async () => {
      let next = performance.now();
      for (let i = 0; i < live.length && performance.now() < end; i += BATCH) {
        const wait = next - performance.now();
        if (wait > 0) await sleep(wait);
        next += (BATCH / RATE) * 1000;
        const batch = live.slice(i, i + BATCH);
        try {
          const r = await ingest(batch);
          liveSent += batch.length;
          liveAccepted += r.accepted;
          liveDuplicates += r.duplicates;
        } catch {
          ingestErrors++;
        }
      }
    };
    const ingestStart = performance.now();
    await Promise.all([ingester().then(() => (ingestSecs = (performance.now() - ingestStart) / 1000)), ...Array.from({ length: USERS }, (_, u) => user(u))]);
    const runSecs = (performance.now() - t0) / 1000;

    // Reconciliation: every event sent is stored exactly once, and counted once.
    const store = new TableEventStore(createTableFactory({ kind: "connectionString", connectionString: AZURITE_CONNECTION_STRING(azuritePort) }, "load"));
    const ids = new Set<string>();
    let rows = 0;
    const jobs = await store.jobs.list();
    for (const j of jobs) for await (const e of store.events.allOf(j.jobKey, ["id"])) {
      rows++;
      ids.add(String(e["id"]));
    }
    let counted = 0;
    for (const j of jobs) counted += (await store.counts.allOf(j.jobKey)).reduce((n, c) => n + c.total, 0);
    const expected = preloaded + liveAccepted;
    const reconciled = rows === expected && ids.size === expected && counted === expected && liveSent === liveAccepted + liveDuplicates;

    const all = Object.values(latencies).flat();
    const s = summarize(all);
    const kindRows = questions.map(([k]) => {
      const q = summarize(latencies[k]!);
      return `| ${k} | ${q.n} | ${ms(q.p50)} | ${ms(q.p95)} | ${ms(Math.max(...latencies[k]!))} |`;
    });
    const md = [
      "## Load: 50 chat users while ingesting",
      "",
      `Command: \`npm run bench:load\` · Machine: ${machineLine()} · built local host + Azurite in memory, loopback only`,
      "",
      `${USERS} users each ask about once a second (why, changeId, list, statistics in turn) for ${SECONDS} s, while \`POST /api/ingest\` receives ${BATCH}-event batches at a target of ${RATE.toLocaleString("en-US")} events/s (one call in flight). The store held ${preloaded.toLocaleString("en-US")} demo events over 14 days before the run (loaded in ${preloadSecs.toFixed(0)} s). Latency is measured at the client: activity posted → the bot's turn finished (its reply already posted to a local connector).`,
      "",
      "| measure | value |",
      "|---|---|",
      `| questions answered | ${asked.toLocaleString("en-US")} in ${runSecs.toFixed(0)} s |`,
      `| errors (non-200 or no answer) | ${errors} |`,
      `| unanswered within Teams' 15 s | ${late} |`,
      `| answer latency p50 / p95 / max | ${ms(s.p50)} / **${ms(s.p95)}** / ${ms(Math.max(...all))} |`,
      `| ingest achieved | **${Math.round(liveAccepted / (ingestSecs || runSecs)).toLocaleString("en-US")} events/s** (${liveAccepted.toLocaleString("en-US")} accepted, ${liveDuplicates} duplicates, ${ingestErrors} failed calls) |`,
      `| peak RSS, host | **${peaks.host} MiB** |`,
      `| peak RSS, Azurite | ${peaks.azurite} MiB |`,
      `| reconciliation: events stored / distinct ids / counted / expected | ${rows.toLocaleString("en-US")} / ${ids.size.toLocaleString("en-US")} / ${counted.toLocaleString("en-US")} / ${expected.toLocaleString("en-US")}: **${reconciled ? "every event stored and counted exactly once" : "MISMATCH"}** |`,
      "",
      "| question kind | answered | p50 | p95 | max |",
      "|---|---|---|---|---|",
      ...kindRows,
    ].join("\n");
    writeSection("load", md);
    console.log(md);
    if (!reconciled) process.exitCode = 1;
  } finally {
    clearInterval(sampler);
    cap.close();
    await stopChild(host);
    await stopChild(azurite);
    await stopChild(azuriteQueue);
  }
}

let ingestSecs = 0;

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
