import { DEFAULT_QUESTION_MAX_CHARS, type ListFilters } from "../../core/ask/question";
import type { Audience } from "../../core/privacy";
import { minuteLabel } from "../../core/timeBuckets";
import { type TimeRange } from "../../core/ask/timeRange";
import { choice, info, type Answer, type CardAction, type ListItem } from "../../core/ask/views";
import { remedyFor } from "../../core/remediation";
import type { EventRow, IdentityCandidate, IdentityFilter, JobInfo, QueryStore } from "../queryPorts";
import { isDirectoryName, matchApp, matchIdentity, matchSourceSystem } from "../resolve";
import type { Lexicon } from "../../core/ask/lexicon";
import { plural } from "../../core/text";
import { provisioningPageUrl } from "../../core/portalLinks";
import { type ProvisioningAudit } from "../../core/jobs/audit";
import { initialCycleComplete, initialCycleText, inScopeText, lastCycleText, quarantineText, scheduleText, severity, stateWord, statusVerdictText } from "../../core/jobs/report";
import type { StoredJobStatus } from "../jobHealthPorts";

/**
 * What every kind of answer shares: the dependencies, the job list, app and person resolution,
 * paging, notes, and the job-health facts.
 */

/** What answering needs: the store as the asker may read it, the clock, and who is asking where. */
export interface AnswerDeps {
  store: QueryStore;
  now: () => Date;
  version: string;
  /** Questions longer than this are answered with the limit, not parsed (default 500). */
  maxQuestionChars?: number;
  /** Shared conversations (channels, group chats) see no UPNs, ids, values or raw reasons (src/core/privacy.ts). */
  audience?: Audience;
}

/** The answer to a message too long to be a question, or null when it is within the limit. */
export function tooLong(text: string, max = DEFAULT_QUESTION_MAX_CHARS): Answer | null {
  if (text.length <= max) return null;
  return info(
    "That message is too long for a question",
    `It is ${text.length.toLocaleString("en-US")} characters; provbot reads questions of up to ${max.toLocaleString("en-US")}. Ask about one person, app, change ID or time range at a time, for example "why did alice fail in ServiceNow?" (type help for more).`,
    [],
    [ask("Help", "help")],
  );
}

/** The app names a question may use: service principal names and target systems (not the directory itself). */
export function lexiconOf(jobs: JobInfo[]): Lexicon {
  const apps = [...new Set(jobs.map((j) => j.app || j.targetSystem).filter((n) => n && !isDirectoryName(n)))];
  const aliases: Record<string, string> = {};
  for (const j of jobs) if (j.app && j.targetSystem && j.targetSystem !== j.app && !isDirectoryName(j.targetSystem) && !Object.hasOwn(aliases, j.targetSystem)) aliases[j.targetSystem] = j.app;
  return { apps, aliases };
}

export interface AnswerContext {
  page?: number;
}

export const PAGE = 10;

export const ask = (title: string, text: string): CardAction => ({ title: title.slice(0, 60), data: { text } });

/** "Alice has 2 more failed events in the last 30 days: 1 in Salesforce, 1 in Box." (the apps only when they add something). */
/** The most of a person's failed or skipped events one "why" reads (the newest; the count beyond says "or more"). */
export const WHY_READ = 51;

export function otherFailuresNote(name: string, apps: string[], outcome: "failure" | "skipped" | null, where: string, rangeLabel: string, more = false): string {
  const kind = outcome === "failure" ? "failed" : outcome === "skipped" ? "skipped" : "failed or skipped";
  const byApp = new Map<string, number>();
  for (const a of apps) byApp.set(a, (byApp.get(a) ?? 0) + 1);
  const list = where && byApp.size === 1 ? "" : `: ${[...byApp.entries()].map(([a, n]) => `${n} in ${a}`).join(", ")}`;
  return `${name} has ${plural(apps.length, `more ${kind} event`, `more ${kind} events`)}${more ? " or more" : ""}${where} in the ${rangeLabel}${list}.`;
}

/**
 * The job list (cached briefly by the store), read again when an app the question names is not in
 * the cached copy: an app whose first events were just stored is answerable at once.
 */
export async function jobsFor(deps: AnswerDeps, ...apps: (string | null | undefined)[]): Promise<JobInfo[]> {
  const jobs = await deps.store.jobs();
  if (apps.some((a) => a && matchApp(a, jobs).kind === "none" && matchSourceSystem(a, jobs).length === 0)) return deps.store.jobs(true);
  return jobs;
}

export async function appOrAsk(phrase: string, jobs: JobInfo[]): Promise<{ jobs: JobInfo[]; label: string } | Answer> {
  const m = matchApp(phrase, jobs);
  if (m.kind === "jobs") return { jobs: m.jobs, label: m.label };
  if (m.kind === "directory") return { jobs: jobs.filter((j) => /entra|azure active directory/i.test(j.targetSystem)), label: "Microsoft Entra ID" };
  return info(`No app called "${phrase}"`, `provbot has no provisioning events for an app or system named "${phrase}".`, [], m.near.map((n) => ask(`How is ${n} doing?`, `how is ${n} doing`)));
}

export const isAnswer = (x: unknown): x is Answer => typeof x === "object" && x !== null && "card" in x && "viewModel" in x;

/** How the question itself can settle an ambiguous name: which candidates fit it, in words. */
export interface Fit {
  test: (c: IdentityCandidate) => Promise<boolean>;
  describe: string;
}

export async function whoOrAsk(phrase: string, deps: AnswerDeps, retry: (who: string) => string, fit?: Fit) {
  const m = await matchIdentity(phrase, deps.store);
  if (m.kind === "one") return m.who;
  if (m.kind === "many") {
    let candidates = m.candidates;
    let text = `More than one identity matches "${phrase}". Pick one:`;
    if (fit && candidates.length <= 25) {
      // Two Alices, but only one of them failed in ServiceNow: the question decides.
      const fits = await Promise.all(candidates.map((c) => fit.test(c)));
      const fitting = candidates.filter((_, i) => fits[i]);
      if (fitting.length === 1) return fitting[0]!;
      if (fitting.length > 1) {
        candidates = fitting;
        text = `More than one "${phrase}" ${fit.describe}. Pick one:`;
      }
    }
    return choice(`Which "${phrase}"?`, text, candidates.map((c) => ask(`${c.displayName} (${c.identity})`, retry(c.identity || c.displayName))));
  }
  return info(
    `No one called "${phrase}"`,
    `provbot has no provisioning events for an identity matching "${phrase}" (names, first names, UPNs, nicknames and ids were searched).`,
    [],
    m.near.map((c) => ask(`Did you mean ${c.displayName}?`, retry(c.identity || c.displayName))),
  );
}

/** Newest-first events of a person across all the keys they are indexed under. */
export async function personEvents(store: QueryStore, who: IdentityCandidate, from: string, to: string, limit: number, filter: IdentityFilter = {}): Promise<EventRow[]> {
  const keys = [who.identityKey, ...(who.otherKeys ?? [])];
  const lists = await Promise.all(keys.map((k) => store.identityEvents(k, from, to, limit, filter)));
  return lists.flat().sort((a, b) => b.at.localeCompare(a.at)).slice(0, limit);
}

export async function personState(store: QueryStore, who: IdentityCandidate, jobKey: string, now: string): Promise<EventRow | null> {
  const states = await Promise.all([who.identityKey, ...(who.otherKeys ?? [])].map((k) => store.lastKnownState(k, jobKey, now)));
  return states.filter((s): s is EventRow => s !== null).sort((a, b) => b.at.localeCompare(a.at))[0] ?? null;
}

/** A code on its own line above what to do, in the widest column, so that it wraps whole where it can. */
export function codeAndFix(code: string): string {
  return `${code}\n\n${remedyFor(code, null, null).fix}`;
}

/** The Entra admin center page of the app, when the question is about exactly one. */
export function portalOf(jobs: JobInfo[]): string | null {
  const apps = new Set(jobs.map((j) => `${j.servicePrincipalId ?? ""}|${j.appId ?? ""}`));
  if (apps.size !== 1) return null;
  return provisioningPageUrl(jobs[0]!.servicePrincipalId ?? "", jobs[0]!.appId ?? "");
}

export function jobName(jobKey: string, jobs: JobInfo[]): string {
  return jobs.find((j) => j.jobKey === jobKey)?.app || jobKey;
}

export function rowItem(r: EventRow, jobs: JobInfo[], who?: string): ListItem {
  return { at: r.at, who: who ?? r.identityName ?? r.identity ?? "", app: jobName(r.jobKey, jobs), action: r.action, status: r.status, errorCode: r.errorCode, changeId: r.changeId ?? "", ref: { pk: r.epk, rk: r.erk }, identity: r.identity ?? "", identityType: r.identityType ?? "" };
}

/** "23 events · 11–20 shown, newest first": the total and the exact rows a page shows. */
export function pageLine(total: number, page: number, capped = false): string {
  if (total === 0) return "no events";
  const first = (page - 1) * PAGE + 1;
  const last = Math.min(total, page * PAGE);
  return `${plural(total, "event")}${capped ? "+" : ""} · ${first === last ? `${first}` : `${first}–${last}`} shown, newest first`;
}

export function moreAction(text: string, page: number, total: number): CardAction | null {
  return total > page * PAGE ? { title: "More", data: { text, page: page + 1 } } : null;
}

/** Someone not found in an app whose initial cycle has not completed may simply not have been reached yet. */
export async function notReachedNote(jobs: JobInfo[], label: string, deps: AnswerDeps): Promise<string | null> {
  const pending = (await statusesOf(jobs, deps)).find((x) => x.status.code === "Active" && !initialCycleComplete(x.status));
  return pending ? `${label}'s initial cycle has not completed (${initialCycleText(pending.status)}): the person may simply not have been reached yet.` : null;
}

export function withNote(a: Answer, note: string): Answer {
  const vm = a.viewModel as { text?: string; subtitle?: string };
  // Cards with a subtitle (lists, tables) show it there; the others in their text.
  if (typeof vm.subtitle === "string" && vm.text === undefined) return { ...a, viewModel: { ...vm, subtitle: `${vm.subtitle} · ${note}` }, text: `${a.text} ${note}` } as Answer;
  return { ...a, viewModel: { ...vm, text: `${vm.text ?? ""} ${note}`.trim() }, text: `${a.text} ${note}` } as Answer;
}

export function resolveFilters(filters: ListFilters, jobs: JobInfo[]): { jobs: JobInfo[]; label: string } | Answer {
  let selected = jobs;
  let label = "all apps";
  if (filters.app) {
    const m = matchApp(filters.app, jobs);
    if (m.kind === "none") return info(`No app called "${filters.app}"`, `provbot has no provisioning events for an app or system named "${filters.app}".`, [], m.near.map((n) => ask(n, `failures in ${n}`)));
    selected = m.kind === "directory" ? jobs.filter((j) => /entra|azure active directory/i.test(j.targetSystem)) : m.jobs;
    label = m.kind === "directory" ? "Microsoft Entra ID" : m.label;
  }
  if (filters.sourceSystem) {
    const src = matchSourceSystem(filters.sourceSystem, jobs);
    selected = selected.filter((j) => src.some((s) => s.jobKey === j.jobKey));
    label = `${filters.sourceSystem} → ${label}`;
  }
  return { jobs: selected, label };
}

/** The jobs a question is about: the named app's, or every job ("all apps"); or the answer that the app is unknown. */
export async function appScope(appPhrase: string | null, deps: AnswerDeps): Promise<{ jobs: JobInfo[]; label: string; allJobs: JobInfo[] } | Answer> {
  const jobs = await jobsFor(deps, appPhrase);
  if (!appPhrase) return { jobs, label: "all apps", allJobs: jobs };
  const a = await appOrAsk(appPhrase, jobs);
  return isAnswer(a) ? a : { ...a, allJobs: jobs };
}

export async function scopedCounts(appPhrase: string | null, range: TimeRange, deps: AnswerDeps) {
  const selected = await appScope(appPhrase, deps);
  if (isAnswer(selected)) return selected;
  const counts = await deps.store.counts(selected.jobs.map((j) => j.jobKey), range.from, range.to);
  return { ...selected, counts };
}

export const DAY_MS = 86_400_000;

/** "12 minutes ago", "3.2 hours ago": how fresh a figure is. */
export function ago(iso: string, now: string): string {
  const minutes = Math.max(0, (Date.parse(now) - Date.parse(iso)) / 60_000);
  return minutes < 90 ? `${Math.round(minutes)} min ago` : minutes < 2880 ? `${(minutes / 60).toFixed(1)} hours ago` : `${Math.round(minutes / 1440)} days ago`;
}

export async function statusesOf(jobs: JobInfo[], deps: AnswerDeps): Promise<StoredJobStatus[]> {
  const keys = new Set(jobs.map((j) => j.jobKey));
  return (await deps.store.jobStatuses()).filter((s) => keys.has(s.jobKey));
}

export const NO_STATUS = "provbot has not read any job status yet. It reads it every 5 minutes from Microsoft Graph when Graph polling is configured (PROVBOT_GRAPH_*, with Synchronization.Read.All and Application.Read.All).";

/** The job-status facts of the health card, each saying where it comes from and how fresh it is. */
export function statusFacts(list: StoredJobStatus[], now: string): { title: string; value: string }[] {
  if (list.length === 0) return [];
  const s = [...list].sort((a, b) => severity(a.status) - severity(b.status))[0]!;
  const st = s.status;
  const src = `job status, read ${ago(s.checkedAt, now)}`;
  return [
    { title: `Status · ${src}`, value: `${stateWord(st)}${list.length > 1 ? ` (worst of ${list.length} jobs)` : ""}` },
    ...(quarantineText(st) ? [{ title: "Quarantine · job status", value: quarantineText(st)! }] : []),
    { title: "Objects in scope · job status", value: inScopeText(st) },
    { title: "Last cycle · job status", value: lastCycleText(st) },
    { title: "Initial cycle · job status", value: initialCycleText(st) },
    { title: "Schedule · job status", value: scheduleText(st) },
    ...(st.deleteThreshold !== null ? [{ title: "Accidental-deletion threshold · job status", value: `${st.deleteThreshold.toLocaleString("en-US")} deletes per cycle` }] : []),
  ];
}

/** Configuration changes of the apps' service principals in [from, to), newest first. */
export async function auditsOf(jobs: JobInfo[], from: string, to: string, deps: AnswerDeps, limit = 50): Promise<ProvisioningAudit[]> {
  const sps = [...new Set(jobs.map((j) => j.servicePrincipalId ?? "").filter(Boolean))];
  const lists = await Promise.all(sps.map((sp) => deps.store.audits(sp, from, to, limit)));
  return lists.flat().sort((a, b) => b.at.localeCompare(a.at)).slice(0, limit);
}

export function auditLine(a: ProvisioningAudit): string {
  const what = a.changes.length ? `: ${a.changes.slice(0, 3).map((c) => c.name).join(", ")}${a.changes.length > 3 ? ", …" : ""}` : "";
  return `${minuteLabel(a.at)} UTC · ${a.activity}${a.by ? ` by ${a.by}` : ""}${what}`;
}

/** The verdict when the job status explains more than the logs can (the worst job's, core/jobs/report.ts). */
export function statusVerdict(list: StoredJobStatus[]): string | null {
  const worst = [...list].sort((a, b) => severity(a.status) - severity(b.status))[0];
  return worst ? statusVerdictText(worst.status) : null;
}
