import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { findPackageRoot } from "../../src/packageInfo";
import { freePort, startAzuriteQueue, httpOk, startAzurite, startChild, stopChild, toolPaths, waitUntil } from "../processes";
import { startLocalHost } from "../local-host/server";
import { machineLine, ms, summarize, writeSection } from "./report";

/**
 * `npm run bench:host`: cold start of the local Functions host (process start to first answered
 * request), the latency the host adds per request (same handler work behind a bare node:http
 * server vs. through the host), and the sizes of node_modules and of the deployable package.
 */
const root = findPackageRoot(__dirname);
const REQUESTS = 2000;

async function timeRequests(url: string, n: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await fetch(url, { method: "POST", body: "ping", headers: { "x-probe": "p" } });
    await res.arrayBuffer();
    samples.push(performance.now() - t);
  }
  return samples;
}

function du(path: string): string {
  try {
    return execFileSync("du", ["-sh", path], { encoding: "utf8" }).split("\t")[0] ?? "?";
  } catch {
    return "?";
  }
}

async function main(): Promise<void> {
  const azuritePort = await freePort();
  const azurite = await startAzurite({ root, port: azuritePort, quiet: true });
  const queuePort = await freePort();
  const azuriteQueue = await startAzuriteQueue({ root, port: queuePort, quiet: true });
  try {
    // Cold start, 5 runs.
    const cold: number[] = [];
    for (let i = 0; i < 5; i++) {
      const port = await freePort();
      const t0 = performance.now();
      const child = startChild({
        name: "host",
        command: process.execPath,
        args: ["-r", toolPaths(root).childGuard, toolPaths(root).localHost],
        env: { PORT: String(port), AZURITE_TABLE_PORT: String(azuritePort), AZURITE_QUEUE_PORT: String(queuePort), FUNCTION_KEY: "bench", PROVBOT_TIMERS: "off" },
        quiet: true,
      });
      await waitUntil("host", () => httpOk(`http://127.0.0.1:${port}/api/health`), { timeoutMs: 30_000, child });
      cold.push(performance.now() - t0);
      await stopChild(child);
    }

    // Added latency: the fixture "echo" function through the host vs. the same work on bare node:http.
    const host = await startLocalHost({ root: join(root, "test", "fixtures", "function-app"), port: 0, timers: false, log: () => undefined });
    const bare = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const url = new URL(req.url ?? "/", "http://x");
        const body = JSON.stringify({ method: req.method, params: { name: "alice" }, query: Object.fromEntries(url.searchParams), header: req.headers["x-probe"], body: Buffer.concat(chunks).toString() });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(body);
      });
    });
    await new Promise<void>((r) => bare.listen(0, "127.0.0.1", () => r()));
    const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/api/echo/alice?x=1`;
    const hostUrl = `${host.url}/api/echo/alice?x=1`;
    await timeRequests(bareUrl, 200);
    await timeRequests(hostUrl, 200);
    // Interleaved so that background noise hits both sides alike.
    const bareSamples: number[] = [];
    const hostSamples: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      bareSamples.push(...(await timeRequests(bareUrl, 1)));
      hostSamples.push(...(await timeRequests(hostUrl, 1)));
    }
    const viaBare = summarize(bareSamples);
    const viaHost = summarize(hostSamples);
    await host.close();
    bare.close();

    const coldS = summarize(cold);
    const lines = [
      "## Local Functions host",
      "",
      `Command: \`npm run bench:host\` · Machine: ${machineLine()}`,
      "",
      "| measure | p50 | p95 | n |",
      "|---|---|---|---|",
      `| cold start: process start → first answered \`/api/health\` (incl. Table Storage round trip) | ${ms(coldS.p50)} | ${ms(coldS.p95)} | ${coldS.n} |`,
      `| request on bare \`node:http\` (same work, loopback, sequential) | ${ms(viaBare.p50)} | ${ms(viaBare.p95)} | ${viaBare.n} |`,
      `| request through the local host (route match, \`HttpRequest\`, \`InvocationContext\`, \`HttpResponse\`) | ${ms(viaHost.p50)} | ${ms(viaHost.p95)} | ${viaHost.n} |`,
      `| **added by the host** | **${ms(viaHost.p50 - viaBare.p50)}** | **${ms(viaHost.p95 - viaBare.p95)}** | |`,
      "",
      `Sizes: \`node_modules\` (all, dev included) ${du(join(root, "node_modules"))}; \`dist/\` ${du(join(root, "dist"))}.`,
      `The deployable package (dist + host.json + package.json + production node_modules, measured by \`npm run bench:package\`) is in its own section.`,
    ];
    writeSection("host", lines.join("\n"));
    console.log(lines.join("\n"));
  } finally {
    await stopChild(azurite);
    await stopChild(azuriteQueue);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
