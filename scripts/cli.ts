#!/usr/bin/env node
import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { Command } from "commander";
import { SingleBar, Presets } from "cli-progress";
import { ConfigError } from "../src/config";
import { findPackageRoot, packageVersion } from "../src/packageInfo";
import { applyLocalSettings } from "./local-settings";
import { getServices } from "../src/composition";
import { ingestPayload, ingestStream, type IngestReport } from "../src/app/ingest";
import { csvParts, fileKind, fileRecords } from "../src/adapters/files/streamFiles";
import { PayloadError } from "../src/core/ingest/payload";
import { answerQuestion } from "../src/app/answer";
import { renderCard } from "../src/adapters/cards/render";

/**
 * `npx provbot ...`: the same use cases as the bot, from a terminal. Storage settings come from the
 * environment or local.settings.json, as for the local host (default: Azurite on loopback).
 */
const program = new Command();
program.name("provbot").description("Entra ID provisioning logs: ingest and ask from the command line").version(packageVersion());

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
  .description("store provisioning logs from files of any size: Graph JSON, admin-center JSON or CSV (the three files together), Event Hub NDJSON; streamed in batches")
  .argument("<files...>", "files to ingest")
  .option("--json", "print the report as JSON")
  .option("--chunk <n>", "records per storage round", "1000")
  .action(async (files: string[], opts: { json?: boolean; chunk: string }) => {
    const svc = await services();
    const total = files.reduce((n, f) => n + statSync(f).size, 0);
    const bar = new SingleBar({ format: "ingesting [{bar}] {percentage}% | {records} records | {eta_formatted} left", hideCursor: true, clearOnComplete: true, stream: process.stderr }, Presets.shades_classic);
    const tty = process.stderr.isTTY;
    if (tty) bar.start(total, 0, { records: 0 });
    try {
      const kinds = files.map((path) => ({ path, ...fileKind(path) }));
      const eventFiles = kinds.filter((k) => k.kind === "json" || k.kind === "ndjson" || k.kind === "events");
      const partFiles = kinds.filter((k) => k.kind === "steps" || k.kind === "modifiedProperties");
      const summary: IngestReport = { accepted: 0, duplicates: 0, ignored: 0, rejected: [], rejectedCount: 0, warnings: [] };
      let readBefore = 0;
      let records = 0;
      if (eventFiles.length === 0) {
        // Steps / properties on their own: attached to events already stored, or kept for them.
        const report = await ingestPayload(partFiles.map((k) => ({ name: basename(k.path), contentType: "text/csv", text: readFileSync(k.path, "utf8") })), "cli", svc.ingest);
        Object.assign(summary, report);
      } else {
        // The steps and properties files are read into memory and joined to the streamed events.
        const parts = await csvParts(partFiles.map((k) => ({ file: { path: k.path }, header: k.header! })));
        for (const k of eventFiles) {
          const base = readBefore;
          const items = fileRecords({ path: k.path, onBytes: (b) => tty && bar.update(base + b) }, k, summary.accepted + summary.duplicates + summary.ignored + summary.rejectedCount, parts);
          const report = await ingestStream(items, "cli", svc.ingest, {
            chunkSize: Number(opts.chunk) || 1000,
            eventSource: k.kind === "events" ? "download-csv" : undefined,
            onProgress: (done) => tty && bar.update({ records: records + done }),
          });
          records += report.accepted + report.duplicates + report.ignored + report.rejectedCount;
          readBefore += statSync(k.path).size;
          summary.accepted += report.accepted;
          summary.duplicates += report.duplicates;
          summary.ignored += report.ignored;
          summary.rejectedCount += report.rejectedCount;
          summary.rejected.push(...report.rejected.map((r) => ({ ...r, reason: `${basename(k.path)}: ${r.reason}` })));
          summary.deadLetterIds = [...(summary.deadLetterIds ?? []), ...(report.deadLetterIds ?? [])];
          summary.trimmed = (summary.trimmed ?? 0) + (report.trimmed ?? 0) || undefined;
        }
      }
      if (tty) bar.stop();
      if (summary.deadLetterIds?.length === 0) delete summary.deadLetterIds;
      if (opts.json) console.log(JSON.stringify(summary, null, 2));
      else {
        console.log(`accepted ${summary.accepted}, duplicates ${summary.duplicates}, rejected ${summary.rejectedCount}${summary.ignored ? `, other categories ignored ${summary.ignored}` : ""}${summary.trimmed ? `, stored trimmed ${summary.trimmed}` : ""}`);
        for (const r of summary.rejected.slice(0, 20)) console.log(`  record ${r.index}: ${r.reason}`);
        if (summary.rejectedCount > 20) console.log(`  ... and ${summary.rejectedCount - 20} more`);
        for (const id of summary.deadLetterIds ?? []) console.log(`  rejected records kept: npx provbot rejected ${id}`);
        for (const w of summary.warnings) console.log(`  warning: ${w}`);
        if (summary.partsAttached !== undefined) console.log(`  CSV parts attached to ${summary.partsAttached} stored events, ${summary.partsPending} waiting for their events`);
      }
      process.exitCode = summary.rejectedCount > 0 ? 3 : 0;
    } catch (err) {
      if (tty) bar.stop();
      if (err instanceof PayloadError) {
        console.error(`cannot ingest: ${err.message}`);
        process.exitCode = 2;
        return;
      }
      throw err;
    }
  });

program
  .command("rejected")
  .description("rejected records: the recent dead letters, or one (its records and reasons) by the id an ingest printed")
  .argument("[id]", "a dead-letter id (day/row key), as printed by ingest or returned in deadLetterIds")
  .option("--days <n>", "how far back to list", "7")
  .option("--json", "print JSON (with the raw records, for one id)")
  .action(async (id: string | undefined, opts: { days: string; json?: boolean }) => {
    const svc = await services();
    const store = svc.deadLetters;
    if (!id) {
      const list = await store.list(new Date(Date.now() - (Number(opts.days) || 7) * 86_400_000).toISOString());
      if (opts.json) return console.log(JSON.stringify(list, null, 2));
      if (list.length === 0) return console.log("no rejected records in that time");
      for (const d of list) console.log(`${d.id}  ${d.receivedAt}  ${d.source}  ${d.summary || `${d.count} rejected: ${d.firstReason}`}`);
      return;
    }
    const d = await store.get(id);
    if (!d) {
      console.error(`no dead letter ${id}`);
      process.exitCode = 1;
      return;
    }
    if (opts.json) return console.log(JSON.stringify(d, null, 2));
    console.log(`${d.id}: ${d.summary || `${d.count} rejected`} (received ${d.receivedAt} from ${d.source})`);
    const raw = new Map(d.raw.map((r) => [r.index, r.raw]));
    for (const r of d.rejections.slice(0, 50)) console.log(`  record ${r.index}: ${r.reason}${raw.has(r.index) ? `\n    ${raw.get(r.index)!.slice(0, 300)}` : ""}`);
    if (d.rejections.length > 50) console.log(`  ... ${d.rejections.length - 50} more listed (--json prints them all with their raw text)`);
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
