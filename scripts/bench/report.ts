import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { findPackageRoot } from "../../src/packageInfo";
import { AZURITE_CONNECTION_STRING } from "../../src/config";
import { createTableFactory, type TableFactory } from "../../src/adapters/tables/client";

/** Writes one benchmark's section into BENCHMARKS.md (between markers), leaving the others alone. */
/** Machine, date and the commit measured (with "+changes" when the working tree differs from it). */
export function machineLine(): string {
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  let commit = "no git";
  try {
    const root = findPackageRoot(__dirname);
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    // BENCHMARKS.md itself changes as sections are written.
    if (execFileSync("git", ["status", "--porcelain", "--untracked-files=no", "--", ".", ":!BENCHMARKS.md"], { cwd: root, encoding: "utf8" }).trim()) commit += "+changes";
  } catch {
    // Not a git checkout: the line says so.
  }
  return `${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)} · commit ${commit}`;
}

export function writeSection(id: string, markdown: string): void {
  const file = join(findPackageRoot(__dirname), "BENCHMARKS.md");
  let text = existsSync(file)
    ? readFileSync(file, "utf8")
    : "# Benchmarks\n\nEvery figure below was produced by the command named in its section, on the machine named there.\nRe-run `npm run bench` (all) or the named script to refresh a section.\n";
  const begin = `<!-- bench:${id}:begin -->`;
  const end = `<!-- bench:${id}:end -->`;
  const block = `${begin}\n${markdown.trim()}\n${end}`;
  const start = text.indexOf(begin);
  if (start >= 0) text = text.slice(0, start) + block + text.slice(text.indexOf(end) + end.length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? NaN;
}

export function summarize(samples: number[]): { p50: number; p95: number; p99: number; mean: number; n: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
    n: sorted.length,
  };
}

export const ms = (v: number) => `${v.toFixed(2)} ms`;

/**
 * The demo tenant for a benchmark of `scale` events over 14 days. The generator saturates: 2,000
 * people have about 500k events of change in 14 days, so beyond 200k the tenant grows (scale / 100
 * people) and so do the changes per cycle.
 */
export function demoShape(scale: number): { perCycle: number; users: number } {
  // Rounded up: the generator must produce at least `scale` events (the benchmarks stop at scale).
  return { perCycle: Math.max(1, Math.ceil(scale / (scale > 200_000 ? 2500 : 3700))), users: Math.max(2000, scale / 100) };
}

/**
 * Table clients on a local Azurite that count their storage round trips (`requests.n`): the cost of
 * a query that does not depend on the emulator.
 */
export function countingTables(connectionStringOrPort: string | number, prefix: string): { factory: TableFactory; requests: { n: number } } {
  const requests = { n: 0 };
  const connectionString = typeof connectionStringOrPort === "number" ? AZURITE_CONNECTION_STRING(connectionStringOrPort) : connectionStringOrPort;
  const factory = createTableFactory({ kind: "connectionString", connectionString }, prefix, {
    additionalPolicies: [{ position: "perCall", policy: { name: "count", sendRequest: (req, next) => (requests.n++, next(req)) } }],
  });
  return { factory, requests };
}
