import { findPackageRoot } from "../../src/packageInfo";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableDeadLetterStore } from "../../src/adapters/tables/deadLetters";
import { TableQueryStore } from "../../src/adapters/tables/queryStore";
import { answerQuestion } from "../../src/app/answer";
import { ingestStream } from "../../src/app/ingest";
import { freePort, startAzurite, stopChild } from "../processes";
import { machineLine, ms, summarize, writeSection, countingTables } from "./report";

/**
 * `npm run bench:person`: the cost of "why did X fail in Y" by events per person, beside the size
 * of the store. People in real tenants collect a skipped event every cycle (36 a day per app), so a
 * person with thousands of events in the range is normal. For each size, one person has N events
 * (mostly skipped "RedundantExport" in three apps, 3 failures in the app asked about) among a
 * background of other people's events; the answer's latency and storage requests are measured
 * through the answer use case on Azurite. BENCH_PERSON_SIZES (default "30,500,5000").
 */
const root = findPackageRoot(__dirname);
const SIZES = (process.env["BENCH_PERSON_SIZES"] ?? "30,500,5000").split(",").map(Number);
const BACKGROUND = Number(process.env["BENCH_PERSON_BACKGROUND"] ?? 10_000);
const REPS = Number(process.env["BENCH_PERSON_REPS"] ?? 300);
const NOW = new Date("2026-11-22T12:00:00Z");
const APPS = ["ServiceNow", "Box", "Slack", "Dropbox"];

function record(n: number, who: { id: string; name: string; upn: string }, app: string, at: Date, status: "success" | "skipped" | "failure"): Record<string, unknown> {
  const job = `${app}OutDelta.bench.${app.toLowerCase()}`;
  return {
    id: `bp-${who.id}-${n}`,
    activityDateTime: at.toISOString(),
    tenantId: "tenant-bench",
    jobId: job,
    cycleId: `cycle-${Math.floor(at.getTime() / 2_400_000)}`,
    changeId: `bp-chg-${who.id}-${n}`,
    provisioningAction: status === "skipped" ? "other" : "update",
    servicePrincipal: { id: `sp-${app}`, displayName: app },
    sourceSystem: { id: "src", displayName: "Microsoft Entra ID", details: {} },
    targetSystem: { id: "tgt", displayName: app, details: {} },
    sourceIdentity: { id: who.id, displayName: who.name, identityType: "User", details: { UserPrincipalName: who.upn } },
    targetIdentity: { id: `t-${who.id}`, displayName: who.name, identityType: "User", details: {} },
    provisioningStatusInfo: { status, errorInformation: status === "failure" ? { errorCode: `${app}EntryConflict`, reason: "StatusCode: Conflict" } : null },
    provisioningSteps: [
      { name: "EntryImport", provisioningStepType: "import", status: "success", description: "imported", details: {} },
      { name: status === "skipped" ? "EntrySynchronizationSkip" : "EntryExportUpdate", provisioningStepType: "export", status, description: status === "skipped" ? "already in sync" : "update", details: status === "skipped" ? { SkipReason: "RedundantExport" } : {} },
    ],
    modifiedProperties: [],
  };
}

async function main(): Promise<void> {
  const port = await freePort();
  const azurite = await startAzurite({ root, port, quiet: true, maxOldSpaceMiB: 8_192 });
  const rows: string[] = [];
  const p95: Record<number, number> = {};
  try {
    for (const size of SIZES) {
      const { factory, requests } = countingTables(port, `p${size}`);
      const store = new TableEventStore(factory);
      await store.init();
      const deadLetters = new TableDeadLetterStore(factory, { now: () => NOW });
      const person = { id: "person-under-test", name: "Alice Heavy", upn: "alice.heavy@contoso.example" };
      // The person: `size` events over 28 days, newest first; 3 failures in ServiceNow, spread out.
      async function* records(): AsyncGenerator<{ index: number; record: unknown }> {
        let n = 0;
        const span = 28 * 86_400_000;
        for (let i = 0; i < size; i++) {
          const at = new Date(NOW.getTime() - 60_000 - Math.floor((i / size) * span));
          const failure = i === Math.floor(size / 4) || i === Math.floor(size / 2) || i === size - 1;
          yield { index: n++, record: record(i, person, failure ? "ServiceNow" : APPS[i % APPS.length]!, at, failure ? "failure" : "skipped") };
        }
        for (let i = 0; i < BACKGROUND; i++) {
          const who = { id: `bg-${i % 500}`, name: `Person ${i % 500}`, upn: `p${i % 500}@contoso.example` };
          yield { index: n++, record: record(i, who, APPS[i % APPS.length]!, new Date(NOW.getTime() - 60_000 - (i % 672) * 3_600_000), i % 9 === 0 ? "failure" : "skipped") };
        }
      }
      const t0 = performance.now();
      const stored = await ingestStream(records(), "bench", { store, deadLetters, clock: { now: () => NOW } }, { chunkSize: 1000 });
      const ingestSecs = (performance.now() - t0) / 1000;
      const deps = { store: new TableQueryStore(store, () => NOW.getTime()), now: () => NOW, version: "bench" };
      const question = "why did alice heavy fail in ServiceNow?";
      const first = await answerQuestion(question, deps);
      if (!first.text.includes("Alice Heavy")) throw new Error(`the answer does not name the person: ${first.text.slice(0, 200)}`);
      for (let i = 0; i < 3; i++) await answerQuestion(question, deps); // warm caches as a running bot would be
      const before = requests.n;
      const samples: number[] = [];
      for (let i = 0; i < REPS; i++) {
        const t = performance.now();
        await answerQuestion(question, deps);
        samples.push(performance.now() - t);
      }
      const s = summarize(samples);
      p95[size] = s.p95;
      rows.push(`| ${size.toLocaleString("en-US")} | ${(stored.accepted).toLocaleString("en-US")} (${ingestSecs.toFixed(0)} s to store) | ${ms(s.p50)} | ${ms(s.p95)} | ${((requests.n - before) / REPS).toFixed(1)} |`);
      console.error(rows.at(-1));
    }
  } finally {
    await stopChild(azurite);
  }
  const base = p95[SIZES[0]!]!;
  const last = p95[SIZES[SIZES.length - 1]!]!;
  writeSection(
    "person",
    [
      "## \"Why did X fail in Y\" by events per person",
      "",
      `Command: \`npm run bench:person\` (\`BENCH_PERSON_SIZES\`, default 30,500,5000; ${REPS} sequential answers each, through the answer use case on Azurite; ${BACKGROUND.toLocaleString("en-US")} events of 500 other people beside) · Machine: ${machineLine()}`,
      "",
      "| events of the person in 28 days | events stored | p50 | p95 | storage requests per answer |",
      "|---|---|---|---|---|",
      ...rows,
      "",
      `p95 at ${SIZES[SIZES.length - 1]!.toLocaleString("en-US")} events per person ÷ p95 at ${SIZES[0]!.toLocaleString("en-US")}: **${(last / base).toFixed(2)}×** (the issue's bound: 1.5×).`,
      "",
      "Where the cost goes: the answer reads the person's failed events in the app asked about from the failures index (fx shards: the identity index of failed events only, split 16 ways by person like the identity index), newest first, at most 51 rows. A person's skipped and successful history is in neither the rows read nor the tables scanned, so the cost stays flat (before this index: p95 6.1 / 6.8 / 11.8 ms at 30 / 500 / 5,000 events per person, 1.93×, because Azurite scanned the identity shard that held all of the person's rows; before the filtered read, up to 500 of the person's rows were read and filtered in the host). Why with no outcome, or skipped, still reads the identity index, filtered where it is stored.",

    ].join("\n"),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
