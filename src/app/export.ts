import { Zip, ZipDeflate } from "fflate";
import { z } from "zod";
import { ACTIONS, STATUSES, type ProvisioningEvent } from "../core/event";
import { CSV_FILES, EVENT_HEADER, eventCsvRow, MODIFIED_HEADER, modifiedCsvRows, STEP_HEADER, stepCsvRows, csvLine, toGraphRecord } from "../core/export";
import type { ExportQuery, JobInfo, QueryStore } from "./queryPorts";
import { matchApp } from "./resolve";

/**
 * Downloads (`GET /api/export`): exactly the events a list shows, as JSON or as the admin center's
 * three CSV files in one zip. Streamed: the store is read page by page and the file is written as
 * it is read, so a download of any size holds one page in memory (the CSV's three files are three
 * passes over the same events, since a zip holds one file after another).
 */
const DAY_MS = 86_400_000;
export const MAX_EXPORT_DAYS = 31;

const list = (values: readonly string[]) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (!v) return undefined;
      const parts = v.split(",").map((x) => x.trim()).filter(Boolean);
      const bad = parts.find((p) => !values.includes(p));
      if (bad) {
        ctx.addIssue({ code: "custom", message: `"${bad.slice(0, 40)}" is not one of ${values.join(", ")}` });
        return z.NEVER;
      }
      return parts;
    });
const instant = z
  .string()
  .optional()
  .refine((v) => v === undefined || Number.isFinite(Date.parse(v)), "expected an ISO 8601 date and time");
const text = z.string().max(300).optional();

export const exportParams = z.object({
  format: z.enum(["json", "csv"]).default("json"),
  from: instant,
  to: instant,
  /** An app by name or service principal object id, as the list filters take it. */
  app: text,
  /** Job ids, comma-separated. */
  job: text,
  status: z.enum(STATUSES).optional(),
  action: list(ACTIONS),
  identityType: z.enum(["User", "Group"]).optional(),
  errorCode: text,
  cycleId: text,
});

export type ExportParams = z.infer<typeof exportParams>;

export type ExportRequest = { ok: true; format: "json" | "csv"; query: ExportQuery; fileName: string } | { ok: false; status: 400 | 404; error: string };

/** The query string of a download, checked, with its app resolved against the stored jobs. */
export async function exportRequest(params: Record<string, string>, store: QueryStore, now: Date): Promise<ExportRequest> {
  const parsed = exportParams.safeParse(params);
  if (!parsed.success) return { ok: false, status: 400, error: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") };
  const p = parsed.data;
  const to = p.to ? new Date(Date.parse(p.to)) : now;
  const from = p.from ? new Date(Date.parse(p.from)) : new Date(to.getTime() - 7 * DAY_MS);
  if (from >= to) return { ok: false, status: 400, error: "from must be before to" };
  if (to.getTime() - from.getTime() > MAX_EXPORT_DAYS * DAY_MS) return { ok: false, status: 400, error: `a download covers at most ${MAX_EXPORT_DAYS} days; split the range` };
  // The job list read afresh (one partition read): a download must not miss a job stored a moment ago.
  let jobs: JobInfo[] = await store.jobs(true);
  if (p.app) {
    const m = matchApp(p.app, jobs);
    if (m.kind === "none") return { ok: false, status: 404, error: `no app called "${p.app}"` };
    jobs = m.kind === "jobs" ? m.jobs : jobs.filter((j) => /entra|azure active directory/i.test(j.targetSystem));
  }
  if (p.job) {
    const wanted = new Set(p.job.split(",").map((j) => j.trim().toLowerCase()));
    jobs = jobs.filter((j) => wanted.has(j.jobId.toLowerCase()) || wanted.has(j.jobKey.toLowerCase()));
  }
  const query: ExportQuery = {
    jobKeys: jobs.map((j) => j.jobKey),
    from: from.toISOString(),
    to: to.toISOString(),
    ...(p.status ? { status: p.status } : {}),
    ...(p.action ? { actions: p.action as ExportQuery["actions"] } : {}),
    ...(p.identityType ? { identityType: p.identityType } : {}),
    ...(p.errorCode ? { errorCode: p.errorCode } : {}),
    ...(p.cycleId ? { cycleId: p.cycleId } : {}),
  };
  const stamp = to.toISOString().slice(0, 16).replace(/[-:]/g, "").replace("T", "-");
  return { ok: true, format: p.format, query, fileName: `provisioning-logs-${stamp}.${p.format === "json" ? "json" : "zip"}` };
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
