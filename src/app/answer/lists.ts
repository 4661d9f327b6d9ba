import { normaliseName } from "../../core/names";
import { type ListFilters } from "../../core/ask/question";
import { minuteLabel } from "../../core/timeBuckets";
import { type TimeRange } from "../../core/ask/timeRange";
import { participle, eventDetail, eventList, info, listTitle, stats, statusWord, type Answer } from "../../core/ask/views";
import { remedyFor } from "../../core/remediation";
import { referenceProblemStep, unresolvedWhat } from "../../core/references";
import { plural } from "../../core/text";
import { appName } from "../../core/event";
import { type AnswerDeps, PAGE, ask, jobsFor, isAnswer, whoOrAsk, personEvents, portalOf, jobName, rowItem, pageLine, moreAction, resolveFilters, appScope, auditsOf, DAY_MS } from "./common";
import { answerHistory } from "./person";
import { answerHealth } from "./apps";

/** Lists and counts of events, unresolved references, and ids (a changeId, a cycle, a job). */

/** "How many users were created in Box this week?": the number, and the list one click away. */
export async function answerCount(filters: ListFilters, range: TimeRange, text: string, deps: AnswerDeps): Promise<Answer> {
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

/**
 * Groups whose members could not be assigned because a reference did not resolve
 * (UnableToResolveReferenceAttributeValue in a step), with the members the step names, per job.
 * Reads the newest events of the window with a reference problem (UNRESOLVED_SCAN) and their steps.
 */
export const UNRESOLVED_SCAN = 20;

export async function answerUnresolvedMembers(appPhrase: string | null, range: TimeRange, subject: "Group" | "User", deps: AnswerDeps): Promise<Answer> {
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

/** A cycle's events read for its card (its pages); a larger cycle says so ("500+"). */
export const CYCLE_LIMIT = 500;

export async function answerId(id: string, hint: "change" | "cycle" | "job" | null, deps: AnswerDeps, now: string, page = 1): Promise<Answer> {
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

export async function answerList(filters: ListFilters, asked: TimeRange, text: string, deps: AnswerDeps, page: number): Promise<Answer> {
  const jobs = await jobsFor(deps, filters.app, filters.sourceSystem);
  const r = resolveFilters(filters, jobs);
  if (isAnswer(r)) return r;
  let range = asked;
  if (filters.afterChangeBy) {
    // The newest configuration change by that person to these apps in the last 30 days starts the list.
    const now = deps.now().toISOString();
    const who = normaliseName(filters.afterChangeBy);
    const change = (await auditsOf(r.jobs, new Date(Date.parse(now) - 30 * DAY_MS).toISOString(), now, deps, 200)).find((a) => a.by && normaliseName(a.by).includes(who));
    if (!change) return info(`No change by ${filters.afterChangeBy} in ${r.label}`, `The audit trail of ${r.label} holds no configuration change by "${filters.afterChangeBy}" in the last 30 days, so there is no "after" to list from.`, [], [ask(`Changes to ${r.label}`.slice(0, 60), `what changed in the ${r.label} provisioning configuration`)]);
    range = { from: change.at, to: now, label: `after ${change.by}'s change (${change.activity}, ${minuteLabel(change.at)} UTC)` };
  }
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
