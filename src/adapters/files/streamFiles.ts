import { createReadStream, openSync, readSync, closeSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { createInterface } from "node:readline";
import { JSONParser } from "@streamparser/json";
import { parse } from "csv-parse";
import { parse as parseSync } from "csv-parse/sync";
import { CSV_OPTIONS, CsvError, csvEventRecord, csvHeader, csvRow, modifiedByChangeId, stepsByChangeId, type CsvHeader, type CsvKind, type CsvTable } from "../../core/ingest/csv";
import { ndjsonLine, PayloadError, sniffFormat, type PayloadItem } from "../../core/ingest/payload";
import type { JsonObject } from "../../core/ingest/fields";
import { plural } from "../../core/text";

/**
 * Files of any size as a stream of records, read with bounded memory: NDJSON line by line, JSON
 * arrays and {"value": [...]} / {"records": [...]} element by element (@streamparser/json), and
 * the admin center's CSV files row by row (csv-parse). Records come out as PayloadItems with a
 * running index, so the ingest use case can store them in batches and report bad ones by index.
 */
export interface FileInput {
  path: string;
  /** Bytes read so far, for progress. */
  onBytes?: (bytes: number) => void;
}

const HEAD_BYTES = 64 * 1024;

function head(path: string): string {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const n = readSync(fd, buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, n).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

function reader(file: FileInput) {
  const stream = createReadStream(file.path);
  let bytes = 0;
  stream.on("data", (c) => {
    bytes += c.length;
    file.onBytes?.(bytes);
  });
  return stream;
}

export type FileKind = "json" | "ndjson" | CsvKind;

/** What a file holds, from its name and first 64 KiB. */
export function fileKind(path: string): { kind: FileKind; header?: CsvHeader } {
  const text = head(path);
  const ct = path.toLowerCase().endsWith(".json") ? "application/json" : undefined;
  const format = sniffFormat({ name: basename(path), text, ...(ct ? { contentType: ct } : {}) });
  if (format !== "csv") return { kind: format };
  const firstLine = text.replace(/^\uFEFF/, "").split(/\r?\n/, 1)[0] ?? "";
  let cells: string[] = [];
  try {
    cells = (parseSync(firstLine, { ...CSV_OPTIONS, to_line: 1 }) as string[][])[0] ?? [];
  } catch (err) {
    throw new PayloadError(`${basename(path)}: CSV could not be parsed: ${(err as Error).message.slice(0, 200)}`);
  }
  try {
    const header = csvHeader(cells);
    return { kind: header.kind, header };
  } catch (err) {
    if (err instanceof CsvError) throw new PayloadError(`${basename(path)}: ${err.message}`);
    throw err;
  }
}

async function* ndjsonRecords(file: FileInput, start: number): AsyncGenerator<PayloadItem> {
  const lines = createInterface({ input: reader(file), crlfDelay: Infinity });
  let n = 0;
  let index = start;
  for await (const raw of lines) {
    n++;
    const line = n === 1 ? raw.replace(/^\uFEFF/, "") : raw;
    if (!line.trim()) continue;
    for (const item of ndjsonLine(line, n, index)) {
      index++;
      yield item;
    }
  }
}

async function* jsonRecords(file: FileInput, start: number): AsyncGenerator<PayloadItem> {
  const first = head(file.path).replace(/^\uFEFF/, "").trimStart()[0];
  const parser = new JSONParser({ paths: first === "[" ? ["$.*"] : ["$.value.*", "$.records.*"], keepStack: false });
  const out: unknown[] = [];
  parser.onValue = ({ value }) => void out.push(value);
  let index = start;
  try {
    for await (const chunk of reader(file)) {
      parser.write(chunk as Buffer);
      while (out.length) yield { index: index++, record: out.shift() };
    }
    if (!parser.isEnded) parser.end();
  } catch (err) {
    throw new PayloadError(`${basename(file.path)}: not valid JSON after ${plural(index - start, "record")}: ${(err as Error).message.slice(0, 200)}`);
  }
  while (out.length) yield { index: index++, record: out.shift() };
  if (first === "{" && index === start) {
    // A single record (or an object without value/records): small enough to read whole.
    if (statSync(file.path).size > 64 * 1024 * 1024) throw new PayloadError(`${basename(file.path)}: a single JSON object over 64 MiB is not a provisioning record`);
    const whole = JSON.parse((await readFile(file.path, "utf8")).replace(/^\uFEFF/, "")) as unknown;
    yield { index: index++, record: whole };
  }
}

async function* csvRows(file: FileInput, header: CsvHeader): AsyncGenerator<Record<string, string>> {
  let first = true;
  for await (const cells of reader(file).pipe(parse(CSV_OPTIONS)) as AsyncIterable<string[]>) {
    if (first) {
      first = false;
      continue; // the header, already read
    }
    yield csvRow(header, cells);
  }
}

/** Steps and modified-properties files, read whole into maps by changeId (for joining with events). */
export async function csvParts(files: { file: FileInput; header: CsvHeader }[]): Promise<{ steps: Map<string, JsonObject[]>; modified: Map<string, JsonObject[]> }> {
  const tables: Record<"steps" | "modifiedProperties", CsvTable[]> = { steps: [], modifiedProperties: [] };
  for (const { file, header } of files) {
    if (header.kind === "events") continue;
    const rows: Record<string, string>[] = [];
    for await (const row of csvRows(file, header)) rows.push(row);
    tables[header.kind].push({ kind: header.kind, rows, lines: [], unknownColumns: [] });
  }
  return { steps: stepsByChangeId(tables.steps), modified: modifiedByChangeId(tables.modifiedProperties) };
}

async function* csvEventRecords(file: FileInput, header: CsvHeader, parts: { steps: Map<string, JsonObject[]>; modified: Map<string, JsonObject[]> }, start: number): AsyncGenerator<PayloadItem> {
  let index = start;
  for await (const row of csvRows(file, header)) yield { index: index++, record: csvEventRecord(row, parts.steps, parts.modified) };
}

/** The records of one file, indexed from `start`. */
export function fileRecords(file: FileInput, kind: { kind: FileKind; header?: CsvHeader }, start: number, parts = { steps: new Map<string, JsonObject[]>(), modified: new Map<string, JsonObject[]>() }): AsyncGenerator<PayloadItem> {
  if (kind.kind === "ndjson") return ndjsonRecords(file, start);
  if (kind.kind === "json") return jsonRecords(file, start);
  if (kind.kind === "events" && kind.header) return csvEventRecords(file, kind.header, parts, start);
  throw new PayloadError(`${basename(file.path)}: a ${kind.kind} CSV file is joined with its events file, not read on its own`);
}
