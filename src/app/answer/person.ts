import { objectTypeNameOf, onDemandObjectId } from "../../core/actions";
import { type Question } from "../../core/ask/question";
import { minuteLabel } from "../../core/timeBuckets";
import { type TimeRange } from "../../core/ask/timeRange";
import { actionWord, eventDetail, eventList, info, statusWord, type Answer } from "../../core/ask/views";
import { helpViewModel } from "../../core/help";
import type { EventRow, IdentityCandidate, IdentityFilter, JobInfo } from "../queryPorts";
import { matchIdentity } from "../resolve";
import { plural } from "../../core/text";
import { initialCycleComplete, nextReach, severity } from "../../core/jobs/report";
import { type AnswerDeps, PAGE, ask, WHY_READ, otherFailuresNote, jobsFor, appOrAsk, isAnswer, whoOrAsk, personEvents, personState, jobName, rowItem, pageLine, moreAction, notReachedNote, withNote, statusesOf, statusFacts } from "./common";

/** Questions about one person: why they failed or were skipped, their history, whether they are provisioned, what changed, when they will be. */

/** "What changed for alice in ServiceNow?": the latest update's modified properties, old → new. */
export async function answerChanges(identityPhrase: string, appPhrase: string | null, range: TimeRange, deps: AnswerDeps): Promise<Answer> {
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

export async function answerWhy(q: Extract<Question, { kind: "why" }>, deps: AnswerDeps, text: string): Promise<Answer> {
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

export async function answerHistory(phrase: string, range: TimeRange, loose: boolean, deps: AnswerDeps, text = phrase, page = 1): Promise<Answer> {
  const who = await whoOrAsk(phrase, deps, (w) => `what happened to ${w}`);
  if (isAnswer(who)) {
    // A loose reading ("two words") that names no one was probably not a question about a person.
    if (loose && who.card === "info" && who.viewModel.actions.length === 0) {
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

export async function answerProvisioned(identityPhrase: string, appPhrase: string, deps: AnswerDeps, now: string): Promise<Answer> {
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
  const job = a.jobs.length === 1 ? a.jobs[0]! : null;
  const objectId = job?.servicePrincipalId ? onDemandObjectId(who.identityKey, job.jobId) : null;
  const offer =
    job?.servicePrincipalId && objectId
      ? { servicePrincipalId: job.servicePrincipalId, jobId: job.jobId, app: job.app, kinds: ["provisionOnDemand" as const], subject: { objectId, objectTypeName: objectTypeNameOf(who.identityType, job.jobId), name: who.displayName } }
      : null;
  const answer = info(`Is ${who.displayName} provisioned in ${a.label}?`, verdict, [
    { title: "Last event", value: `${actionWord(state.action)} · ${statusWord(state.status)} · ${at}` },
    { title: "Identity", value: who.identity },
  ], [ask("Show that event", `why did ${who.identity} ${state.status === "failure" ? "fail" : "get skipped"} in ${appPhrase}`), ask(`History of ${who.displayName}`, `what happened to ${who.identity}`)]);
  return offer ? { ...answer, offer } : answer;
}

export async function answerWhen(identityPhrase: string, appPhrase: string, deps: AnswerDeps, now: string): Promise<Answer> {
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
