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
import { machineLine, writeSection } from "./report";

/**
 * `npm run bench:ingest`: 100,000 demo events through the ingest use case (JSON parse, normalise,
 * store with every index and aggregate) into a fresh in-memory Azurite, next to the raw Azurite
 * ceiling measured in the same run (plain 3-property entities in transactions of 100).
 */
const root = findPackageRoot(__dirname);
const EVENTS = Number(process.env["BENCH_EVENTS"] ?? 100_000);
const CHUNK = 2000;
const RAW_ENTITIES = 60_000;

function vmHwmMiB(pid: number | undefined): number {
  if (!pid) return NaN;
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

async function main(): Promise<void> {
  const port = await freePort();
  const azurite = await startAzurite({ root, port, quiet: true });
  try {
    const conn = AZURITE_CONNECTION_STRING(port);

    // Raw ceiling: what Azurite can take at best on this machine.
    const rawTable = createTableFactory({ kind: "connectionString", connectionString: conn }, "raw").table("plain");
    await rawTable.createTable();
    const plain = Array.from({ length: RAW_ENTITIES }, (_, i) => ({ partitionKey: `p${i % 600}`, rowKey: String(i).padStart(8, "0"), a: "value", n: i }));
    const r0 = performance.now();
    for (let i = 0; i < plain.length; i += 6000) await upsertAll(rawTable, plain.slice(i, i + 6000), 8);
    const rawPerSec = RAW_ENTITIES / ((performance.now() - r0) / 1000);

    // The input: demo records, serialised as the JSON bodies an upload would carry.
    const now = new Date("2026-11-22T12:00:00Z");
    const bodies: string[] = [];
    let batch: unknown[] = [];
    let count = 0;
    for (const record of generateDemo({ now, days: 14, perCycle: 24, users: 2000 })) {
      batch.push(record);
      count++;
      if (batch.length === CHUNK || count === EVENTS) {
        bodies.push(JSON.stringify(batch));
        batch = [];
      }
      if (count === EVENTS) break;
    }
    if (count < EVENTS) throw new Error(`generator produced only ${count} events`);
    const inputMiB = Math.round(bodies.reduce((n, b) => n + b.length, 0) / 2 ** 20);

    const factory = createTableFactory({ kind: "connectionString", connectionString: conn }, "bench");
    const store = new TableEventStore(factory);
    const deps = { store, deadLetters: new TableDeadLetterStore(factory, { now: () => now }) };
    await store.init();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let accepted = 0;
    for (const body of bodies) accepted += (await ingestPayload([{ contentType: "application/json", text: body }], "bench", deps)).accepted;
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const eventsPerSec = accepted / secs;

    // Redelivery of the first 10,000: all duplicates.
    const d0 = performance.now();
    let duplicates = 0;
    for (const body of bodies.slice(0, 5)) duplicates += (await ingestPayload([{ contentType: "application/json", text: body }], "bench", deps)).duplicates;
    const dupPerSec = duplicates / ((performance.now() - d0) / 1000);

    const peakMiB = Math.round(process.resourceUsage().maxRSS / 1024);
    const azuritePeak = vmHwmMiB(azurite.process.pid);
    const md = [
      "## Ingestion",
      "",
      `Command: \`npm run bench:ingest\` · Machine: ${machineLine()} · Azurite in memory, fresh per run`,
      "",
      "| measure | value |",
      "|---|---|",
      `| events ingested (demo generator, 14 days, 9 jobs, ${CHUNK}-record JSON bodies) | ${accepted.toLocaleString("en-US")} |`,
      `| **ingest throughput** (parse + normalise + event, identity index, alias directory, changeId marker, cycle refs, hourly counts, jobs) | **${Math.round(eventsPerSec).toLocaleString("en-US")} events/s** (${secs.toFixed(1)} s) |`,
      `| raw Azurite ceiling in the same run (plain entities, transactions of 100, 8 in flight) | ${Math.round(rawPerSec).toLocaleString("en-US")} entities/s |`,
      `| ratio events/s ÷ raw entities/s | ${((eventsPerSec / rawPerSec) * 100).toFixed(0)} % |`,
      `| redelivery of ${duplicates.toLocaleString("en-US")} already-stored events (all reported as duplicates) | ${Math.round(dupPerSec).toLocaleString("en-US")} events/s |`,
      `| ingest process CPU while ingesting | ${(((cpu.user + cpu.system) / 1e6 / secs) * 100).toFixed(0)} % of one core |`,
      `| peak RSS, ingest process (holds the ${inputMiB} MiB of input bodies) | ${peakMiB} MiB |`,
      `| peak RSS, Azurite | ${azuritePeak} MiB |`,
      `| what Graph can deliver (5 requests / 10 s, at most 1,000 events a page) | 500 events/s |`,
      "",
      "Each event costs about three entity writes (record, identity index row, changeId marker) plus a share of",
      "the per-cycle, per-alias and per-job-hour rows; the payload is deflated. Azurite is single-threaded and",
      "slower on large partitions than Table Storage, so the partitions are kept small (job × hour, 64 hash buckets).",
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
