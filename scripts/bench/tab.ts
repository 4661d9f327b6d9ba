import { chromium } from "playwright-core";
import { randomBytes } from "node:crypto";
import { AZURITE_CONNECTION_STRING } from "../../src/config";
import { findPackageRoot } from "../../src/packageInfo";
import { createTableFactory } from "../../src/adapters/tables/client";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableDeadLetterStore } from "../../src/adapters/tables/deadLetters";
import { ingestStream } from "../../src/app/ingest";
import { generateDemo } from "../../src/core/demo/generator";
import { freePort, httpOk, startAzurite, startAzuriteQueue, startChild, stopChild, toolPaths, waitUntil } from "../processes";
import { demoShape, machineLine, summarize, writeSection } from "./report";

/**
 * `npm run bench:tab`: the Teams tab in headless Chromium against the built local host on Azurite:
 * first meaningful paint (navigation to the overview drawn with its data) and a filter update
 * (status changed in the Events view until the new list is drawn), on the demo tenant and on a
 * store of 100,000 events. Targets: under 1 s and under 300 ms. Scales: BENCH_TAB_SCALES.
 */
const root = findPackageRoot(__dirname);
const SCALES = (process.env["BENCH_TAB_SCALES"] ?? "demo,100000").split(",");
const REPS = Number(process.env["BENCH_TAB_REPS"] ?? 10);
const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";

async function main(): Promise<void> {
  const port = await freePort();
  const queuePort = await freePort();
  const azurite = await startAzurite({ root, port, quiet: true, maxOldSpaceMiB: 8_192 });
  const queue = await startAzuriteQueue({ root, port: queuePort, quiet: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"] });
  const rows: string[] = [];
  try {
    for (const scale of SCALES) {
      const prefix = `tab${randomBytes(3).toString("hex")}`;
      const factory = createTableFactory({ kind: "connectionString", connectionString: AZURITE_CONNECTION_STRING(port) }, prefix);
      const store = new TableEventStore(factory);
      await store.init();
      const now = new Date();
      const options = scale === "demo" ? { now } : { now, days: 14, ...demoShape(Number(scale)) };
      const cap = scale === "demo" ? Infinity : Number(scale);
      async function* records() {
        let n = 0;
        for (const record of generateDemo(options)) {
          if (n >= cap) return;
          yield { index: n++, record };
        }
      }
      const stored = await ingestStream(records(), "bench", { store, deadLetters: new TableDeadLetterStore(factory, { now: () => now }) }, { chunkSize: 1000 });
      const hostPort = await freePort();
      const host = startChild({ name: "host", command: process.execPath, args: ["-r", toolPaths(root).childGuard, toolPaths(root).localHost], env: { PORT: String(hostPort), AZURITE_TABLE_PORT: String(port), AZURITE_QUEUE_PORT: String(queuePort), PROVBOT_TABLE_PREFIX: prefix, PROVBOT_TIMERS: "off", PROVBOT_ALERTS: "off", FUNCTION_KEY: "bench" }, quiet: true });
      const url = `http://127.0.0.1:${hostPort}`;
      try {
        await waitUntil("the local host", () => httpOk(`${url}/api/health`), { timeoutMs: 30_000, child: host });
        const paints: number[] = [];
        const filters: number[] = [];
        // One warm-up load (the host's first requests read the job list and the shard list).
        for (let i = 0; i <= REPS; i++) {
          const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
          const t0 = performance.now();
          await page.goto(`${url}/api/tab`);
          await page.locator('[data-testid="overview"][data-loaded="yes"]').waitFor({ timeout: 60_000 });
          await page.locator('[data-testid="chart-actions"][data-points]').waitFor();
          if (i > 0) paints.push(performance.now() - t0);
          await page.getByRole("tab", { name: "Events" }).click();
          await page.locator('[data-testid="events"][data-loaded="yes"]').waitFor({ timeout: 60_000 });
          const status = ["failure", "skipped", "success"][i % 3]!;
          const before = await page.getByTestId("total").textContent();
          const t1 = performance.now();
          await page.getByTestId("filter-status").selectOption(status);
          // Polled from here (the page's CSP forbids evaluating strings), every 5 ms.
          const deadline = Date.now() + 60_000;
          while ((await page.getByTestId("total").textContent()) === before || (await page.getByTestId("events").getAttribute("data-loaded")) !== "yes") {
            if (Date.now() > deadline) throw new Error("the filtered list did not arrive");
            await new Promise((r) => setTimeout(r, 5));
          }
          if (i > 0) filters.push(performance.now() - t1);
          await page.close();
        }
        const p = summarize(paints.sort((a, b) => a - b));
        const f = summarize(filters.sort((a, b) => a - b));
        const label = scale === "demo" ? `demo tenant (${stored.accepted.toLocaleString("en-US")} events)` : `${stored.accepted.toLocaleString("en-US")} events`;
        rows.push(`| ${label} | ${p.p50.toFixed(0)} / ${p.p95.toFixed(0)} ms | ${f.p50.toFixed(0)} / ${f.p95.toFixed(0)} ms | ${REPS} |`);
        console.log(rows.at(-1));
      } finally {
        await stopChild(host);
      }
    }
  } finally {
    await browser.close();
    await stopChild(queue);
    await stopChild(azurite);
  }
  writeSection(
    "tab",
    `## Teams tab (\`npm run bench:tab\`)

${machineLine()}

Headless Debian Chromium against the built local host on Azurite (loopback), the "Last 7 days"
range. *First meaningful paint*: from navigation to the overview drawn with its data (tiles, both
charts, the apps and the top errors; the page's bundle is about 270 KB gzipped). *Filter update*:
from choosing another status in the Events view to the new page of events and its total drawn.
Targets: under 1 s and under 300 ms.

Where the time goes (profiled with the page's resource and navigation timings): about 0.3 s to
evaluate the bundle (React, Fluent UI, chart.js: 0.9 MB, 270 KB gzipped), 0.05 to 0.2 s for the
overview's request, and about 0.3 s to draw the overview with its data (the first use of each Fluent
component inserts its styles). \`boot.js\` asks for the first overview before the bundle runs (it
used to start at about 0.6 s, after React had drawn); *Objects touched* waits until the overview is
drawn. Before those two changes the first meaningful paint was 1,076 / 1,461 ms (demo) and
1,068 / 1,404 ms (100k). The p95 at 100k is above the target on this 2-core machine, where Chromium,
the host and Azurite share the cores.

| store | first meaningful paint, p50 / p95 | filter update, p50 / p95 | runs |
|---|---|---|---|
${rows.join("\n")}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
