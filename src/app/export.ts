import { Zip, ZipDeflate } from "fflate";
import type { ProvisioningEvent } from "../core/event";
import { CSV_FILES, EVENT_HEADER, eventCsvRow, MODIFIED_HEADER, modifiedCsvRows, STEP_HEADER, stepCsvRows, csvLine, toGraphRecord } from "../core/export";
import type { ExportQuery, QueryStore } from "./queryPorts";
import { listRequest } from "./listRequest";

/**
 * Downloads (`GET /api/export`): exactly the events a list shows, as JSON or as the admin center's
 * three CSV files in one zip. Streamed: the store is read page by page and the file is written as
 * it is read, so a download of any size holds one page in memory (the CSV's three files are three
 * passes over the same events, since a zip holds one file after another).
 */
/**
 * Not a memory bound (the body is streamed, on Azure too: functions/runtime.ts): the longest
 * retention a deployment can set, so a download can cover everything stored.
 */
export const MAX_EXPORT_DAYS = 366;

export type ExportRequest = { ok: true; format: "json" | "csv"; query: ExportQuery; fileName: string } | { ok: false; status: 400 | 404; error: string };

/** The query string of a download: the list's filters (listRequest.ts) and a format. */
export async function exportRequest(params: Record<string, string>, store: QueryStore, now: Date): Promise<ExportRequest> {
  const format = params["format"] ?? "json";
  if (format !== "json" && format !== "csv") return { ok: false, status: 400, error: `format: expected json or csv` };
  const r = await listRequest(params, store, now, MAX_EXPORT_DAYS);
  if (!r.ok) return r;
  const stamp = r.query.to.slice(0, 16).replace(/[-:]/g, "").replace("T", "-");
  return { ok: true, format, query: r.query, fileName: `provisioning-logs-${stamp}.${format === "json" ? "json" : "zip"}` };
}

/** The JSON download: one array of Graph provisioningObjectSummary records, written as read. */
export async function* exportJson(events: AsyncIterable<ProvisioningEvent>): AsyncGenerator<Uint8Array> {
  const enc = new TextEncoder();
  let first = true;
  yield enc.encode("[");
  for await (const e of events) {
    yield enc.encode(`${first ? "\n" : ",\n"}${JSON.stringify(toGraphRecord(e))}`);
    first = false;
  }
  yield enc.encode(first ? "]\n" : "\n]\n");
}

/** The CSV download: a zip of the three files; `read` is called once per file (three passes). */
export async function* exportCsvZip(read: () => AsyncIterable<ProvisioningEvent>): AsyncGenerator<Uint8Array> {
  const ready: Uint8Array[] = [];
  let failed: Error | null = null;
  let done = false;
  const zip = new Zip((err, chunk, final) => {
    if (err) failed = err;
    else ready.push(chunk);
    if (final) done = true;
  });
  const enc = new TextEncoder();
  const files: [string, string, (e: ProvisioningEvent) => string][] = [
    [CSV_FILES.events, csvLine(EVENT_HEADER), eventCsvRow],
    [CSV_FILES.steps, csvLine(STEP_HEADER), stepCsvRows],
    [CSV_FILES.modifiedProperties, csvLine(MODIFIED_HEADER), modifiedCsvRows],
  ];
  for (const [name, header, rows] of files) {
    const file = new ZipDeflate(name, { level: 6 });
    zip.add(file);
    // A UTF-8 byte order mark, so that spreadsheet programs read names with accents right.
    file.push(enc.encode(`\ufeff${header}`));
    let batch = "";
    for await (const e of read()) {
      batch += rows(e);
      if (batch.length > 64 * 1024) {
        file.push(enc.encode(batch));
        batch = "";
        if (failed) throw failed;
        yield* ready.splice(0);
      }
    }
    file.push(enc.encode(batch), true);
    if (failed) throw failed;
    yield* ready.splice(0);
  }
  zip.end();
  if (failed) throw failed;
  yield* ready.splice(0);
  if (!done) throw new Error("the zip did not finish");
}
