import { parse } from "csv-parse/sync";
import { parse as parseStream } from "csv-parse";
import type { JsonObject } from "./fields";
import { restoreCell } from "../spreadsheetCells";

/**
 * The admin center's CSV download is three files joined on the change ID: the events, their
 * provisioning steps, and their modified properties. The headers are not published, so columns
 * are matched on a normalised name (lower case, letters and digits only) against aliases, and
 * unknown or missing columns are reported by name.
 */
export type CsvKind = "events" | "steps" | "modifiedProperties";

const norm = (h: string) => h.toLowerCase().replace(/[^a-z0-9]/g, "");

const EVENT_COLUMNS: Record<string, string[]> = {
  activityDateTime: ["date", "datetime", "activitydatetime", "activitydate", "timegenerated", "time", "dateutc", "timestamp"],
  id: ["id", "activityid", "eventid", "logid", "provisioningid"],
  changeId: ["changeid", "correlationid"],
  cycleId: ["cycleid"],
  jobId: ["jobid"],
  tenantId: ["tenantid", "aadtenantid"],
  action: ["action", "provisioningaction"],
  status: ["status", "result", "resulttype", "provisioningstatus"],
  duration: ["durationms", "durationinmilliseconds", "duration", "durationmilliseconds"],
  sourceIdentityId: ["sourceidentityid", "sourceid", "sourceobjectid", "identityid"],
  sourceIdentityName: ["sourceidentityname", "sourceidentitydisplayname", "sourcedisplayname", "identity", "identityname", "sourceidentity", "displayname", "name"],
  sourceIdentityType: ["sourceidentitytype", "identitytype", "sourcetype", "type"],
  targetIdentityId: ["targetidentityid", "targetid", "targetobjectid"],
  targetIdentityName: ["targetidentityname", "targetidentitydisplayname", "targetdisplayname", "targetidentity"],
  targetIdentityType: ["targetidentitytype", "targettype"],
  sourceSystem: ["sourcesystem", "sourcesystemname", "sourcesystemdisplayname", "source"],
  targetSystem: ["targetsystem", "targetsystemname", "targetsystemdisplayname", "target"],
  servicePrincipalId: ["serviceprincipalid", "applicationid", "appid"],
  servicePrincipalName: ["serviceprincipalname", "serviceprincipaldisplayname", "serviceprincipal", "application", "applicationname", "app", "appname"],
  errorCode: ["errorcode", "statusreasoncode", "resultsignature", "errorcodes"],
  reason: ["reason", "errorreason", "statusreason", "errordescription", "failurereason", "resultdescription", "errormessage"],
  errorCategory: ["errorcategory", "category"],
  recommendedAction: ["recommendedaction", "recommendation"],
  additionalDetails: ["additionaldetails"],
  initiatedBy: ["initiatedby", "initiator"],
  userPrincipalName: ["userprincipalname", "upn", "sourceuserprincipalname"],
};

const STEP_COLUMNS: Record<string, string[]> = {
  changeId: ["changeid", "correlationid"],
  order: ["order", "stepnumber", "index", "step", "sequence"],
  name: ["name", "stepname", "provisioningstepname"],
  type: ["steptype", "type", "provisioningsteptype"],
  status: ["status", "stepstatus", "result"],
  description: ["description", "stepdescription"],
  details: ["details", "stepdetails"],
};

const MODIFIED_COLUMNS: Record<string, string[]> = {
  changeId: ["changeid", "correlationid"],
  displayName: ["targetattribute", "attribute", "displayname", "name", "propertyname", "property", "attributename"],
  oldValue: ["oldvalue", "old", "previousvalue"],
  newValue: ["newvalue", "new", "value"],
};

const COLUMNS: Record<CsvKind, Record<string, string[]>> = { events: EVENT_COLUMNS, steps: STEP_COLUMNS, modifiedProperties: MODIFIED_COLUMNS };
const REQUIRED: Record<CsvKind, string[]> = { events: ["activityDateTime", "status"], steps: ["changeId", "name"], modifiedProperties: ["changeId", "displayName"] };

export interface CsvTable {
  kind: CsvKind;
  rows: Record<string, string>[];
  /** Row numbers in the file (header = line 1) for each row, for error reports. */
  lines: number[];
  unknownColumns: string[];
}

export class CsvError extends Error {}

export function detectCsvKind(headers: string[]): CsvKind {
  const h = new Set(headers.map(norm));
  if (["oldvalue", "newvalue", "targetattribute"].some((x) => h.has(x))) return "modifiedProperties";
  if (["stepname", "steptype", "provisioningsteptype", "stepnumber"].some((x) => h.has(x))) return "steps";
  if (h.has("changeid") && h.has("description") && h.has("name") && !h.has("action") && !h.has("date")) return "steps";
  return "events";
}

export interface CsvHeader {
  kind: CsvKind;
  /** The canonical column of each cell position, or null for an unknown column. */
  mapping: (string | null)[];
  unknownColumns: string[];
}

/** Reads the header row: the file's kind and its columns, or a CsvError naming what is missing. */
export function csvHeader(header: string[]): CsvHeader {
  if (header.length === 0 || header.every((h) => !h.trim())) throw new CsvError("CSV has no header row");
  const kind = detectCsvKind(header);
  const aliases = COLUMNS[kind];
  const mapping: (string | null)[] = [];
  const unknownColumns: string[] = [];
  const taken = new Set<string>();
  for (const h of header) {
    const n = norm(h);
    const canonical = Object.entries(aliases).find(([name, list]) => !taken.has(name) && list.includes(n))?.[0] ?? null;
    if (canonical) taken.add(canonical);
    else if (h.trim()) unknownColumns.push(h.trim());
    mapping.push(canonical);
  }
  const missing = REQUIRED[kind].filter((c) => !taken.has(c));
  if (kind === "events" && !taken.has("id") && !taken.has("changeId")) missing.push("id or changeId");
  if (missing.length > 0) {
    const found = header.slice(0, 30).map((h) => h.trim().slice(0, 60)).join(", ");
    throw new CsvError(`CSV (${kind}) is missing required column(s): ${missing.join(", ")}. Columns found: ${found}${header.length > 30 ? ", …" : ""}`);
  }
  return { kind, mapping, unknownColumns };
}

/** One data row by column; each cell's spreadsheet defusing (a download's leading apostrophe) undone. */
export function csvRow(header: CsvHeader, cells: string[]): Record<string, string> {
  const row: Record<string, string> = {};
  header.mapping.forEach((name, i) => {
    if (name && cells[i] !== undefined) row[name] = restoreCell(cells[i] ?? "");
  });
  return row;
}

export const CSV_OPTIONS = { bom: true, relax_column_count: true, skip_empty_lines: true, relax_quotes: true } as const;

/**
 * `maxRows`: stop reading after this many data rows (the table then has maxRows + 1, for the caller
 * to refuse). The body is fed to csv-parse in 256 KiB slices with a turn of the event loop between
 * them, so a large CSV never holds up other requests for long.
 */
export async function parseCsv(text: string, maxRows = Number.MAX_SAFE_INTEGER): Promise<CsvTable> {
  // The header first: a body that is not a provisioning CSV is refused before the rest is read.
  let head: string[][];
  try {
    head = parse(text.slice(0, 64 * 1024), { ...CSV_OPTIONS, to_line: 1 }) as string[][];
  } catch (err) {
    throw new CsvError(`CSV could not be parsed: ${(err as Error).message.slice(0, 200)}`);
  }
  const header = csvHeader(head[0] ?? []);
  const records: string[][] = [];
  const parser = parseStream({ ...CSV_OPTIONS, ...(maxRows < Number.MAX_SAFE_INTEGER ? { to: maxRows + 2 } : {}) });
  const done = new Promise<void>((resolve, reject) => {
    parser.on("readable", () => {
      for (let r = parser.read() as string[] | null; r !== null; r = parser.read() as string[] | null) records.push(r);
    });
    parser.on("end", () => resolve());
    parser.on("close", () => resolve());
    parser.on("error", (err: Error) => reject(new CsvError(`CSV could not be parsed: ${err.message.slice(0, 200)}`)));
  });
  const SLICE = 256 * 1024;
  for (let i = 0; i < text.length && !parser.writableEnded && !parser.destroyed; i += SLICE) {
    parser.write(text.slice(i, i + SLICE));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (!parser.writableEnded && !parser.destroyed) parser.end();
  await done;
  const body = records.slice(1);
  return { kind: header.kind, rows: body.map((cells) => csvRow(header, cells)), lines: body.map((_, i) => i + 2), unknownColumns: header.unknownColumns };
}

function tryJsonObject(text: string | undefined): JsonObject {
  if (!text) return {};
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as JsonObject) : {};
  } catch {
    return { value: text };
  }
}

function groupByChangeId(rows: Record<string, string>[]): Map<string, Record<string, string>[]> {
  const by = new Map<string, Record<string, string>[]>();
  for (const row of rows) {
    const key = row["changeId"] ?? "";
    if (!by.has(key)) by.set(key, []);
    by.get(key)!.push(row);
  }
  return by;
}

/** CSV step rows per change ID, Graph-shaped, in step order. */
export function stepsByChangeId(tables: CsvTable[]): Map<string, JsonObject[]> {
  const out = new Map<string, JsonObject[]>();
  for (const [changeId, rows] of groupByChangeId(tables.flatMap((t) => t.rows))) {
    const sorted = [...rows].sort((a, b) => Number(a["order"] ?? 0) - Number(b["order"] ?? 0));
    out.set(
      changeId,
      sorted.map((s) => ({ name: s["name"] ?? "", provisioningStepType: s["type"] ?? "", status: s["status"] ?? "", description: s["description"] ?? "", details: tryJsonObject(s["details"]) })),
    );
  }
  return out;
}

/** CSV modified-property rows per change ID, Graph-shaped. */
export function modifiedByChangeId(tables: CsvTable[]): Map<string, JsonObject[]> {
  const out = new Map<string, JsonObject[]>();
  for (const [changeId, rows] of groupByChangeId(tables.flatMap((t) => t.rows))) {
    out.set(changeId, rows.map((m) => ({ displayName: m["displayName"] ?? "", oldValue: m["oldValue"] || null, newValue: m["newValue"] || null })));
  }
  return out;
}

/** Joins the three files on the change ID into Graph-shaped records for the normaliser. */
export function joinCsv(events: CsvTable, steps: CsvTable[] = [], modified: CsvTable[] = []): JsonObject[] {
  const stepsBy = stepsByChangeId(steps);
  const modifiedBy = modifiedByChangeId(modified);
  return events.rows.map((r) => csvEventRecord(r, stepsBy, modifiedBy));
}

/** One row of the events file, Graph-shaped, with its steps and properties when known. */
export function csvEventRecord(r: Record<string, string>, stepsBy: Map<string, JsonObject[]>, modifiedBy: Map<string, JsonObject[]>): JsonObject {
  {
    const changeId = r["changeId"] ?? "";
    const upn = r["userPrincipalName"];
    return {
      id: r["id"] ?? "",
      changeId,
      cycleId: r["cycleId"] ?? "",
      jobId: r["jobId"] ?? "",
      tenantId: r["tenantId"] ?? "",
      activityDateTime: r["activityDateTime"] ?? "",
      provisioningAction: r["action"] ?? "",
      durationInMilliseconds: r["duration"] ?? "",
      initiatedBy: { displayName: r["initiatedBy"] ?? "" },
      servicePrincipal: { id: r["servicePrincipalId"] ?? "", displayName: r["servicePrincipalName"] ?? "" },
      sourceSystem: { displayName: r["sourceSystem"] ?? "" },
      targetSystem: { displayName: r["targetSystem"] ?? "" },
      sourceIdentity: {
        id: r["sourceIdentityId"] ?? "",
        displayName: r["sourceIdentityName"] ?? "",
        identityType: r["sourceIdentityType"] ?? "",
        details: (upn ? { UserPrincipalName: upn } : {}) as JsonObject,
      },
      targetIdentity: { id: r["targetIdentityId"] ?? "", displayName: r["targetIdentityName"] ?? "", identityType: r["targetIdentityType"] ?? "" },
      provisioningStatusInfo: {
        status: r["status"] ?? "",
        errorInformation:
          r["errorCode"] || r["reason"]
            ? { errorCode: r["errorCode"] ?? "", reason: r["reason"] ?? "", errorCategory: r["errorCategory"] ?? "", recommendedAction: r["recommendedAction"] ?? null, additionalDetails: r["additionalDetails"] ?? null }
            : null,
      },
      provisioningSteps: stepsBy.get(changeId) ?? [],
      modifiedProperties: modifiedBy.get(changeId) ?? [],
    };
  }
}
