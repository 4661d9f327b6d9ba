import { CsvError, joinCsv, parseCsv, type CsvTable } from "./csv";
import { field, isObject } from "./fields";

/**
 * Detects what was posted (from the content type, else from the content) and turns it into a
 * list of raw records, each with its index in the batch, so a bad record can be reported alone:
 * a Graph list response {"value": [...]}, Event Hub {"records": [...]}, a JSON array, a single
 * record, NDJSON, or the admin center's CSV files (one, or the three joined on change ID).
 */
export type PayloadFormat = "graph-list" | "eventhub-records" | "json-array" | "json-record" | "ndjson" | "csv";

export interface PayloadFile {
  name?: string;
  contentType?: string;
  text: string;
}

export interface PayloadItem {
  index: number;
  record?: unknown;
  /** Set when this item could not even be read (a bad NDJSON line, say). */
  error?: string;
  /** The unreadable text, clipped, for the dead letter. */
  raw?: string;
}

export interface ParsedPayload {
  formats: PayloadFormat[];
  items: PayloadItem[];
  warnings: string[];
  /** CSV steps / modified-properties rows posted without their events file. */
  csvParts: { steps: CsvTable[]; modifiedProperties: CsvTable[] };
}

export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PayloadError";
  }
}

/**
 * Records one request may carry. A body at the size cap holds a few thousand real records; tens
 * of thousands of tiny elements or lines are not a provisioning download, and holding one object
 * per element would cost far more memory than the body itself. `provbot ingest` has no such cap.
 */
export const MAX_RECORDS_PER_REQUEST = 50_000;

function tooMany(n: number, what: string): PayloadError {
  return new PayloadError(`the body holds ${n.toLocaleString("en-US")} ${what}; one request takes at most ${MAX_RECORDS_PER_REQUEST.toLocaleString("en-US")} records. Split it, or run \`npx provbot ingest <file>\`, which streams files of any size.`);
}

/** How much of the start of a body is looked at to tell its format. */
const SNIFF_CHARS = 4096;

/** The format from the content type, the file name and the first characters: never by trying every parser on the whole body. */
export function sniffFormat(file: PayloadFile): "csv" | "json" | "ndjson" {
  const ct = (file.contentType ?? "").toLowerCase();
  const name = file.name?.toLowerCase() ?? "";
  if (ct.includes("csv") || name.endsWith(".csv")) return "csv";
  if (ct.includes("ndjson") || ct.includes("jsonl") || ct.includes("json-seq") || name.endsWith(".ndjson") || name.endsWith(".jsonl")) return "ndjson";
  const head = file.text.slice(0, SNIFF_CHARS).replace(/^\uFEFF/, "").trimStart();
  if (head.startsWith("[")) return "json";
  if (head.startsWith("{")) return firstLineIsWholeJson(file.text) ? "ndjson" : "json";
  if (ct.includes("json")) return "json";
  return "csv";
}

/** NDJSON: the first line is a complete JSON value and something follows it. */
function firstLineIsWholeJson(text: string): boolean {
  const body = text.replace(/^\uFEFF/, "").trimStart();
  const nl = body.indexOf("\n");
  if (nl < 0 || !body.slice(nl + 1).trim()) return false;
  try {
    JSON.parse(body.slice(0, nl));
    return true;
  } catch {
    return false;
  }
}

function jsonItems(text: string): { format: PayloadFormat; records: unknown[] } {
  const trimmed = text.replace(/^\uFEFF/, "").trim();
  if (!trimmed) throw new PayloadError("the body is empty");
  let whole: unknown;
  try {
    whole = JSON.parse(trimmed);
  } catch (err) {
    throw new PayloadError(`the body is not valid JSON (${err instanceof Error ? err.message.slice(0, 200) : "parse error"})`);
  }
  if (Array.isArray(whole)) return { format: "json-array", records: whole };
  if (isObject(whole)) {
    const value = field(whole, "value");
    if (Array.isArray(value)) return { format: "graph-list", records: value };
    const records = field(whole, "records");
    if (Array.isArray(records)) return { format: "eventhub-records", records };
    return { format: "json-record", records: [whole] };
  }
  throw new PayloadError("the JSON body is neither a record, an array of records, {\"value\": [...]} nor {\"records\": [...]}");
}

/** One NDJSON line (or a line of a streamed file): its records, or why it cannot be read. */
export function ndjsonLine(line: string, lineNumber: number, nextIndex: number): PayloadItem[] {
  try {
    const value = JSON.parse(line) as unknown;
    // A line may itself be an Event Hub envelope.
    const inner = isObject(value) ? field(value, "records") : undefined;
    if (Array.isArray(inner)) return inner.map((r, i) => ({ index: nextIndex + i, record: r }));
    return [{ index: nextIndex, record: value }];
  } catch {
    return [{ index: nextIndex, error: `line ${lineNumber} is not valid JSON`, raw: line.slice(0, 2000) }];
  }
}

/** Lets other work run between slices of a long parse, so that one body never holds the event loop for long. */
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Nesting depth allowed in a body. A record nested 100,000 levels is read (and rejected or
 * trimmed alone); a body nested millions of levels deep costs seconds and hundreds of MB to parse
 * and is refused first, by a linear scan that skips strings.
 */
export const MAX_BODY_NESTING = 200_000;

export function nestingDepth(text: string, stopAt = Number.MAX_SAFE_INTEGER): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > max) {
        max = depth;
        if (max > stopAt) return max;
      }
    } else if (c === 93 || c === 125) depth--;
  }
  return max;
}

function checkNesting(text: string): void {
  const depth = nestingDepth(text, MAX_BODY_NESTING);
  if (depth > MAX_BODY_NESTING) throw new PayloadError(`the body is nested more than ${MAX_BODY_NESTING.toLocaleString("en-US")} levels deep; no provisioning record is`);
}

async function ndjsonItems(text: string, startIndex: number): Promise<PayloadItem[]> {
  let lineCount = 1;
  for (let i = text.indexOf("\n"); i >= 0 && lineCount <= MAX_RECORDS_PER_REQUEST + 1; i = text.indexOf("\n", i + 1)) lineCount++;
  if (lineCount > MAX_RECORDS_PER_REQUEST + 1) throw tooMany(lineCount, "lines or more");
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const items: PayloadItem[] = [];
  let parsedAny = false;
  let parsedChars = 0;
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    const got = ndjsonLine(line, i + 1, startIndex + items.length);
    if (got[0]?.error === undefined) parsedAny = true;
    items.push(...got);
    parsedChars += line.length;
    if (parsedChars > 256 * 1024) {
      parsedChars = 0;
      await yieldToLoop();
    }
  }
  if (!parsedAny) throw new PayloadError("the body is NDJSON in which no line is valid JSON");
  return items;
}

export async function parsePayload(files: PayloadFile[]): Promise<ParsedPayload> {
  const out: ParsedPayload = { formats: [], items: [], warnings: [], csvParts: { steps: [], modifiedProperties: [] } };
  const csvTables: CsvTable[] = [];
  for (const file of files) {
    if (!file.text.trim()) continue;
    const format = sniffFormat(file);
    if (format === "csv") {
      try {
        const table = await parseCsv(file.text, MAX_RECORDS_PER_REQUEST);
        if (table.rows.length > MAX_RECORDS_PER_REQUEST) throw tooMany(table.rows.length, "rows or more");
        if (table.unknownColumns.length > 0) {
          out.warnings.push(`${file.name ?? "CSV"} (${table.kind}): unknown column(s) ignored: ${table.unknownColumns.join(", ")}`);
        }
        csvTables.push(table);
      } catch (err) {
        if (err instanceof CsvError) throw new PayloadError(`${file.name ? `${file.name}: ` : ""}${err.message}`);
        throw err;
      }
      continue;
    }
    checkNesting(file.text);
    if (format === "ndjson") {
      out.formats.push("ndjson");
      out.items.push(...(await ndjsonItems(file.text, out.items.length)));
      continue;
    }
    const { format: shape, records } = jsonItems(file.text);
    if (out.items.length + records.length > MAX_RECORDS_PER_REQUEST) throw tooMany(out.items.length + records.length, "records");
    out.formats.push(shape);
    for (const record of records) out.items.push({ index: out.items.length, record });
  }
  if (csvTables.length > 0) {
    out.formats.push("csv");
    const events = csvTables.filter((t) => t.kind === "events");
    const steps = csvTables.filter((t) => t.kind === "steps");
    const modified = csvTables.filter((t) => t.kind === "modifiedProperties");
    if (events.length > 1) throw new PayloadError("more than one CSV events file in one request");
    if (events[0]) {
      if (out.items.length + events[0].rows.length > MAX_RECORDS_PER_REQUEST) throw tooMany(out.items.length + events[0].rows.length, "rows");
      for (const record of joinCsv(events[0], steps, modified)) out.items.push({ index: out.items.length, record });
    } else {
      out.csvParts.steps.push(...steps);
      out.csvParts.modifiedProperties.push(...modified);
    }
  }
  if (files.every((f) => !f.text.trim())) throw new PayloadError("the body is empty");
  return out;
}
