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

function looksLikeCsv(file: PayloadFile): boolean {
  const ct = (file.contentType ?? "").toLowerCase();
  if (ct.includes("csv")) return true;
  if (ct.includes("json")) return false;
  if (file.name?.toLowerCase().endsWith(".csv")) return true;
  const first = file.text.replace(/^\uFEFF/, "").trimStart();
  return first.length > 0 && !first.startsWith("{") && !first.startsWith("[");
}

function jsonItems(text: string): { format: PayloadFormat; records: unknown[] } {
  const trimmed = text.replace(/^\uFEFF/, "").trim();
  if (!trimmed) throw new PayloadError("the body is empty");
  let whole: unknown;
  try {
    whole = JSON.parse(trimmed);
  } catch {
    return { format: "ndjson", records: [] };
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

function ndjsonItems(text: string, startIndex: number): PayloadItem[] {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const items: PayloadItem[] = [];
  let parsedAny = false;
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const index = startIndex + items.length;
    try {
      const value = JSON.parse(line) as unknown;
      parsedAny = true;
      // A line may itself be an Event Hub envelope.
      const inner = isObject(value) ? field(value, "records") : undefined;
      if (Array.isArray(inner)) inner.forEach((r) => items.push({ index: startIndex + items.length, record: r }));
      else items.push({ index, record: value });
    } catch {
      items.push({ index, error: `line ${i + 1} is not valid JSON` });
    }
  });
  if (!parsedAny) throw new PayloadError("the body is neither JSON, NDJSON nor CSV that could be read");
  return items;
}

export function parsePayload(files: PayloadFile[]): ParsedPayload {
  const out: ParsedPayload = { formats: [], items: [], warnings: [], csvParts: { steps: [], modifiedProperties: [] } };
  const csvTables: CsvTable[] = [];
  for (const file of files) {
    if (!file.text.trim()) continue;
    if (looksLikeCsv(file)) {
      try {
        const table = parseCsv(file.text);
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
    const { format, records } = jsonItems(file.text);
    out.formats.push(format);
    if (format === "ndjson") out.items.push(...ndjsonItems(file.text, out.items.length));
    else for (const record of records) out.items.push({ index: out.items.length, record });
  }
  if (csvTables.length > 0) {
    out.formats.push("csv");
    const events = csvTables.filter((t) => t.kind === "events");
    const steps = csvTables.filter((t) => t.kind === "steps");
    const modified = csvTables.filter((t) => t.kind === "modifiedProperties");
    if (events.length > 1) throw new PayloadError("more than one CSV events file in one request");
    if (events[0]) {
      for (const record of joinCsv(events[0], steps, modified)) out.items.push({ index: out.items.length, record });
    } else {
      out.csvParts.steps.push(...steps);
      out.csvParts.modifiedProperties.push(...modified);
    }
  }
  if (files.every((f) => !f.text.trim())) throw new PayloadError("the body is empty");
  return out;
}
