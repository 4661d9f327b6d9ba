import { findPackageRoot } from "../../src/packageInfo";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableDeadLetterStore } from "../../src/adapters/tables/deadLetters";
import { TableQueryStore } from "../../src/adapters/tables/queryStore";
import { createBotEndpoint, type BotEndpoint } from "../../src/adapters/botframework/endpoint";
import { createChatHandler, type ChatHandler } from "../../src/app/chat";
import { ingestStream } from "../../src/app/ingest";
import { generateDemo } from "../../src/core/demo/generator";
import { freePort, startAzurite, stopChild } from "../processes";
import { demoShape, machineLine, ms, summarize, writeSection, countingTables } from "./report";
import { createServer } from "node:http";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";

/**
 * `npm run bench:answer`: server-side latency of questions (activity received -> reply posted to
 * the connector) through the real botbuilder stack, at 10k, 100k and 1M demo events in Azurite, next to
 * an echo reply through the same stack. Scales: BENCH_ANSWER_SCALES (default "10000,1000000").
 */
const root = findPackageRoot(__dirname);
const SCALES = (process.env["BENCH_ANSWER_SCALES"] ?? "10000,100000,1000000").split(",").map(Number);
const REPS = Number(process.env["BENCH_ANSWER_REPS"] ?? 60);
const NOW = new Date("2026-11-22T12:00:00Z");

function vmHwmMiB(pid: number | undefined): number {
  if (!pid) return NaN;
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

async function connector(): Promise<{ url: string; close: () => void }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"id":"r"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => server.close() };
}

let seq = 0;
const activity = (text: string, serviceUrl: string) => ({
  type: "message",
  id: `a${++seq}`,
  text,
  channelId: "msteams",
  serviceUrl,
  from: { id: "u", name: "Admin" },
  recipient: { id: "b", name: "provbot" },
  conversation: { id: "c", conversationType: "personal", tenantId: "t" },
});

async function time(bot: BotEndpoint, serviceUrl: string, questions: string[]): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const q = questions[i % questions.length]!;
    const t = performance.now();
    const res = await bot({ method: "POST", headers: {}, body: activity(q, serviceUrl) });
    samples.push(performance.now() - t);
    if (res.status !== 200) throw new Error(`${q}: ${res.status}`);
  }
  return samples;
}

async function main(): Promise<void> {
  const port = await freePort();
  const azurite = await startAzurite({ root, port, quiet: true, maxOldSpaceMiB: 16_384 });
  const cap = await connector();
  // Results per scale are kept in .provbot/bench-answer.json, so a scale can be re-measured alone.
  const stateFile = join(root, ".provbot", "bench-answer.json");
  const saved = (existsSync(stateFile) ? JSON.parse(readFileSync(stateFile, "utf8")) : {}) as Record<string, { section: string; p95: Record<string, number> }>;
  const p95At: Record<string, Record<number, number>> = {};
  try {
    for (const scale of SCALES) {
      const { factory, requests } = countingTables(port, `a${scale}`);
      const store = new TableEventStore(factory);
      await store.init();
      const deadLetters = new TableDeadLetterStore(factory, { now: () => NOW });
      const shape = demoShape(scale);
      const changeIds: string[] = [];
      const t0 = performance.now();
      // Stored through the ingest use case in batches of 1,000 (two in flight), as a body is.
      async function* records(): AsyncGenerator<{ index: number; record: unknown }> {
        let n = 0;
        for (const record of generateDemo({ now: NOW, days: 14, ...shape })) {
          if (n >= scale) return;
          if (++n % 997 === 0) changeIds.push(String(record["changeId"]));
          if (n % 100_000 === 0) console.error(`  ${scale}: ${n} events read (${Math.round(n / ((performance.now() - t0) / 1000))}/s)`);
          yield { index: n, record };
        }
      }
      const stored = await ingestStream(records(), "bench", { store, deadLetters }, { chunkSize: 1000 });
      if (stored.accepted < scale * 0.99) throw new Error(`only ${stored.accepted} of ${scale} events were generated and stored`);
      const ingestSecs = (performance.now() - t0) / 1000;

      const deps = { store: new TableQueryStore(store, () => NOW.getTime()), now: () => NOW, version: "bench" };
      const azuriteRss = vmHwmMiB(azurite.process.pid);
      const bot = createBotEndpoint({ mode: "none" }, createChatHandler(deps), { error: (m, e) => console.error(m, e) });
      const echo: ChatHandler = { onMessage: async (m) => [{ kind: "text", text: m.text }], onConversationEvent: async () => [] };
      const echoBot = createBotEndpoint({ mode: "none" }, echo, { error: (m, e) => console.error(m, e) });
      const kinds: [string, string[]][] = [
        ["why", ["why did alice fail in ServiceNow?", "why was bob skipped in Salesforce", "what went wrong with carol in Dropbox"]],
        ["changeId", changeIds.slice(0, 30)],
        ["list", ["failures in the last 24 hours", "what users were removed from Adobe this week?", "what groups were created in ServiceNow?"]],
        ["statistics", ["top errors in ServiceNow this week", "activity by action per day", "how is Salesforce doing?"]],
        ["count", ["how many users were created in ServiceNow this week?", "how many failures in Dropbox this week", "number of groups created in ServiceNow"]],
        ["explain a code", ["what does ServiceNowEntryConflict mean?", "what does InsufficientRights mean", "explain DropboxEntryConflict"]],
        ["what changed", ["what changed for alice zhang in ServiceNow?", "what changed for bob in Box", "what changed for carol in Dropbox"]],
        ["unresolved group members", ["groups with unresolved members", "groups with skipped members in ServiceNow", "which groups have unresolved members in Box"]],
      ];
      await time(echoBot, cap.url, ["warm up"]);
      const echoS = summarize(await time(echoBot, cap.url, ["hello there"]));
      const rows: string[] = [`| echo (same stack, text reply) | ${ms(echoS.p50)} | ${ms(echoS.p95)} | 1.0× | 0 |`];
      for (const [kind, questions] of kinds) {
        await time(bot, cap.url, questions.slice(0, 3)); // warm caches as a running bot would be
        const before = requests.n;
        const s = summarize(await time(bot, cap.url, questions));
        const perAnswer = (requests.n - before) / REPS;
        (p95At[kind] ??= {})[scale] = s.p95;
        rows.push(`| ${kind} | ${ms(s.p50)} | ${ms(s.p95)} | ${(s.p95 / echoS.p95).toFixed(1)}× | ${perAnswer.toFixed(1)} |`);
      }
      const section = [`### ${scale.toLocaleString("en-US")} events (ingested in ${ingestSecs.toFixed(0)} s, ${Math.round(stored.accepted / ingestSecs).toLocaleString("en-US")} events/s, ${stored.accepted.toLocaleString("en-US")} stored; Azurite peak RSS ${azuriteRss} MiB; measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC)`, "", "| question kind | p50 | p95 | p95 ÷ echo p95 | storage requests per answer |", "|---|---|---|---|---|", ...rows].join("\n");
      saved[String(scale)] = { section, p95: Object.fromEntries(Object.entries(p95At).map(([k, v]) => [k, v[scale] ?? NaN])) };
      mkdirSync(join(root, ".provbot"), { recursive: true });
      writeFileSync(stateFile, JSON.stringify(saved, null, 2));
      console.error(section);
    }
    const scales = Object.keys(saved).map(Number).sort((a, b) => a - b);
    const sections = scales.map((sc) => saved[String(sc)]!.section);
    const [small, large] = [scales[0]!, scales[scales.length - 1]!];
    const growth =
      scales.length > 1
        ? ["", `p95 at ${large.toLocaleString("en-US")} ÷ p95 at ${small.toLocaleString("en-US")}: ${Object.keys(saved[String(large)]!.p95).map((k) => `${k} ${((saved[String(large)]!.p95[k] ?? NaN) / (saved[String(small)]!.p95[k] ?? NaN)).toFixed(2)}×`).join(", ")}`]
        : [];
    const md = [
      "## Answers",
      "",
      `Command: \`npm run bench:answer\` (\`BENCH_ANSWER_SCALES\` picks the scales, default 10000,100000,1000000; ${REPS} sequential requests per kind) · Machine: ${machineLine()}`,
      "",
      "Server-side latency: a Bot Framework activity into the botbuilder endpoint until the reply card has been posted to a local connector.",
      "Storage requests per answer is the scale-independent cost: on Table Storage each is a point read or a",
      "single-partition range read. Azurite evaluates every filtered query by scanning the whole table",
      "(LokiJS `where` with a function; only point reads use its index), so its latency grows with the",
      "store even when the number and shape of requests do not.",
      "",
      sections.join("\n\n"),
      ...growth,
    ].join("\n");
    writeSection("answer", md);
    console.log(md);
  } finally {
    cap.close();
    await stopChild(azurite);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
