import { readFileSync } from "node:fs";
import { findPackageRoot } from "../../src/packageInfo";
import { AZURITE_CONNECTION_STRING } from "../../src/config";
import { createTableFactory } from "../../src/adapters/tables/client";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableDeadLetterStore } from "../../src/adapters/tables/deadLetters";
import { upsertAll } from "../../src/adapters/tables/batch";
import { ingestPayload } from "../../src/app/ingest";
import { generateDemo } from "../../src/core/demo/generator";
import { freePort, startAzurite, stopChild } from "../processes";
import { demoShape, machineLine, writeSection, countingTables } from "./report";

/**
 * `npm run bench:ingest`: demo events through the ingest use case (JSON parse, normalise, store with
 * every index and aggregate) into a fresh in-memory Azurite, at each of BENCH_INGEST_SCALES
 * (default 10000,100000,1000000), next to the raw Azurite ceiling measured in the same run (plain
 * 3-property entities in transactions of 100). Bodies are generated as they are sent, so the
 * process holds one body at a time; the rate is also reported per tenth of the run, to show
 * whether it declines as the store grows.
 */
const root = findPackageRoot(__dirname);
const SCALES = (process.env["BENCH_INGEST_SCALES"] ?? "10000,100000,1000000").split(",").map(Number);
const CHUNK = 2000;
const RAW_ENTITIES = 60_000;
const NOW = new Date("2026-11-22T12:00:00Z");

function vmHwmMiB(pid: number | undefined): number {
  if (!pid) return NaN;
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** CPU seconds a process has used (user + system), from /proc. */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function* bodies(scale: number): Generator<string> {
  let batch: unknown[] = [];
  let count = 0;
  for (const record of generateDemo({ now: NOW, days: 14, ...demoShape(scale) })) {
    batch.push(record);
    count++;
    if (batch.length === CHUNK || count === scale) {
      yield JSON.stringify(batch);
      batch = [];
    }
    if (count === scale) return;
  }
  if (batch.length) yield JSON.stringify(batch);
}

async function main(): Promise<void> {
  const port = await freePort();
  const azurite = await startAzurite({ root, port, quiet: true, maxOldSpaceMiB: 16_384 });
  const rows: string[] = [];
  try {
    const conn = AZURITE_CONNECTION_STRING(port);
    // Raw ceiling: what Azurite can take at best on this machine.
    const rawTable = createTableFactory({ kind: "connectionString", connectionString: conn }, "raw").table("plain");
    await rawTable.createTable();
    const plain = Array.from({ length: RAW_ENTITIES }, (_, i) => ({ partitionKey: `p${i % 600}`, rowKey: String(i).padStart(8, "0"), a: "value", n: i }));
    const r0 = performance.now();
    for (let i = 0; i < plain.length; i += 6000) await upsertAll(rawTable, plain.slice(i, i + 6000), 8);
    const rawPerSec = RAW_ENTITIES / ((performance.now() - r0) / 1000);
    await rawTable.deleteTable();

    for (const scale of SCALES) {
      const { factory, requests } = countingTables(conn, `i${scale}`);
      const store = new TableEventStore(factory);
      const deps = { store, deadLetters: new TableDeadLetterStore(factory, { now: () => NOW }) };
      await store.init();
      const firstBodies: string[] = [];
      const tenths: number[] = [];
      let accepted = 0;
      let nextTenth = scale / 10;
      let tenthStart = performance.now();
      let tenthAccepted = 0;
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const azCpu0 = cpuSeconds(azurite.process.pid);
      for (const body of bodies(scale)) {
        if (firstBodies.length < 5) firstBodies.push(body);
        const n = (await ingestPayload([{ contentType: "application/json", text: body }], "bench", deps)).accepted;
        accepted += n;
        tenthAccepted += n;
        if (accepted >= nextTenth) {
          tenths.push(tenthAccepted / ((performance.now() - tenthStart) / 1000));
          tenthStart = performance.now();
          tenthAccepted = 0;
          nextTenth += scale / 10;
          if (scale >= 100_000) console.error(`  ${scale}: ${accepted} stored (${Math.round(tenths[tenths.length - 1]!)}/s in the last tenth)`);
        }
      }
      const secs = (performance.now() - t0) / 1000;
      if (accepted < scale * 0.99) throw new Error(`only ${accepted} of ${scale} events were generated and stored`);
      const cpu = process.cpuUsage(cpu0);
      const azCpu = (cpuSeconds(azurite.process.pid) - azCpu0) / secs;
      const perEvent = requests.n / accepted;
      // Redelivery of the first 10,000: all duplicates.
      const d0 = performance.now();
      const requestsBefore = requests.n;
      let duplicates = 0;
      for (const body of firstBodies) duplicates += (await ingestPayload([{ contentType: "application/json", text: body }], "bench", deps)).duplicates;
      const dupPerSec = duplicates / ((performance.now() - d0) / 1000);
      const dupRequests = (requests.n - requestsBefore) / Math.max(1, duplicates);
      const eventsPerSec = accepted / secs;
      const spread = tenths.length > 1 ? `${Math.round(tenths[0]!).toLocaleString("en-US")} → ${Math.round(tenths[tenths.length - 1]!).toLocaleString("en-US")} (min ${Math.round(Math.min(...tenths)).toLocaleString("en-US")})` : "–";
      rows.push(
        `| ${scale.toLocaleString("en-US")} | **${Math.round(eventsPerSec).toLocaleString("en-US")}** (${secs.toFixed(0)} s) | ${((eventsPerSec / rawPerSec) * 100).toFixed(0)} % | ${spread} | ${perEvent.toFixed(3)} | ${Math.round(dupPerSec).toLocaleString("en-US")} (${dupRequests.toFixed(3)} requests per event) | ${(((cpu.user + cpu.system) / 1e6 / secs) * 100).toFixed(0)} % | ${(azCpu * 100).toFixed(0)} % | ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB | ${vmHwmMiB(azurite.process.pid)} MiB |`,
      );
      console.error(rows[rows.length - 1]);
    }
    const md = [
      "## Ingestion",
      "",
      `Command: \`npm run bench:ingest\` (\`BENCH_INGEST_SCALES\`, default 10000,100000,1000000) · Machine: ${machineLine()} · Azurite in memory (16 GB heap), one fresh table prefix per scale`,
      "",
      `Raw Azurite ceiling in the same run (plain 3-property entities, transactions of 100, 8 in flight): **${Math.round(rawPerSec).toLocaleString("en-US")} entities/s**.`,
      "",
      "| events (demo generator, 14 days, 9 jobs, 2,000-record JSON bodies) | ingest events/s (parse + normalise + what is stored, changeId marker, event, identity index, directory, cycle refs, job-hour counter, counts copy, jobs) | ÷ raw ceiling | events/s first tenth → last tenth of the run | storage requests per event | redelivery of 10,000 (all duplicates), events/s (storage requests per event) | ingest process CPU | Azurite CPU | peak RSS, ingest process | peak RSS, Azurite (cumulative over the run) |",
      "|---|---|---|---|---|---|---|---|---|---|",
      ...rows,
      "",
      "Graph delivers at most about 500 events/s (5 requests / 10 s, 1,000 events a page).",
    ].join("\n");
    writeSection("ingest", md);
    console.log(md);
  } finally {
    await stopChild(azurite);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
