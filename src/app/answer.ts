import { DEFAULT_QUESTION_MAX_CHARS, parseQuestion, type ListFilters, type Question } from "../core/ask/question";
import type { Audience } from "../core/privacy";
import { sumCells } from "../core/counts";
import { dayLabel, minuteLabel } from "../core/timeBuckets";
import { rangeText, type TimeRange } from "../core/ask/timeRange";
import { actionWord, participle, choice, eventDetail, eventList, info, listTitle, stats, statusWord, type Answer, type CardAction, type ListItem } from "../core/ask/views";
import { remedyFor, retryText } from "../core/remediation";
import { referenceProblemStep, unresolvedWhat } from "../core/references";
import { helpViewModel } from "../core/help";
import type { EventRow, IdentityCandidate, IdentityFilter, JobInfo, QueryStore } from "./queryPorts";
import { isDirectoryName, matchApp, matchIdentity, matchSourceSystem } from "./resolve";
import type { Lexicon } from "../core/ask/lexicon";
import { plural } from "../core/text";
import { appName } from "../core/event";
import { provisioningPageUrl } from "../core/portalLinks";
import { DEFAULT_THRESHOLDS, usualCycleMinutes } from "../core/alerts/rules";
import { AUDIT_KIND_WORDS, CONFIG_KINDS, type ProvisioningAudit } from "../core/jobs/audit";
import { initialCycleComplete, initialCycleText, inScopeText, lastCycleText, nextReach, quarantineText, scheduleText, severity, stateWord, statusVerdictText } from "../core/jobs/report";
import { intervalMinutes } from "../core/jobs/status";
import type { StoredJobStatus } from "./jobHealthPorts";

/**
 * Answering a question: parse it, resolve the names against stored data, read what answers it
 * (a few key-range reads), and build the card's view-model. Never guesses an identity: several
 * matches become a choice card, none a "not found" with near matches.
 */
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

const PAGE = 10;
const ask = (title: string, text: string): CardAction => ({ title: title.slice(0, 60), data: { text } });

export async function answerQuestion(text: string, deps: AnswerDeps, ctx: AnswerContext = {}): Promise<Answer> {
  const long = tooLong(text, deps.maxQuestionChars);
  if (long) return long;
  const now = deps.now().toISOString();
  // The tenant's app names, so that an app is found anywhere in the sentence (the job list is cached).
  const q = parseQuestion(text, now, lexiconOf(await deps.store.jobs()));
  // Every card says the exact range it covers ("this week" alone hides that it starts on Monday).
  if ("range" in q) q.range = { ...q.range, label: rangeText(q.range, now) };
  return answerParsed(q, text, deps, ctx, now);
}

/** "Alice has 2 more failed events in the last 30 days: 1 in Salesforce, 1 in Box." (the apps only when they add something). */
/** The most of a person's failed or skipped events one "why" reads (the newest; the count beyond says "or more"). */
const WHY_READ = 51;

export function otherFailuresNote(name: string, apps: string[], outcome: "failure" | "skipped" | null, where: string, rangeLabel: string, more = false): string {
  const kind = outcome === "failure" ? "failed" : outcome === "skipped" ? "skipped" : "failed or skipped";
  const byApp = new Map<string, number>();
  for (const a of apps) byApp.set(a, (byApp.get(a) ?? 0) + 1);
  const list = where && byApp.size === 1 ? "" : `: ${[...byApp.entries()].map(([a, n]) => `${n} in ${a}`).join(", ")}`;
  return `${name} has ${plural(apps.length, `more ${kind} event`, `more ${kind} events`)}${more ? " or more" : ""}${where} in the ${rangeLabel}${list}.`;
}

/** "What does X mean?": the catalogue's cause, fix and retry, and where the code was seen this week. */
async function answerExplain(code: string, deps: AnswerDeps, now: string): Promise<Answer> {
  const r = remedyFor(code, null, null);
  const from = new Date(Date.parse(now) - 7 * 86_400_000).toISOString();
  const [jobs, counts] = await Promise.all([deps.store.jobs(), deps.store.counts(null, from, now)]);
  const byApp = new Map<string, number>();
  for (const c of counts) {
    const n = Object.hasOwn(c.errors, code) ? c.errors[code]! : 0;
    const app = jobName(c.jobKey, jobs);
    if (n > 0) byApp.set(app, (byApp.get(app) ?? 0) + n);
  }
  const seen = [...byApp.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const facts = [
    { title: "Cause", value: r.cause },
    { title: "What to do", value: r.fix },
    { title: "Retry", value: retryText(r.retry, null) },
    ...(r.base ? [{ title: "Base code", value: `${r.base} (the app's name is in front of it)` }] : []),
    { title: "Seen in the last 7 days", value: seen.length ? seen.map(([app, n]) => `${plural(n, "failure")} in ${app}`).join(", ") : "not in the stored events" },
  ];
  const known = r.source === "catalogue" || r.source === "pattern";
  return info(`${code}${known ? "" : " (not in the catalogue)"}`, known ? "What this provisioning error means, and what to do about it." : "provbot's catalogue does not have this code; this is the general guidance.", facts, seen.slice(0, 3).map(([app]) => ask(`Failures in ${app}`.slice(0, 60), `failures with ${code} in ${app}`)));
}

/** "How many users were created in Box this week?": the number, and the list one click away. */
async function answerCount(filters: ListFilters, range: TimeRange, text: string, deps: AnswerDeps): Promise<Answer> {
  const jobs = await jobsFor(deps, filters.app, filters.sourceSystem);
  const r = resolveFilters(filters, jobs);
  if (isAnswer(r)) return r;
  const query = { jobKeys: r.jobs.map((j) => j.jobKey), from: range.from, to: range.to, actions: filters.actions, status: filters.status, identityType: filters.identityType, errorCode: filters.errorCode };
  const listQuestion = text.replace(/^\s*(how many|number of|count of|count)\s+/i, "");
  const about = (exact: boolean) => (exact ? "" : "about ");
  if (filters.happened) {
    // "How many users were created?": the ones that were, as the portal's Success filter counts
    // them; what was tried and failed or was skipped (out of scope) is beside it, never in it.
    const count = (status: "success" | "failure" | "skipped") => deps.store.countEvents({ ...query, status });
    const [done, failed, skipped] = await Promise.all([count("success"), count("failure"), count("skipped")]);
    const verb = participle(filters.actions![0]!);
    const plain = listQuestion.replace(/\b(?:were|was|got|have been|has been)\s+/i, "");
    const what = listTitle({ ...filters, status: undefined });
    const breakdown = [`${about(done.exact)}${done.total.toLocaleString("en-US")} ${verb}`, `${about(failed.exact)}${failed.total.toLocaleString("en-US")} failed`, `${about(skipped.exact)}${skipped.total.toLocaleString("en-US")} skipped (out of scope or no change)`].join(" · ");
    return info(
      `${done.exact ? "" : "About "}${done.total.toLocaleString("en-US")}: ${what[0]!.toLowerCase()}${what.slice(1)} · Success`,
      `${r.label} · ${range.label} · ${breakdown}`,
      [],
      [...(done.total > 0 ? [ask("Show them", `successful ${plain}`)] : []), ...(failed.total > 0 ? [ask("Show the failed", `failed ${plain}`)] : [])],
    );
  }
  const { total, exact } = await deps.store.countEvents(query);
  const what = listTitle(filters);
  return info(`${exact ? "" : "About "}${total.toLocaleString("en-US")}: ${what[0]!.toLowerCase()}${what.slice(1)}`, `${r.label} · ${range.label}${exact ? "" : " (from the hourly counts, which keep each hour's top error codes)"}`, [], total > 0 ? [ask("Show them", listQuestion)] : []);
}

/** "What changed for alice in ServiceNow?": the latest update's modified properties, old → new. */
async function answerChanges(identityPhrase: string, appPhrase: string | null, range: TimeRange, deps: AnswerDeps): Promise<Answer> {
  const jobs = await jobsFor(deps, appPhrase);
  let appJobs: JobInfo[] | null = null;
  if (appPhrase) {
    const a = await appOrAsk(appPhrase, jobs);
    if (isAnswer(a)) return a;
    appJobs = a.jobs;
  }
  const who = await whoOrAsk(identityPhrase, deps, (w) => `what changed for ${w}${appPhrase ? ` in ${appPhrase}` : ""}`);
  if (isAnswer(who)) return who;
  const rows = (await personEvents(deps.store, who, range.from, range.to, 200)).filter((r) => (!appJobs || appJobs.some((j) => j.jobKey === r.jobKey)) && (r.action === "update" || r.action === "create") && r.status !== "skipped");
  for (const row of rows.slice(0, 10)) {
    const event = await deps.store.getEvent(row.epk, row.erk);
    if (event && event.modifiedProperties.length > 0) return eventDetail(event, `The latest change to ${who.displayName}${appPhrase ? ` in ${jobName(row.jobKey, jobs)}` : ""}: ${plural(event.modifiedProperties.length, "property", "properties")} (old → new) below.`, deps.audience);
  }
  return info(`No changes to ${who.displayName}`, `No update with modified properties for ${who.displayName}${appPhrase ? ` in ${appPhrase}` : ""} in the ${range.label}.`, [], [ask(`History of ${who.displayName}`, `what happened to ${who.identity || who.displayName}`)]);
}

/**
 * Groups whose members could not be assigned because a reference did not resolve
 * (UnableToResolveReferenceAttributeValue in a step), with the members the step names, per job.
 * Reads the newest events of the window with a reference problem (UNRESOLVED_SCAN) and their steps.
 */
const UNRESOLVED_SCAN = 20;

async function answerUnresolvedMembers(appPhrase: string | null, range: TimeRange, subject: "Group" | "User", deps: AnswerDeps): Promise<Answer> {
  const selected = await appScope(appPhrase, deps);
  if (isAnswer(selected)) return selected;
  // Events whose reference-resolution step did not resolve (indexed at ingest), whatever their overall status.
  const { rows } = await deps.store.listEvents({ jobKeys: selected.jobs.map((j) => j.jobKey), from: range.from, to: range.to, identityType: subject, referenceProblem: true, limit: UNRESOLVED_SCAN, offset: 0 });
  const events = await Promise.all(rows.map((r) => deps.store.getEvent(r.epk, r.erk)));
  const found: string[][] = [];
  const seen = new Set<string>();
  for (const e of events) {
    if (!e) continue;
    const step = referenceProblemStep(e);
    if (!step) continue;
    const key = `${e.jobId}|${e.sourceIdentity.id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    found.push([e.sourceIdentity.displayName || e.targetIdentity.displayName || e.sourceIdentity.id, appName(e), unresolvedWhat(step), statusWord(e.status), minuteLabel(e.activityDateTime)]);
  }
  const groups = subject === "Group";
  const title = groups ? "Groups with members that could not be resolved" : "Users with a reference (manager) that could not be resolved";
  const what = groups ? "their members' references did not resolve (the member is not in scope or not yet provisioned)" : "a reference such as the manager did not resolve (the manager is not in scope or not yet provisioned)";
  return stats(
    `${title} · ${selected.label} · ${range.label}`,
    found.length ? `${plural(found.length, groups ? "group" : "user")}: ${what}` : "",
    [groups ? "Group" : "User", "App", groups ? "Members not assigned" : "Not assigned", "Event status", "Last seen (UTC)"],
    found,
    [{ title: "What to do", value: remedyFor("UnableToResolveReferenceAttributeValue", null, null).fix }],
    groups ? "No group had members whose references could not be resolved in this window." : "No user had a reference (such as the manager) that could not be resolved in this window.",
    appPhrase ? portalOf(selected.jobs) : null,
  );
}

/** A list row clicked whose index has no changeId: the event by where it is stored. */
export async function answerStoredEvent(pk: string, rk: string, deps: AnswerDeps): Promise<Answer> {
  const event = pk && rk ? await deps.store.getEvent(pk, rk) : null;
  if (!event) return info("The event was not found", "It is no longer stored (the retention period has passed), or the card is older than the data.", []);
  return eventDetail(event, "", deps.audience);
}

async function answerParsed(q: Question, text: string, deps: AnswerDeps, ctx: AnswerContext, now: string): Promise<Answer> {
  const answer = await answerKind(q, text, deps, ctx, now);
  // Nothing named is dropped without a word: what the question held that the answer did not use.
  const unused = "unused" in q ? q.unused : undefined;
  return unused?.length ? withNote(answer, `I did not use ${unused.map((w) => `"${w}"`).join(", ")}: ask again naming it as an app ("in …"), a person ("for …") or an error code ("with …") if it matters.`) : answer;
}

async function answerKind(q: Question, text: string, deps: AnswerDeps, ctx: AnswerContext, now: string): Promise<Answer> {
  switch (q.kind) {
    case "help":
      return { card: "help", viewModel: helpViewModel(deps.version), text: "Ask about provisioning events: why did alice fail in ServiceNow? · what happened to bob? · <changeId> · failures in the last 24 hours · top errors this week" };
    case "unknown":
      return { card: "help", viewModel: helpViewModel(deps.version, q.text), text: `I did not understand "${q.text}". Type help for examples.` };
    case "limit":
      return answerRoleImports(q.app, deps, now);
    case "id":
      return answerId(q.id, q.hint, deps, now, ctx.page ?? 1);
    case "why":
      return answerWhy(q, deps, text);
    case "history":
      return answerHistory(q.identity, q.range, q.loose, deps, text, ctx.page ?? 1);
    case "provisioned":
      return answerProvisioned(q.identity, q.app, deps, now);
    case "list":
      return answerList(q.filters, q.range, text, deps, ctx.page ?? 1);
    case "topErrors":
      return answerTopErrors(q.app, q.range, deps);
    case "activity":
      return answerActivity(q.app, q.range, deps);
    case "health":
      return answerHealth(q.app, q.range, deps, now);
    case "explain":
      return answerExplain(q.code, deps, now);
    case "count":
      return answerCount(q.filters, q.range, text, deps);
    case "changes":
      return answerChanges(q.identity, q.app, q.range, deps);
    case "unresolvedMembers":
      return answerUnresolvedMembers(q.app, q.range, q.subject, deps);
    case "jobs":
      return answerJobs(q.filter, deps, now);
    case "when":
      return answerWhen(q.identity, q.app, deps, now);
    case "configChanges":
      return answerConfigChanges(q.app, q.range, deps);
    case "quarantineHistory":
      return answerQuarantineHistory(q.app, deps, now);
  }
}

/**
 * The job list (cached briefly by the store), read again when an app the question names is not in
 * the cached copy: an app whose first events were just stored is answerable at once.
 */
async function jobsFor(deps: AnswerDeps, ...apps: (string | null | undefined)[]): Promise<JobInfo[]> {
  const jobs = await deps.store.jobs();
  if (apps.some((a) => a && matchApp(a, jobs).kind === "none" && matchSourceSystem(a, jobs).length === 0)) return deps.store.jobs(true);
  return jobs;
}

async function appOrAsk(phrase: string, jobs: JobInfo[]): Promise<{ jobs: JobInfo[]; label: string } | Answer> {
  const m = matchApp(phrase, jobs);
  if (m.kind === "jobs") return { jobs: m.jobs, label: m.label };
  if (m.kind === "directory") return { jobs: jobs.filter((j) => /entra|azure active directory/i.test(j.targetSystem)), label: "Microsoft Entra ID" };
  return info(`No app called "${phrase}"`, `provbot has no provisioning events for an app or system named "${phrase}".`, [], m.near.map((n) => ask(`How is ${n} doing?`, `how is ${n} doing`)));
}

const isAnswer = (x: unknown): x is Answer => typeof x === "object" && x !== null && "card" in x && "viewModel" in x;

/** How the question itself can settle an ambiguous name: which candidates fit it, in words. */
interface Fit {
  test: (c: IdentityCandidate) => Promise<boolean>;
  describe: string;
}

async function whoOrAsk(phrase: string, deps: AnswerDeps, retry: (who: string) => string, fit?: Fit) {
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
async function personEvents(store: QueryStore, who: IdentityCandidate, from: string, to: string, limit: number, filter: IdentityFilter = {}): Promise<EventRow[]> {
  const keys = [who.identityKey, ...(who.otherKeys ?? [])];
  const lists = await Promise.all(keys.map((k) => store.identityEvents(k, from, to, limit, filter)));
  return lists.flat().sort((a, b) => b.at.localeCompare(a.at)).slice(0, limit);
}

async function personState(store: QueryStore, who: IdentityCandidate, jobKey: string, now: string): Promise<EventRow | null> {
  const states = await Promise.all([who.identityKey, ...(who.otherKeys ?? [])].map((k) => store.lastKnownState(k, jobKey, now)));
  return states.filter((s): s is EventRow => s !== null).sort((a, b) => b.at.localeCompare(a.at))[0] ?? null;
}

/** A code on its own line above what to do, in the widest column, so that it wraps whole where it can. */
function codeAndFix(code: string): string {
  return `${code}\n\n${remedyFor(code, null, null).fix}`;
}

/** The Entra admin center page of the app, when the question is about exactly one. */
function portalOf(jobs: JobInfo[]): string | null {
  const apps = new Set(jobs.map((j) => `${j.servicePrincipalId ?? ""}|${j.appId ?? ""}`));
  if (apps.size !== 1) return null;
  return provisioningPageUrl(jobs[0]!.servicePrincipalId ?? "", jobs[0]!.appId ?? "");
}

function jobName(jobKey: string, jobs: JobInfo[]): string {
  return jobs.find((j) => j.jobKey === jobKey)?.app || jobKey;
}

function rowItem(r: EventRow, jobs: JobInfo[], who?: string): ListItem {
  return { at: r.at, who: who ?? r.identityName ?? r.identity ?? "", app: jobName(r.jobKey, jobs), action: r.action, status: r.status, errorCode: r.errorCode, changeId: r.changeId ?? "", ref: { pk: r.epk, rk: r.erk }, identity: r.identity ?? "", identityType: r.identityType ?? "" };
}

async function answerWhy(q: Extract<Question, { kind: "why" }>, deps: AnswerDeps, text: string): Promise<Answer> {
  const jobs = await jobsFor(deps, q.app);
  let appJobs: { jobs: JobInfo[]; label: string } | null = null;
  if (q.app) {
    const a = await appOrAsk(q.app, jobs);
    if (isAnswer(a)) {
      // "bob li": two words that were not a name and an app after all.
      if (q.loose) return answerHistory(`${q.identity} ${q.app}`, q.range, true, deps, text);
      return a;
    }
    appJobs = a;
  }
  const retry = (who: string) => `why did ${who} ${q.outcome === "skipped" ? "get skipped" : "fail"}${q.app ? ` in ${q.app}` : ""}`;
  const wanted: ("failure" | "skipped")[] = q.outcome ? [q.outcome] : ["failure", "skipped"];
  // What the card shows, read where it is stored (outcome and app filtered, newest first, at most
  // WHY_READ rows): the cost does not grow with a person's history of skipped or successful events.
  const narrow: IdentityFilter = { statuses: wanted, ...(appJobs ? { jobKeys: appJobs.jobs.map((j) => j.jobKey) } : {}) };
  const eventsOf = new Map<string, Promise<EventRow[]>>();
  const hitsOf = (c: IdentityCandidate) => {
    if (!eventsOf.has(c.identityKey)) eventsOf.set(c.identityKey, personEvents(deps.store, c, q.range.from, q.range.to, WHY_READ, narrow));
    return eventsOf.get(c.identityKey)!;
  };
  const who = await whoOrAsk(q.identity, deps, retry, {
    test: async (c) => (await hitsOf(c)).length > 0,
    describe: `has ${q.outcome ?? "failed or skipped"} events${q.app ? ` in ${q.app}` : ""}`,
  });
  if (isAnswer(who)) return who;
  const hits = await hitsOf(who);
  const latestInApp = hits[0] || q.outcome !== null ? undefined : (await personEvents(deps.store, who, q.range.from, q.range.to, 1, appJobs ? { jobKeys: appJobs.jobs.map((j) => j.jobKey) } : {}))[0];
  const pick = hits[0] ?? latestInApp;
  const where = appJobs ? ` in ${appJobs.label}` : "";
  if (!pick) {
    const rows = await personEvents(deps.store, who, q.range.from, q.range.to, WHY_READ);
    const inApp = appJobs ? rows.filter((r) => appJobs!.jobs.some((j) => j.jobKey === r.jobKey)) : rows;
    const elsewhere = new Map<string, number>();
    for (const r of rows) elsewhere.set(jobName(r.jobKey, jobs), (elsewhere.get(jobName(r.jobKey, jobs)) ?? 0) + 1);
    const others = [...elsewhere.entries()].map(([app, n]) => `${n} in ${app}`).join(", ");
    const lastInApp = inApp[0];
    return info(
      `No ${q.outcome === "skipped" ? "skips" : q.outcome === "failure" ? "failures" : "events"} for ${who.displayName}${where}`,
      `No ${q.outcome ?? "failed or skipped"} events for ${who.displayName} (${who.identity})${where} in the ${q.range.label}.` +
        (lastInApp ? ` The latest event there: ${actionWord(lastInApp.action)} · ${statusWord(lastInApp.status)} at ${minuteLabel(lastInApp.at)} UTC.` : "") +
        (others ? ` ${who.displayName} has events ${others}.` : ""),
      [],
      [ask(`History of ${who.displayName}`, `what happened to ${who.identity}`)],
    );
  }
  const event = await deps.store.getEvent(pick.epk, pick.erk);
  if (!event) return info("The event was not found", "The index points at an event that is no longer stored (retention).", []);
  const otherFailures = hits.slice(1);
  const note = otherFailures.length
    ? otherFailuresNote(who.displayName, otherFailures.map((r) => jobName(r.jobKey, jobs)), q.outcome, where, q.range.label, hits.length >= WHY_READ)
    : "";
  return eventDetail(event, note, deps.audience);
}

/** "23 events · 11–20 shown, newest first": the total and the exact rows a page shows. */
export function pageLine(total: number, page: number, capped = false): string {
  if (total === 0) return "no events";
  const first = (page - 1) * PAGE + 1;
  const last = Math.min(total, page * PAGE);
  return `${plural(total, "event")}${capped ? "+" : ""} · ${first === last ? `${first}` : `${first}–${last}`} shown, newest first`;
}

function moreAction(text: string, page: number, total: number): CardAction | null {
  return total > page * PAGE ? { title: "More", data: { text, page: page + 1 } } : null;
}

async function answerHistory(phrase: string, range: TimeRange, loose: boolean, deps: AnswerDeps, text = phrase, page = 1): Promise<Answer> {
  const who = await whoOrAsk(phrase, deps, (w) => `what happened to ${w}`);
  if (isAnswer(who)) {
    // A loose reading ("two words") that names no one was probably not a question about a person.
    if (loose && who.card === "info" && (who.viewModel as { actions: unknown[] }).actions.length === 0) {
      return { card: "help", viewModel: helpViewModel(deps.version, text), text: `I did not understand "${text}". Type help for examples.` };
    }
    return who;
  }
  const jobs = await deps.store.jobs();
  const rows = await personEvents(deps.store, who, range.from, range.to, 200);
  const perApp = new Map<string, { n: number; failures: number; last: EventRow }>();
  for (const r of rows) {
    const app = jobName(r.jobKey, jobs);
    const s = perApp.get(app) ?? { n: 0, failures: 0, last: r };
    s.n++;
    if (r.status === "failure") s.failures++;
    perApp.set(app, s);
  }
  const subtitle = [...perApp.entries()].map(([app, s]) => `${app}: ${actionWord(s.last.action).toLowerCase()} ${statusWord(s.last.status).toLowerCase()}${s.failures ? ` (${plural(s.failures, "failure")})` : ""}`).join(" · ");
  const capped = rows.length === 200;
  return eventList(
    `${who.displayName} (${who.identity}) · ${range.label}`,
    [pageLine(rows.length, page, capped), subtitle].filter(Boolean).join(" · "),
    rows.slice((page - 1) * PAGE, page * PAGE).map((r) => rowItem(r, jobs, who.displayName)),
    moreAction(`what happened to ${who.identity || who.displayName}`, page, rows.length),
    `No provisioning events for ${who.displayName} in the ${range.label}.`,
  );
}

async function answerProvisioned(identityPhrase: string, appPhrase: string, deps: AnswerDeps, now: string): Promise<Answer> {
  const jobs = await jobsFor(deps, appPhrase);
  const a = await appOrAsk(appPhrase, jobs);
  if (isAnswer(a)) return a;
  // Several Bobs, but only one ever reached Box: the question decides. States are read once.
  const statesOf = new Map<string, Promise<EventRow[]>>();
  const knownStates = (c: IdentityCandidate) => {
    if (!statesOf.has(c.identityKey)) {
      statesOf.set(c.identityKey, Promise.all(a.jobs.map((j) => personState(deps.store, c, j.jobKey, now))).then((l) => l.filter((s): s is EventRow => s !== null)));
    }
    return statesOf.get(c.identityKey)!;
  };
  const who = await whoOrAsk(identityPhrase, deps, (w) => `is ${w} provisioned in ${appPhrase}`, {
    test: async (c) => (await knownStates(c)).length > 0,
    describe: `has events in ${a.label}`,
  });
  const notReached = await notReachedNote(a.jobs, a.label, deps);
  if (isAnswer(who)) return notReached && who.card === "info" ? withNote(who, notReached) : who;
  const states = await knownStates(who);
  const state = [...states].sort((x, y) => y.at.localeCompare(x.at))[0];
  if (!state) {
    return info(`No: ${who.displayName} has never been provisioned to ${a.label}`, `provbot has no provisioning event for ${who.displayName} (${who.identity}) in ${a.label}. ${notReached ?? "If they should be there, check their assignment to the app and the scoping filters."}`, [], [ask(`History of ${who.displayName}`, `what happened to ${who.identity}`), ask(`When will ${who.displayName} be provisioned?`, `when will ${who.identity || who.displayName} be provisioned in ${appPhrase}`)]);
  }
  const at = `${minuteLabel(state.at)} UTC`;
  let verdict: string;
  if (state.status === "success" && (state.action === "delete")) verdict = `No: ${who.displayName} was deleted from ${a.label} on ${at}.`;
  else if (state.status === "success" && state.action === "disable") verdict = `Disabled: ${who.displayName} was disabled in ${a.label} on ${at}.`;
  else if (state.status === "success") verdict = `Yes: ${who.displayName} is provisioned in ${a.label} (last ${actionWord(state.action).toLowerCase()} succeeded on ${at}${state.targetId ? `, target id ${state.targetId}` : ""}).`;
  else if (state.status === "failure") verdict = `Not reliably: the last attempt for ${who.displayName} in ${a.label} failed on ${at} (${state.errorCode || "no code"}).`;
  else if (state.action === "other") verdict = `Yes: ${who.displayName} is provisioned in ${a.label} and in sync (last checked on ${at}: nothing needed changing).`;
  else if (state.action === "create") verdict = `No: ${who.displayName} is not in scope for ${a.label} (last evaluated on ${at} and skipped). Assign them to the app or adjust the scoping filter if they should be there.`;
  else if (state.action === "stagedDelete") verdict = `Pending deletion: the deletion of ${who.displayName} in ${a.label} was held back by the accidental-deletion threshold on ${at}.`;
  else verdict = `Probably not changed: the last event for ${who.displayName} in ${a.label} was skipped on ${at} (out of scope or already in sync).`;
  return info(`Is ${who.displayName} provisioned in ${a.label}?`, verdict, [
    { title: "Last event", value: `${actionWord(state.action)} · ${statusWord(state.status)} · ${at}` },
    { title: "Identity", value: who.identity },
  ], [ask("Show that event", `why did ${who.identity} ${state.status === "failure" ? "fail" : "get skipped"} in ${appPhrase}`), ask(`History of ${who.displayName}`, `what happened to ${who.identity}`)]);
}

/** Someone not found in an app whose initial cycle has not completed may simply not have been reached yet. */
async function notReachedNote(jobs: JobInfo[], label: string, deps: AnswerDeps): Promise<string | null> {
  const pending = (await statusesOf(jobs, deps)).find((x) => x.status.code === "Active" && !initialCycleComplete(x.status));
  return pending ? `${label}'s initial cycle has not completed (${initialCycleText(pending.status)}): the person may simply not have been reached yet.` : null;
}

function withNote(a: Answer, note: string): Answer {
  const vm = a.viewModel as { text?: string; subtitle?: string };
  // Cards with a subtitle (lists, tables) show it there; the others in their text.
  if (typeof vm.subtitle === "string" && vm.text === undefined) return { ...a, viewModel: { ...vm, subtitle: `${vm.subtitle} · ${note}` }, text: `${a.text} ${note}` } as Answer;
  return { ...a, viewModel: { ...vm, text: `${vm.text ?? ""} ${note}`.trim() }, text: `${a.text} ${note}` } as Answer;
}

/** A cycle's events read for its card (its pages); a larger cycle says so ("500+"). */
const CYCLE_LIMIT = 500;

async function answerId(id: string, hint: "change" | "cycle" | "job" | null, deps: AnswerDeps, now: string, page = 1): Promise<Answer> {
  const jobs = await deps.store.jobs();
  if (hint === "job") {
    const job = jobs.find((j) => j.jobId.toLowerCase() === id.toLowerCase() || j.jobKey.toLowerCase() === id.toLowerCase());
    if (job) return answerHealth(job.app, { from: new Date(Date.parse(now) - 7 * 86_400_000).toISOString(), to: now, label: "last 7 days" }, deps, now, job);
    return info(`No job ${id}`, "provbot has no provisioning events for that job id.");
  }
  if (hint !== "cycle") {
    // Change IDs are GUIDs in practice: a pasted one may have changed case on the way.
    let events = await deps.store.getByChangeId(id);
    if (events.length === 0 && id !== id.toLowerCase()) events = await deps.store.getByChangeId(id.toLowerCase());
    if (events[0]) return eventDetail(events[0], events.length > 1 ? `${events.length} events carry this change ID; this is the first.` : "", deps.audience);
  }
  if (hint !== "change") {
    const cycle = await deps.store.cycle(id);
    if (cycle) {
      const rows = await deps.store.cycleEvents(cycle.jobKey, id, cycle.at, CYCLE_LIMIT);
      const failures = rows.filter((r) => r.status === "failure").length;
      const capped = rows.length === CYCLE_LIMIT;
      return eventList(
        `Cycle ${id} in ${jobName(cycle.jobKey, jobs)}`,
        `${pageLine(rows.length, page, capped)} · ${plural(failures, "failure")}`,
        rows.slice((page - 1) * PAGE, page * PAGE).map((r) => rowItem(r, jobs)),
        moreAction(`cycle ${id}`, page, rows.length),
        "No events stored for this cycle.",
      );
    }
  }
  if (hint === null) {
    const who = await deps.store.findIdentities(id);
    if (who.length === 1) return answerHistory(id, { from: new Date(Date.parse(now) - 30 * 86_400_000).toISOString(), to: now, label: "last 30 days" }, false, deps);
  }
  return info(`Nothing found for ${id}`, `No change, cycle${hint === null ? ", job or object" : ""} with this id is stored (provbot keeps events for the retention period). Check the id, or ask about the identity or app instead.`);
}

function resolveFilters(filters: ListFilters, jobs: JobInfo[]): { jobs: JobInfo[]; label: string } | Answer {
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

async function answerList(filters: ListFilters, range: TimeRange, text: string, deps: AnswerDeps, page: number): Promise<Answer> {
  const jobs = await jobsFor(deps, filters.app, filters.sourceSystem);
  const r = resolveFilters(filters, jobs);
  if (isAnswer(r)) return r;
  const title = `${listTitle(filters)} · ${r.label} · ${range.label}`;
  if (filters.identity) {
    const who = await whoOrAsk(filters.identity, deps, (w) => `${text} for ${w}`);
    if (isAnswer(who)) return who;
    const rows = (await personEvents(deps.store, who, range.from, range.to, 500)).filter(
      (row) =>
        r.jobs.some((j) => j.jobKey === row.jobKey) &&
        (!filters.status || row.status === filters.status) &&
        (!filters.actions || filters.actions.includes(row.action)) &&
        (!filters.errorCode || row.errorCode === filters.errorCode),
    );
    const pageRows = rows.slice((page - 1) * PAGE, page * PAGE);
    return eventList(`${title} · ${who.displayName}`, pageLine(rows.length, page), pageRows.map((x) => rowItem(x, jobs, who.displayName)), moreAction(text, page, rows.length), "No matching events.");
  }
  const { rows, more, total, exact } = await deps.store.listEvents({ jobKeys: r.jobs.map((j) => j.jobKey), from: range.from, to: range.to, actions: filters.actions, status: filters.status, identityType: filters.identityType, errorCode: filters.errorCode, limit: PAGE, offset: (page - 1) * PAGE });
  const line = `${exact ? "" : "about "}${pageLine(total, page)}`;
  return eventList(title, line, rows.map((x) => rowItem(x, jobs)), more ? { title: "More", data: { text, page: page + 1 } } : null, "No matching events in this window.", [], filters.app ? portalOf(r.jobs) : null);
}

/** The jobs a question is about: the named app's, or every job ("all apps"); or the answer that the app is unknown. */
async function appScope(appPhrase: string | null, deps: AnswerDeps): Promise<{ jobs: JobInfo[]; label: string; allJobs: JobInfo[] } | Answer> {
  const jobs = await jobsFor(deps, appPhrase);
  if (!appPhrase) return { jobs, label: "all apps", allJobs: jobs };
  const a = await appOrAsk(appPhrase, jobs);
  return isAnswer(a) ? a : { ...a, allJobs: jobs };
}

async function scopedCounts(appPhrase: string | null, range: TimeRange, deps: AnswerDeps) {
  const selected = await appScope(appPhrase, deps);
  if (isAnswer(selected)) return selected;
  const counts = await deps.store.counts(selected.jobs.map((j) => j.jobKey), range.from, range.to);
  return { ...selected, counts };
}

async function answerTopErrors(appPhrase: string | null, range: TimeRange, deps: AnswerDeps): Promise<Answer> {
  const s = await scopedCounts(appPhrase, range, deps);
  if (isAnswer(s)) return s;
  const totals = new Map<string, { n: number; apps: Set<string> }>();
  for (const c of s.counts) {
    for (const [code, n] of Object.entries(c.errors)) {
      const t = totals.get(code) ?? { n: 0, apps: new Set<string>() };
      t.n += n;
      t.apps.add(jobName(c.jobKey, s.allJobs));
      totals.set(code, t);
    }
  }
  const top = [...totals.entries()].sort((a, b) => b[1].n - a[1].n || a[0].localeCompare(b[0])).slice(0, 10);
  const failures = sumCells(s.counts, (cell) => cell.status === "failure");
  return stats(
    `Top errors · ${s.label} · ${range.label}`,
    `${failures} failures in ${s.counts.reduce((n, c) => n + c.total, 0)} events`,
    ["Count", "Error code · what to do", "Apps"],
    top.map(([code, t]) => [String(t.n), codeAndFix(code), [...t.apps].join(", ")]),
    [],
    "No failures in this window.",
  );
}

async function answerActivity(appPhrase: string | null, range: TimeRange, deps: AnswerDeps): Promise<Answer> {
  const s = await scopedCounts(appPhrase, range, deps);
  if (isAnswer(s)) return s;
  const actions = ["create", "update", "disable", "delete", "stagedDelete", "other"];
  const days = new Map<string, Record<string, number>>();
  for (const c of s.counts) {
    const day = dayLabel(c.hour);
    const d = days.get(day) ?? {};
    for (const cell of c.cells) {
      d[cell.action] = (d[cell.action] ?? 0) + cell.n;
      if (cell.status === "failure") d["failures"] = (d["failures"] ?? 0) + cell.n;
    }
    days.set(day, d);
  }
  const rows = [...days.entries()].sort((a, b) => b[0].localeCompare(a[0])).map(([day, d]) => [day, ...actions.map((a) => String(d[a] ?? 0)), String(d["failures"] ?? 0)]);
  return stats(`Activity by action per day · ${s.label} · ${range.label}`, "Counts of events per action (all outcomes), and failures", ["Day", "Create", "Update", "Disable", "Delete", "Staged", "Other", "Failures"], rows);
}

async function answerHealth(appPhrase: string, range: TimeRange, deps: AnswerDeps, now: string, only?: JobInfo): Promise<Answer> {
  const s = only ? { jobs: [only], label: only.app, counts: await deps.store.counts([only.jobKey], range.from, range.to), allJobs: [only] } : await scopedCounts(appPhrase, range, deps);
  if (isAnswer(s)) return s;
  let total = 0;
  let failures = 0;
  let skipped = 0;
  const errors = new Map<string, number>();
  for (const c of s.counts) {
    total += c.total;
    for (const cell of c.cells) {
      if (cell.status === "failure") failures += cell.n;
      if (cell.status === "skipped") skipped += cell.n;
    }
    for (const [code, n] of Object.entries(c.errors)) errors.set(code, (errors.get(code) ?? 0) + n);
  }
  const statuses = await statusesOf(s.jobs, deps);
  const changes = (await auditsOf(s.jobs, new Date(Date.parse(now) - DAY_MS).toISOString(), now, deps, 10)).filter((a) => CONFIG_KINDS.has(a.kind));
  const lastAt = s.jobs.map((j) => j.lastAt).sort().at(-1) ?? "";
  const quietHours = lastAt ? (Date.parse(now) - Date.parse(lastAt)) / 3_600_000 : Infinity;
  // The same interval and silence rule as the silent-job alert, so both cards tell one story.
  const newestJob = [...s.jobs].sort((a, b) => b.lastAt.localeCompare(a.lastAt))[0];
  const scheduled = statuses.map((x) => intervalMinutes(x.status.interval)).find((m): m is number => m !== null);
  const interval = scheduled ?? usualCycleMinutes(newestJob?.cycleStarts ?? []);
  const silentAfterHours = (DEFAULT_THRESHOLDS.silentCycles * Math.max(20, interval)) / 60;
  const pct = (n: number) => (total ? `${((n / total) * 100).toFixed(1)} %` : "—");
  const top = [...errors.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 3);
  const verdict =
    statusVerdict(statuses) ??
    (quietHours >= silentAfterHours
      ? `Quiet: ${Number.isFinite(quietHours) ? `no events since ${minuteLabel(lastAt)} UTC (${quietHours.toFixed(1)} hours)` : "no events in the whole window"}; cycles ${scheduled ? "are scheduled" : "usually run"} every ${Math.round(interval)} minutes. ${statuses.length ? "The job status says it is running: the cycles find nothing to do, or the logs are late." : "Check the job's status (quarantine, credentials)."}`
      : failures / Math.max(total, 1) > 0.1
        ? `Unhealthy: ${pct(failures)} of events failed.`
        : "Healthy: events are flowing and few fail.");
  return stats(
    `How is ${s.label} doing? · ${range.label}`,
    verdict,
    ["Count", "Top error · what to do"],
    top.map(([code, n]) => [String(n), codeAndFix(code)]),
    [
      ...statusFacts(statuses, now),
      ...(statuses.length === 0 ? [{ title: "Job status", value: "not read yet (provbot reads it from Microsoft Graph every 5 minutes when Graph polling is configured)" }] : []),
      ...(changes.length ? [{ title: "Configuration changes, last 24 h · audit log", value: changes.slice(0, 5).map(auditLine).join("\n") }] : []),
      { title: "Last event · logs", value: lastAt ? `${minuteLabel(lastAt)} UTC (${ago(lastAt, now)})` : "never" },
      { title: "Events · logs", value: String(total) },
      { title: "Failure rate · logs", value: pct(failures) },
      { title: "Skipped share · logs", value: `${pct(skipped)} (out-of-scope and already-in-sync objects; expected)` },
      { title: "Jobs", value: s.jobs.map((j) => `${j.jobId || j.jobKey}`).join(", ").slice(0, 300) },
    ],
    "No failures in this window.",
    portalOf(s.jobs),
  );
}


// ---- Job health: the provisioning summary report and the audit trail ---------------------------

const DAY_MS = 86_400_000;

/** "12 minutes ago", "3.2 hours ago": how fresh a figure is. */
function ago(iso: string, now: string): string {
  const minutes = Math.max(0, (Date.parse(now) - Date.parse(iso)) / 60_000);
  return minutes < 90 ? `${Math.round(minutes)} min ago` : minutes < 2880 ? `${(minutes / 60).toFixed(1)} hours ago` : `${Math.round(minutes / 1440)} days ago`;
}

async function statusesOf(jobs: JobInfo[], deps: AnswerDeps): Promise<StoredJobStatus[]> {
  const keys = new Set(jobs.map((j) => j.jobKey));
  return (await deps.store.jobStatuses()).filter((s) => keys.has(s.jobKey));
}

const NO_STATUS = "provbot has not read any job status yet. It reads it every 5 minutes from Microsoft Graph when Graph polling is configured (PROVBOT_GRAPH_*, with Synchronization.Read.All and Application.Read.All).";

/** "status of all apps", "which jobs are quarantined?", "what is paused?": one row per job, worst first. */
async function answerJobs(filter: "all" | "quarantined" | "paused", deps: AnswerDeps, now: string): Promise<Answer> {
  const all = await deps.store.jobStatuses();
  if (all.length === 0) return info("No job status yet", NO_STATUS, [], [ask("Activity by day", "activity by day")]);
  const wanted = all.filter((s) => filter === "all" || (filter === "quarantined" ? s.status.code === "Quarantine" : s.status.code === "Paused" || s.status.scheduleState === "Disabled"));
  const sorted = [...wanted].sort((a, b) => severity(a.status) - severity(b.status) || a.appName.localeCompare(b.appName));
  const checked = all.map((s) => s.checkedAt).sort().at(-1) ?? now;
  const rows = sorted.slice(0, 25).map((s) => [s.appName || s.jobId, stateWord(s.status), s.status.lastExecution?.ended ? `${minuteLabel(s.status.lastExecution.ended)} UTC · ${s.status.lastExecution.state}` : "—", inScopeText(s.status), quarantineText(s.status) ?? (initialCycleComplete(s.status) ? scheduleText(s.status) : initialCycleText(s.status))]);
  const title = filter === "all" ? "Provisioning jobs" : filter === "quarantined" ? "Jobs in quarantine" : "Paused jobs";
  return stats(
    `${title} · ${plural(wanted.length, "job")}`,
    `From the job status (the provisioning summary report), read ${ago(checked, now)}; worst first${sorted.length > 25 ? " · the first 25" : ""}.`,
    ["App", "Status", "Last cycle", "In scope", "Details · what to do"],
    rows,
    [],
    filter === "quarantined" ? "No job is in quarantine." : filter === "paused" ? "No job is paused." : "No jobs.",
  );
}

/** The job-status facts of the health card, each saying where it comes from and how fresh it is. */
function statusFacts(list: StoredJobStatus[], now: string): { title: string; value: string }[] {
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
async function auditsOf(jobs: JobInfo[], from: string, to: string, deps: AnswerDeps, limit = 50): Promise<ProvisioningAudit[]> {
  const sps = [...new Set(jobs.map((j) => j.servicePrincipalId ?? "").filter(Boolean))];
  const lists = await Promise.all(sps.map((sp) => deps.store.audits(sp, from, to, limit)));
  return lists.flat().sort((a, b) => b.at.localeCompare(a.at)).slice(0, limit);
}

function auditLine(a: ProvisioningAudit): string {
  const what = a.changes.length ? `: ${a.changes.slice(0, 3).map((c) => c.name).join(", ")}${a.changes.length > 3 ? ", …" : ""}` : "";
  return `${minuteLabel(a.at)} UTC · ${a.activity}${a.by ? ` by ${a.by}` : ""}${what}`;
}

/** The verdict when the job status explains more than the logs can (the worst job's, core/jobs/report.ts). */
function statusVerdict(list: StoredJobStatus[]): string | null {
  const worst = [...list].sort((a, b) => severity(a.status) - severity(b.status))[0];
  return worst ? statusVerdictText(worst.status) : null;
}

async function answerWhen(identityPhrase: string, appPhrase: string, deps: AnswerDeps, now: string): Promise<Answer> {
  const jobs = await jobsFor(deps, appPhrase);
  const a = await appOrAsk(appPhrase, jobs);
  if (isAnswer(a)) return a;
  const statuses = await statusesOf(a.jobs, deps);
  const status = [...statuses].sort((x, y) => severity(x.status) - severity(y.status))[0];
  const m = await matchIdentity(identityPhrase, deps.store);
  const who = m.kind === "one" ? m.who : null;
  if (m.kind === "many") return whoOrAsk(identityPhrase, deps, (w) => `when will ${w} be provisioned in ${appPhrase}`) as Promise<Answer>;
  const state = who ? (await Promise.all(a.jobs.map((j) => personState(deps.store, who, j.jobKey, now)))).filter((x): x is EventRow => x !== null).sort((x, y) => y.at.localeCompare(x.at))[0] : undefined;
  const name = who?.displayName ?? identityPhrase;
  const facts: { title: string; value: string }[] = [];
  if (state) facts.push({ title: "Last event · logs", value: `${actionWord(state.action)} · ${statusWord(state.status)} · ${minuteLabel(state.at)} UTC${state.errorCode ? ` · ${state.errorCode}` : ""}` });
  if (status) facts.push(...statusFacts([status], now).filter((f) => /^(Status|Initial cycle|Schedule|Last cycle)/.test(f.title)));
  if (state && state.status === "success" && (state.action === "create" || state.action === "update" || state.action === "other")) {
    return info(`${name} is already provisioned in ${a.label}`, `The last ${actionWord(state.action).toLowerCase()} succeeded on ${minuteLabel(state.at)} UTC.`, facts, [ask(`History of ${name}`, `what happened to ${who?.identity || name}`)]);
  }
  if (!status) {
    return info(`When will ${name} be provisioned in ${a.label}?`, `provbot has no job status for ${a.label} yet, so it cannot read the schedule. Cycles usually run every 20 to 40 minutes.${state ? "" : ` provbot has no event for ${name} there${who ? "" : " (nor anyone of that name)"}: check the assignment to the app and the scoping filters.`}`, facts);
  }
  const eta = nextReach(status.status, now);
  const failing = state?.status === "failure" ? ` The last attempt failed (${state.errorCode || "no code"}): fix that first, or the next cycle fails the same way.` : "";
  const scope = state?.status === "skipped" && state.action === "create" ? ` The last evaluation skipped ${name} as out of scope: assign them to the app or adjust the scoping filter, or no cycle will provision them.` : "";
  const notReached = !state && !initialCycleComplete(status.status) ? ` provbot has no event for ${name} there yet: the initial cycle may simply not have reached them.` : !state ? ` provbot has no event for ${name} there: if they are assigned and in scope, the next cycle should reach them.` : "";
  const text = eta.earliest
    ? `Expected ${eta.latest && eta.latest !== eta.earliest ? `between ${minuteLabel(eta.earliest)} and ${minuteLabel(eta.latest)} UTC` : `around ${minuteLabel(eta.earliest)} UTC`}: ${eta.reason}.`
    : `Not soon: ${eta.reason}.`;
  return info(`When will ${name} be provisioned in ${a.label}?`, `${text}${notReached}${failing}${scope}`, facts, [ask(`How is ${a.label} doing?`, `how is ${appPhrase} doing`)]);
}

async function answerConfigChanges(appPhrase: string, range: TimeRange, deps: AnswerDeps): Promise<Answer> {
  const jobs = await jobsFor(deps, appPhrase);
  const a = await appOrAsk(appPhrase, jobs);
  if (isAnswer(a)) return a;
  const audits = await auditsOf(a.jobs, range.from, range.to, deps);
  return stats(
    `Provisioning configuration changes · ${a.label} · ${range.label}`,
    "From the Microsoft Entra audit log (service Account Provisioning): who changed what, newest first.",
    ["When (UTC)", "Change", "By", "What"],
    audits.slice(0, 20).map((x) => [minuteLabel(x.at), `${x.activity}${x.result && x.result !== "success" ? ` (${x.result})` : ""}`, x.by || "the provisioning service", x.changes.length ? x.changes.slice(0, 4).map((c) => `${c.name}${c.old || c.new ? `: ${c.old.slice(0, 60)} → ${c.new.slice(0, 60)}` : ""}`).join("\n") : AUDIT_KIND_WORDS[x.kind]]),
    [],
    `No provisioning audit records for ${a.label} in this window (provbot reads the audit log every 5 minutes when Graph polling is configured, with AuditLog.Read.All).`,
    portalOf(a.jobs),
  );
}

async function answerQuarantineHistory(appPhrase: string, deps: AnswerDeps, now: string): Promise<Answer> {
  const jobs = await jobsFor(deps, appPhrase);
  const a = await appOrAsk(appPhrase, jobs);
  if (isAnswer(a)) return a;
  const histories = await Promise.all(a.jobs.map((j) => deps.store.statusHistory(j.jobKey, 200)));
  const rows: string[][] = [];
  for (const h of histories.flat()) {
    const t = h.transitions.filter((x) => x === "quarantined" || x === "reasonChanged" || x === "released");
    if (t.length) rows.push([h.at, t.map((x) => (x === "quarantined" ? "Quarantined" : x === "released" ? "Released" : "Reason changed")).join(", "), h.reason || "—"]);
  }
  const audits = (await auditsOf(a.jobs, new Date(Date.parse(now) - 90 * DAY_MS).toISOString(), now, deps, 100)).filter((x) => x.kind === "quarantine");
  for (const x of audits) rows.push([x.at, `${x.activity} (audit log)`, x.resultReason || x.details.map((d) => `${d.key}: ${d.value}`).join("; ").slice(0, 200) || "—"]);
  rows.sort((x, y) => y[0]!.localeCompare(x[0]!));
  const current = (await statusesOf(a.jobs, deps)).find((s) => s.status.code === "Quarantine");
  return stats(
    `Quarantine history · ${a.label}`,
    current ? `In quarantine now: ${quarantineText(current.status)}` : "Not in quarantine now (as of the last job-status read).",
    ["When (UTC)", "Change", "Reason"],
    rows.slice(0, 20).map((r) => [minuteLabel(r[0]!), r[1]!, r[2]!]),
    [],
    "No quarantine recorded: neither in the job-status history provbot keeps nor in the audit log of the last 90 days.",
    portalOf(a.jobs),
  );
}

/** "How were roles imported from AWS?": the import records of the audit log, when it holds them. */
async function answerRoleImports(appPhrase: string | null, deps: AnswerDeps, now: string): Promise<Answer> {
  const from = new Date(Date.parse(now) - 30 * DAY_MS).toISOString();
  const scope = await appScope(appPhrase, deps);
  // An app provbot has no events for may still have audit records: say plainly what is known.
  const selected = isAnswer(scope) ? { jobs: [] as JobInfo[], label: appPhrase ?? "all apps" } : scope;
  const imports = (await auditsOf(selected.jobs, from, now, deps, 100)).filter((x) => x.kind === "import" || /role/i.test(x.activity));
  if (imports.length === 0) {
    return info(
      `No role-import records${appPhrase ? ` for ${selected.label}` : ""}`,
      `The provisioning logs do not record role imports; the Microsoft Entra audit log does (service Account Provisioning, category ProvisioningManagement). provbot holds no such record${appPhrase ? ` for ${selected.label}` : ""} from the last 30 days: either no import ran, or provbot does not read the audit log (it needs Graph polling with AuditLog.Read.All).`,
      [],
      appPhrase ? [ask(`How is ${appPhrase} doing?`, `how is ${appPhrase} doing`)] : [],
    );
  }
  return stats(
    `Role and import records · ${selected.label} · last 30 days`,
    "From the Microsoft Entra audit log (service Account Provisioning), newest first.",
    ["When (UTC)", "Activity", "Result", "Details"],
    imports.slice(0, 20).map((x) => [minuteLabel(x.at), x.activity, x.result || "—", [...x.details.map((d) => `${d.key}: ${d.value}`), ...x.changes.map((c) => `${c.name}: ${c.new}`)].join("\n").slice(0, 400) || "—"]),
  );
}
