#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { Command } from "commander";
import { SingleBar, Presets } from "cli-progress";
import { ConfigError } from "../src/config";
import { findPackageRoot, packageVersion } from "../src/packageInfo";
import { applyLocalSettings } from "./local-settings";
import { getServices } from "../src/composition";
import { ingestPayload } from "../src/app/ingest";
import { PayloadError } from "../src/core/ingest/payload";
import { answerQuestion } from "../src/app/answer";
import { renderCard } from "../src/adapters/cards/render";

/**
 * `npx provbot ...`: the same use cases as the bot, from a terminal. Storage settings come from the
 * environment or local.settings.json, as for the local host (default: Azurite on loopback).
 */
const program = new Command();
program.name("provbot").description("Entra ID provisioning logs: ingest and ask from the command line").version(packageVersion());

function contentTypeOf(file: string): string | undefined {
  const f = file.toLowerCase();
  if (f.endsWith(".csv")) return "text/csv";
  if (f.endsWith(".ndjson") || f.endsWith(".jsonl")) return "application/x-ndjson";
  if (f.endsWith(".json")) return "application/json";
  return undefined;
}

async function services() {
  try {
    applyLocalSettings(findPackageRoot(__dirname));
  } catch {
    /* not inside the package: environment only */
  }
  process.env["PROVBOT_LOCAL_HOST"] ??= "true"; // the CLI never serves the bot
  return getServices();
}

program
  .command("ingest")
  .description("store provisioning logs from files: Graph JSON, admin-center JSON or CSV (the three files together), Event Hub NDJSON")
  .argument("<files...>", "files to ingest")
  .option("--json", "print the report as JSON")
  .option("--chunk <n>", "records per storage round", "1000")
  .action(async (files: string[], opts: { json?: boolean; chunk: string }) => {
    const payload = files.map((file) => ({ name: basename(file), contentType: contentTypeOf(file), text: readFileSync(file, "utf8") }));
    const svc = await services();
    const bar = new SingleBar({ format: "ingesting [{bar}] {percentage}% | {value}/{total} records | {eta_formatted} left", hideCursor: true, clearOnComplete: true, stream: process.stderr }, Presets.shades_classic);
    let started = false;
    try {
      const report = await ingestPayload(payload, "cli", svc.ingest, {
        chunkSize: Number(opts.chunk) || 1000,
        onProgress: (done, total) => {
          if (!started && process.stderr.isTTY) {
            bar.start(total, 0);
            started = true;
          }
          if (started) bar.update(done);
        },
      });
      if (started) bar.stop();
      const { events: _e, ...summary } = report;
      if (opts.json) console.log(JSON.stringify(summary, null, 2));
      else {
        console.log(`accepted ${summary.accepted}, duplicates ${summary.duplicates}, rejected ${summary.rejected.length}${summary.ignored ? `, other categories ignored ${summary.ignored}` : ""}`);
        for (const r of summary.rejected.slice(0, 20)) console.log(`  record ${r.index}: ${r.reason}`);
        if (summary.rejected.length > 20) console.log(`  ... and ${summary.rejected.length - 20} more (kept in the deadletters table)`);
        for (const w of summary.warnings) console.log(`  warning: ${w}`);
        if (summary.partsAttached !== undefined) console.log(`  CSV parts attached to ${summary.partsAttached} stored events, ${summary.partsPending} waiting for their events`);
      }
      process.exitCode = summary.rejected.length > 0 ? 3 : 0;
    } catch (err) {
      if (started) bar.stop();
      if (err instanceof PayloadError) {
        console.error(`cannot ingest: ${err.message}`);
        process.exitCode = 2;
        return;
      }
      throw err;
    }
  });

program
  .command("ask")
  .description('ask a question as in Teams, e.g. provbot ask "why did alice fail in ServiceNow?"')
  .argument("<question...>", "the question")
  .option("--json", "print the Adaptive Card (JSON) instead of text")
  .option("--page <n>", "page of a list answer", "1")
  .action(async (words: string[], opts: { json?: boolean; page: string }) => {
    const svc = await services();
    const answer = await answerQuestion(words.join(" "), { store: svc.query, now: () => new Date(), version: svc.config.version }, { page: Number(opts.page) || 1 });
    if (opts.json) console.log(JSON.stringify(renderCard(answer.card, answer.viewModel).content, null, 2));
    else console.log(answer.text);
  });

program.parseAsync().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
