import { parseQuestion, type Question } from "../../core/ask/question";
import { rangeText } from "../../core/ask/timeRange";
import { choice, info, listTitle, type Answer } from "../../core/ask/views";
import type { ListFilters } from "../../core/ask/question";
import type { TimeRange } from "../../core/ask/timeRange";
import { helpViewModel } from "../../core/help";
import { tooLong, lexiconOf, withNote, type AnswerContext, type AnswerDeps } from "./common";
import { answerChanges, answerWhy, answerHistory, answerProvisioned, answerWhen } from "./person";
import { answerCount, answerUnresolvedMembers, answerId, answerList } from "./lists";
import { answerExplain, answerTopErrors, answerActivity, answerHealth, answerJobs, answerConfigChanges, answerQuarantineHistory, answerRoleImports } from "./apps";

export { lexiconOf, otherFailuresNote, pageLine, tooLong, type AnswerContext, type AnswerDeps } from "./common";
export { answerStoredEvent } from "./lists";

/**
 * Answering a question: parse it, resolve the names against stored data, read what answers it
 * (a few key-range reads), and build the card's view-model. Never guesses an identity: several
 * matches become a choice card, none a "not found" with near matches. One module per kind of
 * question (person, lists, apps), chosen by the dispatch table below.
 */
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

async function answerParsed(q: Question, text: string, deps: AnswerDeps, ctx: AnswerContext, now: string): Promise<Answer> {
  const answer = await answerKind(q, text, deps, ctx, now);
  // Nothing named is dropped without a word: what the question held that the answer did not use.
  const unused = "unused" in q ? q.unused : undefined;
  return unused?.length ? withNote(answer, `I did not use ${unused.map((w) => `"${w}"`).join(", ")}: ask again naming it as an app ("in …"), a person ("for …") or an error code ("with …") if it matters.`) : answer;
}

/** What one kind of question is answered with: the dispatch table, one entry per kind. */
type Handlers = { [K in Question["kind"]]: (q: Extract<Question, { kind: K }>, text: string, deps: AnswerDeps, ctx: AnswerContext, now: string) => Promise<Answer> };

const HANDLERS: Handlers = {
  help: async (_q, _text, deps) => ({ card: "help", viewModel: helpViewModel(deps.version), text: "Ask about provisioning events: why did alice fail in ServiceNow? · what happened to bob? · <changeId> · failures in the last 24 hours · top errors this week" }),
  unknown: async (q, _text, deps) => ({ card: "help", viewModel: helpViewModel(deps.version, q.text), text: `I did not understand "${q.text}". Type help for examples.` }),
  limit: (q, _text, deps, _ctx, now) => answerRoleImports(q.app, deps, now),
  id: (q, _text, deps, ctx, now) => answerId(q.id, q.hint, deps, now, ctx.page ?? 1),
  why: (q, text, deps) => answerWhy(q, deps, text),
  history: (q, text, deps, ctx) => answerHistory(q.identity, q.range, q.loose, deps, text, ctx.page ?? 1),
  provisioned: (q, _text, deps, _ctx, now) => answerProvisioned(q.identity, q.app, deps, now),
  list: (q, text, deps, ctx) => answerList(q.filters, q.range, text, deps, ctx.page ?? 1),
  topErrors: (q, _text, deps) => answerTopErrors(q.app, q.range, deps),
  activity: (q, _text, deps) => answerActivity(q.app, q.range, deps),
  health: async (q, _text, deps, _ctx, now) => {
    // An app's name where a person was asked about: when someone is also called so, ask which.
    if (q.asPerson) {
      const people = await deps.store.findIdentities(q.asPerson);
      if (people.length > 0) {
        return choice(`"${q.asPerson}" is an app and ${people.length === 1 ? "a name" : "several names"}`, "Which did you mean?", [
          { title: `How is ${q.app} doing`, data: { text: `how is ${q.app} doing` } },
          ...people.slice(0, 5).map((p) => ({ title: `What happened to ${p.displayName || p.identity}`.slice(0, 60), data: { text: `what happened to ${p.identity || p.identityKey.replace(/^\w:/, "")}` } })),
        ]);
      }
    }
    return answerHealth(q.app, q.range, deps, now);
  },
  explain: (q, _text, deps, _ctx, now) => answerExplain(q.code, deps, now),
  count: (q, text, deps) => answerCount(q.filters, q.range, text, deps),
  changes: (q, _text, deps) => answerChanges(q.identity, q.app, q.range, deps),
  unresolvedMembers: (q, _text, deps) => answerUnresolvedMembers(q.app, q.range, q.subject, deps),
  jobs: (q, _text, deps, _ctx, now) => answerJobs(q.filter, deps, now),
  when: (q, _text, deps, _ctx, now) => answerWhen(q.identity, q.app, deps, now),
  configChanges: (q, _text, deps) => answerConfigChanges(q.app, q.range, deps),
  quarantineHistory: (q, _text, deps, _ctx, now) => answerQuarantineHistory(q.app, deps, now),
  export: async (q) => answerExport(q.filters, q.range),
};

function answerKind(q: Question, text: string, deps: AnswerDeps, ctx: AnswerContext, now: string): Promise<Answer> {
  return (HANDLERS[q.kind] as (q: Question, text: string, deps: AnswerDeps, ctx: AnswerContext, now: string) => Promise<Answer>)(q, text, deps, ctx, now);
}

/**
 * "export failures in box this week": where to download exactly those events. A chat has no file
 * to hand back, and provbot keeps no memory of the previous question, so "export this" asks what.
 */
function answerExport(filters: ListFilters | null, range: TimeRange): Answer {
  if (!filters || Object.keys(filters).length === 0) {
    return info("What should I export?", 'Say what to export, as you would ask for the list: "export failures in ServiceNow this week", "download users removed from Adobe yesterday". provbot does not keep your previous question.', [], []);
  }
  const query = new URLSearchParams({ format: "csv", from: range.from, to: range.to });
  if (filters.app) query.set("app", filters.app);
  if (filters.status) query.set("status", filters.status);
  if (filters.actions?.length) query.set("action", filters.actions.join(","));
  if (filters.identityType) query.set("identityType", filters.identityType);
  if (filters.errorCode) query.set("errorCode", filters.errorCode);
  const what = `${listTitle(filters)}${filters.app ? ` · ${filters.app}` : ""} · ${range.label}`;
  return info(`Download: ${what}`, "Open the provbot tab, Events, with these filters, and choose Download JSON (Graph records, as the admin center's JSON download) or Download CSV (the admin center's three files). Both re-ingest unchanged.", [
    { title: "Filters", value: what },
    { title: "The same from the API (the tab's sign-in)", value: `GET /api/export?${query.toString()}` },
  ], []);
}
