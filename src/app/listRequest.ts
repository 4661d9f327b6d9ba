import { z } from "zod";
import { ACTIONS, STATUSES } from "../core/event";
import type { ExportQuery, JobInfo, QueryStore } from "./queryPorts";
import { matchApp } from "./resolve";
import { normaliseName } from "../core/names";

/**
 * The list filters of the tab and of downloads, from a query string (the portal's filters): a
 * time range, an app by name or service principal object id, job ids, status, actions, identity
 * type, error code and cycle. Checked with zod; the app resolved against the stored jobs.
 */
const DAY_MS = 86_400_000;

const csvOf = (values: readonly string[]) =>
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
  .refine((v) => v === undefined || v === "" || Number.isFinite(Date.parse(v)), "expected an ISO 8601 date and time");
const text = z.string().max(300).optional();

export const listParams = z.object({
  from: instant,
  to: instant,
  /** An app by name or service principal object id. */
  app: text,
  /** Job ids, comma-separated. */
  job: text,
  status: z.enum(STATUSES).optional(),
  action: csvOf(ACTIONS),
  identityType: z.enum(["User", "Group"]).optional(),
  errorCode: text,
  cycleId: text,
  /** The job's source and target systems ("Workday", "Active Directory"), as the portal filters them. */
  sourceSystem: text,
  targetSystem: text,
});

export type ListRequest = { ok: true; query: ExportQuery; jobs: JobInfo[] } | { ok: false; status: 400 | 404; error: string };

export async function listRequest(params: Record<string, string>, store: QueryStore, now: Date, maxDays: number): Promise<ListRequest> {
  const parsed = listParams.safeParse(Object.fromEntries(Object.entries(params).filter(([, v]) => v !== "")));
  if (!parsed.success) return { ok: false, status: 400, error: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") };
  const p = parsed.data;
  const to = p.to ? new Date(Date.parse(p.to)) : now;
  const from = p.from ? new Date(Date.parse(p.from)) : new Date(to.getTime() - 7 * DAY_MS);
  if (from >= to) return { ok: false, status: 400, error: "from must be before to" };
  if (to.getTime() - from.getTime() > maxDays * DAY_MS) return { ok: false, status: 400, error: `at most ${maxDays} days at a time; split the range` };
  // The job list read afresh (one partition read): a list must not miss a job stored a moment ago.
  let jobs: JobInfo[] = await store.jobs(true);
  if (p.app) {
    const m = matchApp(p.app, jobs);
    if (m.kind === "none") return { ok: false, status: 404, error: `no app called "${p.app}"` };
    jobs = m.kind === "jobs" ? m.jobs : jobs.filter((j) => /entra|azure active directory/i.test(j.targetSystem));
  }
  const has = (value: string, phrase: string) => normaliseName(value).includes(normaliseName(phrase));
  if (p.sourceSystem) jobs = jobs.filter((j) => has(j.sourceSystem, p.sourceSystem!));
  if (p.targetSystem) jobs = jobs.filter((j) => has(j.targetSystem, p.targetSystem!) || has(j.app, p.targetSystem!));
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
  return { ok: true, query, jobs };
}
