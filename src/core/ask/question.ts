import type { ProvisioningAction, ProvisioningStatus } from "../event";
import { extractTimeRange, lastDays, type TimeRange } from "./timeRange";
import { EMPTY_LEXICON, findApps, questionWords, type Lexicon } from "./lexicon";

/**
 * Plain-English questions to structured queries, deterministically (no AI service). Names of
 * people and apps stay as the phrases the admin typed; the resolver matches them against stored
 * data and asks back when a phrase is ambiguous.
 */
export interface ListFilters {
  identityType?: "User" | "Group";
  actions?: ProvisioningAction[];
  status?: ProvisioningStatus;
  /** App, or target system ("in ServiceNow", "to Active Directory"). */
  app?: string;
  sourceSystem?: string;
  identity?: string;
  /** "failures with ServiceNowEntryConflict": one error code. */
  errorCode?: string;
  /** "after bob's change": the list starts at the newest configuration change by that person (the audit trail). */
  afterChangeBy?: string;
  /**
   * The action was said as something that happened ("created", "removed", "provisioned") with no
   * outcome word: a count then counts the successes, with the failed and skipped beside them.
   */
  happened?: boolean;
}

export type Question =
  | { kind: "help" }
  | { kind: "why"; identity: string; app: string | null; range: TimeRange; outcome: "failure" | "skipped" | null; loose: boolean }
  | { kind: "history"; identity: string; range: TimeRange; loose: boolean }
  | { kind: "provisioned"; identity: string; app: string }
  | { kind: "id"; id: string; hint: "change" | "cycle" | "job" | null }
  | { kind: "list"; filters: ListFilters; range: TimeRange; unused?: string[] }
  | { kind: "topErrors"; app: string | null; range: TimeRange; unused?: string[] }
  | { kind: "activity"; app: string | null; range: TimeRange; unused?: string[] }
  | { kind: "health"; app: string; range: TimeRange; /** The question named this as a person ("what happened to box"): the answer checks no one is called so. */ asPerson?: string }
  | { kind: "limit"; topic: "roleImports"; app: string | null }
  | { kind: "explain"; code: string }
  | { kind: "count"; filters: ListFilters; range: TimeRange; unused?: string[] }
  | { kind: "changes"; identity: string; app: string | null; range: TimeRange }
  | { kind: "unresolvedMembers"; app: string | null; range: TimeRange; subject: "Group" | "User" }
  | { kind: "jobs"; filter: "all" | "quarantined" | "paused" }
  | { kind: "when"; identity: string; app: string }
  | { kind: "configChanges"; app: string; range: TimeRange }
  | { kind: "quarantineHistory"; app: string }
  /** "export failures in box this week", "download this": where to download what a list selects. */
  | { kind: "export"; filters: ListFilters | null; range: TimeRange }
  | { kind: "unknown"; text: string };

export const DEFAULT_LIST_DAYS = 7;
/** Longer messages are answered with the limit instead of being parsed (PROVBOT_QUESTION_MAX_CHARS). */
export const DEFAULT_QUESTION_MAX_CHARS = 500;
export const DEFAULT_WHY_DAYS = 30;

const ID = "[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}";
const ID_RE = new RegExp(`^(?:(change|change ?id|cycle|cycle ?id|job|job ?id)\\s*[:#=]?\\s*)?(${ID})$`, "i");
const JOB_RE = /^job\s*(?:id)?\s*[:#=]?\s*([A-Za-z0-9]+\.[A-Za-z0-9.\-]+)$/i;
/** "change csv-chg-1", "cycle id: 42": any id the portal shows, not only GUIDs. */
const NAMED_ID_RE = /^(change ?id|change|cycle ?id|cycle)\s*[:#=]?\s*(\S{1,256})$/i;
/** A pasted id on its own: one token with a digit in it (names have none), not an e-mail address. */
const BARE_ID_RE = /^(?=\S*\d)(?=\S*[A-Za-z])[A-Za-z0-9][\w.:~+\-]{2,255}$/;
const UPN_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Casual spellings admins type, restored ("whats", "isnt", "didnt"). */
const CASUAL: [RegExp, string][] = [
  [/\bwhats\b/gi, "what's"], [/\bwhos\b/gi, "who's"], [/\bhows\b/gi, "how's"], [/\bwheres\b/gi, "where's"],
  [/\bisnt\b/gi, "isn't"], [/\barent\b/gi, "aren't"], [/\bwasnt\b/gi, "wasn't"], [/\bwerent\b/gi, "weren't"],
  [/\bdidnt\b/gi, "didn't"], [/\bdoesnt\b/gi, "doesn't"], [/\bdont\b/gi, "don't"], [/\bhasnt\b/gi, "hasn't"], [/\bhavent\b/gi, "haven't"],
  [/\bcouldnt\b/gi, "couldn't"], [/\bwouldnt\b/gi, "wouldn't"], [/\bshouldnt\b/gi, "shouldn't"], [/\bcant\b/gi, "can't"], [/\bwont\b/gi, "won't"],
];

/** Words around a question that do not change it: greetings, politeness, "quick one:", "for me". */
const FILLERS =
  /\b(please|pls|plz|thanks|thank you|thx|ty|hey provbot|hi provbot|hello provbot|provbot|quick one|quick question|quick q|real quick|btw|can you tell me|could you tell me|tell me|do you know|i want to know|i'd like to know|i would like to know|i need to know|can you check|could you check|can you look up|could you look up|can you show me|could you show me|can you find|could you find|can you|could you|would you|for me)\b/gi;

/** Strip politeness, punctuation and filler around the words that matter; restore casual spellings. */
export function cleanQuestion(text: string): string {
  let t = text.replace(/[\u2018\u2019`´]/g, "'");
  for (const [re, to] of CASUAL) t = t.replace(re, to);
  t = t.replace(/[?!]+/g, " ").replace(FILLERS, " ");
  // Greetings and punctuation at the front, as many as there are ("quick one: hi, ...").
  for (let before = ""; before !== t; ) {
    before = t;
    t = t.replace(/^[\s,;:.-]+/, "").replace(/^(?:hey|hi|hello|yo|ok|okay|so)\b[\s,;:.-]+/i, "");
  }
  t = t
    .replace(/\s+/g, " ")
    .trim()
    .replace(/[.,;:-]+$/, "")
    .trim();
  // The question word last: "carol failed in dropbox, why" is "why carol failed in dropbox".
  const last = /^(.+?)[\s,;:-]+(why|how come)$/i.exec(t);
  if (last && !/^(why|how)\b/i.test(last[1]!)) t = `why ${last[1]!.replace(/[,;:]+$/, "").trim()}`;
  return t;
}

/**
 * An id with a word in front ("worker 20431", "emp id 20431", "employee #20431", "object id …"):
 * the word is not part of a name. Returns the text with only the id left in its place.
 */
export function withBareIds(text: string): string {
  return text.replace(/\b(?:worker|employee|emp|staff|personnel|user|object|person)\s*(?:id|number|no\.?|#)?\s*[:#=]?\s*(?=[A-Za-z0-9-]*\d)([A-Za-z0-9][A-Za-z0-9-]{2,63})\b/gi, (_m, id: string) => id);
}

/** "ServiceNow app" -> "ServiceNow", "the Adobe application" -> "Adobe". */
export function cleanName(phrase: string): string {
  return phrase
    .replace(/^(the|a|an|our|my)\s+/i, "")
    .replace(/^(job|app|application|service principal|connector)\s+(?=\S)/i, "")
    .replace(/\s+(app|application|tenant|job|connector|provisioning)$/i, "")
    .replace(/^['"]|['"]$/g, "")
    .replace(/'s$/i, "")
    .trim();
}

const ACTION_WORDS: [RegExp, ProvisioningAction[]][] = [
  [/\b(staged ?deletes?|staged deletions?|held back)\b/, ["stagedDelete"]],
  [/\b(removed|removals?|deprovisioned|offboarded)\b/, ["delete", "disable"]],
  [/\b(deleted|deletes|deletions?)\b/, ["delete"]],
  [/\b(disabled|disables|deactivated)\b/, ["disable"]],
  [/\b(created|creates|creations?|added|provisioned|onboarded)\b/, ["create"]],
  [/\b(updated|updates|changed|modified)\b/, ["update"]],
  [/\b(other actions?|action other|actions? of type other)\b/, ["other"]],
];

function parseList(text: string, range: TimeRange): Question | null {
  const filters: ListFilters = {};
  // "after bob's change", "since alice's config change": a time given by a configuration change.
  const after = /\b(?:after|since|following)\s+(.+?)'s\s+(?:last\s+|latest\s+)?(?:config(?:uration)?\s+|scoping\s+|scope\s+|mapping\s+)?(?:change|changes|edit|update|edits)\b/i.exec(text);
  const t = after ? `${text.slice(0, after.index)} ${text.slice(after.index + after[0].length)}`.replace(/\s+/g, " ").trim() : text;
  if (after) filters.afterChangeBy = cleanName(after[1]!);
  const lower = t.toLowerCase();
  let matched = false;
  if (/\b(users?|people|persons?|employees?|workers?|accounts?)\b/.test(lower)) filters.identityType = "User";
  if (/\bgroups?\b/.test(lower)) filters.identityType = "Group";
  for (const [re, actions] of ACTION_WORDS) {
    if (re.test(lower)) {
      filters.actions = actions;
      matched = true;
      break;
    }
  }
  if (/\b(unsuccessful(ly)?|failed|failures?|failing|errors?|errored)\b/.test(lower)) {
    filters.status = "failure";
    matched = true;
  } else if (/\b(skipped|skips)\b/.test(lower)) {
    filters.status = "skipped";
    matched = true;
  } else if (/\bsuccessful(ly)?\b/.test(lower)) filters.status = "success";
  else if (filters.actions && /\b(created|added|provisioned|onboarded|removed|deprovisioned|offboarded|deleted|disabled|deactivated|updated|changed|modified)\b/.test(lower)) filters.happened = true;
  if (!matched) return null;
  // "removed from Adobe": the target; "users from Workday": the source system.
  const removalFrom = /\b(?:removed|deleted|disabled|deprovisioned|offboarded)\s+from\s+(.+?)(?=\s+(?:were|was|in|to|into|for)\b|$)/i.exec(t);
  if (removalFrom) filters.app = cleanName(removalFrom[1]!);
  else {
    const from = /\bfrom\s+(.+?)(?=\s+(?:were|was|are|got|get|have|has|in|to|into|for|that|created|updated|deleted|disabled|removed|provisioned|skipped|failed)\b|$)/i.exec(t);
    if (from) filters.sourceSystem = cleanName(from[1]!);
  }
  const code = /\b(?:with|code|error)\s+([A-Z][A-Za-z0-9]{5,})\b/.exec(t);
  if (code) filters.errorCode = code[1]!;
  const into = /\b(?:in|to|into|on)\s+(?!the last|the past)(.+?)(?=\s+(?:for|from|were|was|with)\b|$)/i.exec(t);
  if (into && !filters.app) filters.app = cleanName(into[1]!);
  const forWho = /\bfor\s+(?!the\b)(.+?)(?=\s+(?:in|to|from|on)\b|$)/i.exec(t);
  if (forWho) filters.identity = cleanName(forWho[1]!);
  return { kind: "list", filters, range };
}

const HELP_RE = /^(help|\?|hi|hello|hey|start|commands?|menu|what can you do|what can i ask|how do i use this|usage)$/i;

/** Words that may stand around a pasted id without asking anything else ("can you check change … for me"). */
const AROUND_ID = /\b(check|look|up|lookup|open|show|me|details?|of|for|about|what|what's|is|the|this|that|event|entry|record|log|id|change|cycle|and|on|at|see|find|get|pull|info|information|status)\b/gi;

/**
 * A question to a structured query. `lexicon` (the tenant's app names) lets an app be found
 * anywhere in the sentence; without it only the sentence's shape tells where an app is.
 */
export function parseQuestion(raw: string, nowIso: string, lexicon: Lexicon = EMPTY_LEXICON): Question {
  if (HELP_RE.test(raw.trim().replace(/[?!.\s]+$/, ""))) return { kind: "help" };
  const text = withBareIds(cleanQuestion(raw));
  // An id pasted inside a sentence: the id question, when nothing else is asked around it.
  const inner = new RegExp(`(?:\\b(change|change ?id|cycle|cycle ?id|job|job ?id)\\s*[:#=]?\\s*)?\\b(${ID})\\b`, "i").exec(text);
  if (inner && text !== inner[0]) {
    const around = (text.slice(0, inner.index) + " " + text.slice(inner.index + inner[0].length)).replace(AROUND_ID, " ").replace(/[\s,;:.]+/g, "");
    if (around === "") {
      const hint = inner[1] ? (inner[1].toLowerCase().startsWith("change") ? "change" : inner[1].toLowerCase().startsWith("cycle") ? "cycle" : "job") : null;
      return { kind: "id", id: inner[2]!, hint };
    }
  }
  return withUnused(withApps(parseShape(text, raw, nowIso), text, lexicon, nowIso), text, lexicon, nowIso);
}

/**
 * The words a question is made of that say what is asked, not what about: cue words, outcomes,
 * actions, object types, time words, fillers. A word outside them that the question did not use
 * (not an app, person, code or id slot) is named in the answer: nothing named is dropped without
 * a word.
 */
const VOCABULARY = new Set(
  `a an the of to in into on at for from with by and or but not no any all every each some this that these those it its is are was were be been being do does did done has have had get got gets gotten make made can could would should will may might must
  what which who whom whose why when where how many much number count counts total totals show shows list give find see tell me my our us we you your i there here just only also ever so very
  event events failure failures failed failing fail fails error errors errored unsuccessful unsuccessfully successful successfully success succeeded skipped skip skips skipping
  user users people person persons employee employees worker workers account accounts group groups member members object objects identity identities
  created create creates creation creations added add provisioned provisioning provision onboarded removed removal removals remove deprovisioned offboarded deleted delete deletes deletion deletions disabled disable disables deactivated updated update updates changed change changes modified other action actions staged held back
  today yesterday week weeks month months hour hours day days minute minutes last past previous since between until till before after ago recent recently latest newest oldest
  top most common frequent code codes summary breakdown activity daily per app apps application applications job jobs status statuses health state doing going looking performing
  happened happen happening up wrong going issue issues problem problems please pls plz thanks stuff things thing anything everything`.split(/\s+/),
);

type UnusedKinds = Extract<Question, { kind: "list" | "count" | "topErrors" | "activity" }>;

function withUnused(q: Question, text: string, lexicon: Lexicon, nowIso: string): Question {
  if (q.kind !== "list" && q.kind !== "count" && q.kind !== "topErrors" && q.kind !== "activity") return q;
  const rest = extractTimeRange(text, nowIso)?.rest ?? text;
  const slots = q.kind === "list" || q.kind === "count" ? [q.filters.app, q.filters.sourceSystem, q.filters.identity, q.filters.errorCode, q.filters.afterChangeBy && `${q.filters.afterChangeBy} ${q.filters.afterChangeBy}'s`] : [q.app];
  const used = new Set(slots.filter((x): x is string => Boolean(x)).flatMap((x) => x.toLowerCase().split(/\s+/)));
  for (const m of findApps(rest, lexicon)) for (const w of m.phrase.split(" ")) used.add(w);
  const unused = rest
    .split(/[\s,;:!?()"]+/)
    .map((w) => w.replace(/^['.]+|['.]+$/g, ""))
    .filter((w) => w && !VOCABULARY.has(w.toLowerCase()) && !used.has(w.toLowerCase()) && !used.has(questionWords(w).join(" ")) && !/^\d+$/.test(w));
  return unused.length ? ({ ...q, unused: [...new Set(unused)].slice(0, 5) } as UnusedKinds) : q;
}

function parseShape(text: string, raw: string, nowIso: string): Question {
  if (text === "" || HELP_RE.test(text)) return { kind: "help" };

  const id = ID_RE.exec(text);
  if (id) {
    const hint = id[1] ? (id[1].toLowerCase().startsWith("change") ? "change" : id[1].toLowerCase().startsWith("cycle") ? "cycle" : "job") : null;
    return { kind: "id", id: id[2]!, hint };
  }
  const job = JOB_RE.exec(text);
  if (job) return { kind: "id", id: job[1]!, hint: "job" };
  const named = NAMED_ID_RE.exec(text);
  if (named) return { kind: "id", id: named[2]!, hint: named[1]!.toLowerCase().startsWith("change") ? "change" : "cycle" };
  if (BARE_ID_RE.test(text) && !UPN_RE.test(text)) return { kind: "id", id: text, hint: null };
  if (UPN_RE.test(text)) return { kind: "history", identity: text, range: lastDays(nowIso, DEFAULT_WHY_DAYS), loose: false };

  const time = extractTimeRange(text, nowIso);
  const t = time?.rest ?? text;
  const range = (days: number) => time?.range ?? lastDays(nowIso, days);
  const lower = t.toLowerCase();

  // "export failures in box this week", "download this": the list's filters, for a download.
  const exportOf = /^(?:export|download|save|csv|json)\b\s*(?:(?:this|that|these|those|it|them|the list|this list|to csv|to excel|as csv|as json)\b)?\s*(.*)$/i.exec(t);
  if (exportOf) {
    const inner = exportOf[1]!.trim();
    const asList = inner ? parseList(inner, range(DEFAULT_LIST_DAYS)) : null;
    return { kind: "export", filters: asList && asList.kind === "list" ? asList.filters : null, range: range(DEFAULT_LIST_DAYS) };
  }

  // "what does SalesforceDuplicateTargetEntries mean?", "explain InvalidAnchor"
  const explain = /^(?:what\s+(?:does|is)\s+(?:the\s+)?(?:error\s+(?:code\s+)?)?|explain\s+(?:the\s+)?(?:error\s+(?:code\s+)?)?|meaning\s+of\s+)([A-Z][A-Za-z0-9]{4,})(?:\s+(?:error|code))?(?:\s+mean)?$/i.exec(t);
  if (explain && /[A-Z]/.test(explain[1]!.slice(1))) return { kind: "explain", code: explain[1]! };

  // Job status (the provisioning summary report): every job, or the quarantined or paused ones.
  if (/^(?:(?:what(?:'s| is)?\s+the\s+)?(?:status|health|state)\s+of\s+(?:all|every|each)\s+(?:the\s+)?(?:apps?|jobs?|applications?)|(?:all|every)\s+(?:apps?|jobs?)(?:'?\s+(?:status|health))?|job\s+status(?:es)?|(?:apps?|jobs?)\s+(?:status|health)|how\s+are\s+(?:all\s+)?(?:the\s+)?(?:apps?|jobs?)\s+doing)$/i.test(t)) return { kind: "jobs", filter: "all" };
  if (/^(?:which|what|are\s+(?:any|there)(?:\s+any)?|any|list|show(?:\s+me)?)\b.*\b(?:quarantin\w*)\b/i.test(t) && !/\bhistory\b/i.test(t)) return { kind: "jobs", filter: "quarantined" };
  if (/^(?:which|what|are\s+(?:any|there)(?:\s+any)?|any|list|show(?:\s+me)?)\b.*\bpaused\b/i.test(t) || /^what(?:'s| is)\s+paused$/i.test(t)) return { kind: "jobs", filter: "paused" };
  const quarantineHistory = /^(?:quarantine\s+history|history\s+of\s+(?:the\s+)?quarantines?)\s+(?:of|for|in)\s+(.+)$/i.exec(t) ?? /^(?:when\s+was|was|has)\s+(.+?)\s+(?:been\s+)?(?:in\s+)?quarantined?(?:\s+before)?$/i.exec(t);
  if (quarantineHistory) return { kind: "quarantineHistory", app: cleanName(quarantineHistory[1]!) };
  const config =
    /^(?:what|who)\s+(?:changed|was\s+changed|modified|updated)\s+(?:in\s+|on\s+)?(?:the\s+)?(.+?)(?:'s)?\s+(?:provisioning\s+)?(?:configuration|config|settings|mappings|attribute\s+mappings|scope)$/i.exec(t) ??
    /^(?:configuration|config|settings)\s+changes\s+(?:in|to|of|for)\s+(?:the\s+)?(.+?)(?:\s+provisioning)?$/i.exec(t) ??
    /^who\s+(?:changed|paused|stopped|restarted|started|configured)\s+(?:the\s+)?(?:provisioning\s+(?:of|for|in)\s+)?(.+?)(?:\s+provisioning)?$/i.exec(t) ??
    /^audit\s+(?:log|trail)\s+(?:of|for)\s+(.+)$/i.exec(t);
  if (config) return { kind: "configChanges", app: cleanName(config[1]!), range: range(DEFAULT_WHY_DAYS) };
  // "who changed the adobe scoping filter": the audit trail of that app's configuration.
  const scoping = /^(?:who|what)\s+(?:changed|modified|updated|edited|touched)\s+(?:the\s+)?(.+?)(?:'s)?\s+(?:scoping\s+filters?|scope\s+filters?|scoping|scope|attribute\s+mappings?|mappings?|settings|configuration|config)$/i.exec(t);
  if (scoping) return { kind: "configChanges", app: cleanName(scoping[1]!), range: range(DEFAULT_WHY_DAYS) };
  if (/^(?:which|what|any|list|show(?:\s+me)?)?\s*(?:apps?|jobs?|applications?)\s+(?:are\s+|is\s+)?(?:unhealthy|failing|broken|in trouble|having (?:problems|issues)|not healthy|down)$/i.test(t) || /^(?:unhealthy|failing|broken)\s+(?:apps?|jobs?)$/i.test(t)) return { kind: "jobs", filter: "all" };
  const whenWill = /^when\s+(?:will|would|does|is)\s+(.+?)\s+(?:be\s+|get\s+)?(?:provisioned|created|synced|set up|added)\s+(?:in|to|into|on)\s+(.+)$/i.exec(t);
  if (whenWill) return { kind: "when", identity: cleanName(whenWill[1]!), app: cleanName(whenWill[2]!) };

  // "what changed for alice in ServiceNow?": the modified properties of the latest update.
  const changed = /^what\s+(?:changed|was\s+changed|was\s+updated|got\s+updated)\s+(?:for|on|about)\s+(.+?)(?:\s+(?:in|on|to)\s+(.+))?$/i.exec(t);
  if (changed) return { kind: "changes", identity: cleanName(changed[1]!), app: changed[2] ? cleanName(changed[2]) : null, range: range(DEFAULT_WHY_DAYS) };

  // The Azure Monitor workbook's "groups with skipped members due to problems resolving references",
  // and the same for users whose manager could not be resolved.
  const refWords = /\b(unresolved|unresolvable|resolv\w*|references?|skipped members|members? (?:were |was )?(?:skipped|not (?:added|assigned)))\b/i;
  const managerWords = /\bmanagers?\b/i;
  if ((/\bgroups?\b/i.test(t) && refWords.test(t)) || (managerWords.test(t) && (refWords.test(t) || /\b(?:missing|not (?:set|assigned)|couldn't|could not|failed|errors?)\b/i.test(t)))) {
    const subject = /\bgroups?\b/i.test(t) && !managerWords.test(t) ? "Group" : "User";
    const app = /(?<!\bdue\s)\b(?:in|for|on|to)\s+(?!the last|the past|problems?\b|resolv|references?\b|managers?\b)(.+)$/i.exec(t);
    return { kind: "unresolvedMembers", app: app ? cleanName(app[1]!) : null, range: range(DEFAULT_LIST_DAYS), subject };
  }

  // "how many users were created in Box this week?": the number, with the same filters as the list.
  const howMany = /^(?:how\s+many|number\s+of|count(?:\s+of)?)\s+(.+)$/i.exec(t);
  if (howMany) {
    const asList = parseList(howMany[1]!, range(DEFAULT_LIST_DAYS));
    if (asList && asList.kind === "list") return { kind: "count", filters: asList.filters, range: asList.range };
  }

  if (/\broles?\b/.test(lower) && /\bimport/.test(lower)) {
    const from = /\b(?:from|in|for)\s+(.+)$/i.exec(t);
    return { kind: "limit", topic: "roleImports", app: from ? cleanName(from[1]!) : null };
  }
  const top = /\b(?:top|most common|frequent)\s+(?:\d+\s+)?errors?\b|\berror (?:codes|summary|breakdown)\b/i.exec(t);
  if (top) {
    const app = /\b(?:in|for|on|from|with)\s+(.+)$/i.exec(t.slice(top.index + top[0].length));
    return { kind: "topErrors", app: app ? cleanName(app[1]!) : null, range: range(DEFAULT_LIST_DAYS) };
  }
  if (/\bactivity\b/i.test(t) && /\b(by|per)\s+(action|day)\b|\bdaily\b/i.test(t)) {
    const app = /\b(?:in|for|on)\s+(.+?)(?=\s+(?:by|per)\b|$)/i.exec(t);
    return { kind: "activity", app: app ? cleanName(app[1]!) : null, range: range(DEFAULT_LIST_DAYS) };
  }
  const health = /^how(?:'s| is| are)\s+(.+?)\s+(?:doing|going|looking|performing)$/i.exec(t) ?? /^(?:health|status|summary)\s+(?:of|for)\s+(.+)$/i.exec(t);
  if (health) return { kind: "health", app: cleanName(health[1]!), range: range(DEFAULT_LIST_DAYS) };

  // Negations mean "it did not happen": why (its failures and skips, or that there is nothing).
  const whyNot =
    /^why\s+(?:isn't|is not|wasn't|was not|hasn't|has not|didn't|did not|doesn't|does not|won't|will not|can't|cannot)\s+(.+?)\s+(?:been\s+|get\s+|got\s+|gotten\s+|make it\s+)?(?:provisioned\s+|created\s+|added\s+|synced\s+|set up\s+|there\s+)?(?:in|into|to|on)\s+(.+)$/i.exec(t) ??
    /^(.+?)\s+(?:isn't|is not|wasn't|was not|hasn't been|has not been|didn't get|did not get|never got|never was|never made it|didn't make it|did not make it|doesn't exist|does not exist|is missing|still isn't|still is not)\s+(?:provisioned\s+|created\s+|added\s+|synced\s+|set up\s+|there\s+)?(?:in|into|to|on)\s+(.+)$/i.exec(t);
  if (whyNot) return { kind: "why", identity: cleanName(whyNot[1]!), app: cleanName(whyNot[2]!), range: range(DEFAULT_WHY_DAYS), outcome: null, loose: false };
  const didGet = /^(?:did|has|have|was|were)\s+(.+?)\s+(?:get|got|gotten|been|make it|made it|end up)\s+(?:provisioned\s+|created\s+|added\s+|synced\s+|set up\s+)?(?:in|into|to|on)\s+(.+)$/i.exec(t);
  if (didGet) return { kind: "provisioned", identity: cleanName(didGet[1]!), app: cleanName(didGet[2]!) };
  const provisioned =
    /^(?:is|was|has|are)\s+(.+?)\s+(?:been\s+)?(?:provisioned|created|synced|set up|there|present|active|enabled)\s+(?:in|to|into|on)\s+(.+)$/i.exec(t) ??
    /^does\s+(.+?)\s+(?:exist|have an account)\s+in\s+(.+)$/i.exec(t) ??
    /^is\s+(.+?)\s+in\s+(.+)$/i.exec(t);
  if (provisioned) return { kind: "provisioned", identity: cleanName(provisioned[1]!), app: cleanName(provisioned[2]!) };

  const why =
    /^why\s+(?:(?:did|was|is|were|has|does|didn't|wasn't|isn't|hasn't|doesn't|won't|can't)\s+)?(.+?)\s+(?:not\s+)?(fail(?:ed|ing|s)?|get skipped|skipped|skip|error(?:ed)?|be provisioned|provisioned|provision|get provisioned|get created|created|synced|sync|work(?:ing)?)(?:\s+(?:in|to|for|on|into|with)\s+(.+))?$/i.exec(t);
  if (why) {
    const outcome = /fail|error/i.test(why[2]!) ? "failure" : /skip/i.test(why[2]!) ? "skipped" : null;
    return { kind: "why", identity: cleanName(why[1]!), app: why[3] ? cleanName(why[3]) : null, range: range(DEFAULT_WHY_DAYS), outcome, loose: false };
  }
  const wrong = /^what(?:'s| is|\s+went)\s+wrong\s+(?:with|for)\s+(.+?)(?:\s+(?:in|on|with|to)\s+(.+))?$/i.exec(t);
  if (wrong) return { kind: "why", identity: cleanName(wrong[1]!), app: wrong[2] ? cleanName(wrong[2]) : null, range: range(DEFAULT_WHY_DAYS), outcome: "failure", loose: false };

  const history =
    /^what\s+happened\s+(?:to|with)\s+(.+)$/i.exec(t) ??
    /^what's\s+(?:up|going on|new)\s+with\s+(.+)$/i.exec(t) ??
    /^(?:history|events|activity|timeline)\s+(?:of|for)\s+(.+)$/i.exec(t) ??
    /^show\s+(?:me\s+)?(.+?)(?:'s)?\s+(?:history|events|timeline)$/i.exec(t);
  if (history) return { kind: "history", identity: cleanName(history[1]!), range: range(DEFAULT_WHY_DAYS), loose: false };

  const list = parseList(t, range(DEFAULT_LIST_DAYS));
  if (list) return list;

  // "alice servicenow", "alice in servicenow": a name and maybe an app, no verb. The resolver checks both.
  const loose = /^([\p{L}][\p{L}.'\-]*(?:\s+(?!(?:in|on|at)\b)[\p{L}][\p{L}.'\-]*)?)(?:\s+(?:in|on|at|@)\s+|\s+)([\p{L}][\p{L}0-9 .'\-]*)$/u.exec(t);
  if (loose && t.split(" ").length <= 4) {
    return { kind: "why", identity: cleanName(loose[1]!), app: cleanName(loose[2]!), range: range(DEFAULT_WHY_DAYS), outcome: null, loose: true };
  }
  if (/^[\p{L}][\p{L}.'\-]*(?:\s+[\p{L}][\p{L}.'\-]*)?$/u.test(t) && t.length <= 40) {
    return { kind: "history", identity: cleanName(t), range: range(DEFAULT_WHY_DAYS), loose: true };
  }
  return { kind: "unknown", text: raw.trim() };
}

/** Kinds whose answer reads one app (or every app when none is named). */
type AppKinds = Extract<Question, { kind: "topErrors" | "activity" | "unresolvedMembers" }>;

/**
 * The apps the sentence names, wherever they are: a list or count that did not place one gets it
 * ("adobe failures last week"); a question about a "person" who is an app becomes the app's health
 * ("what's wrong with workday"); nothing named is dropped.
 */
function withApps(q: Question, text: string, lexicon: Lexicon, nowIso: string): Question {
  const mentions = findApps(text, lexicon);
  if (mentions.length === 0) return q;
  const first = mentions[0]!;
  /** The app a phrase is, as a whole ("workday", "payroll inbound"), or null. */
  const appOf = (phrase: string | null | undefined): string | null => {
    const m = phrase ? findApps(phrase, lexicon) : [];
    return m.length === 1 && m[0]!.start === 0 && m[0]!.end === questionWords(phrase!).length ? m[0]!.app : null;
  };
  switch (q.kind) {
    case "list":
    case "count": {
      const f = { ...q.filters };
      if (appOf(f.identity)) delete f.identity;
      // An app the source system phrase names ("users from Workday") is not the target.
      const sourceApps = new Set(f.sourceSystem ? findApps(f.sourceSystem, lexicon).map((x) => x.app) : []);
      if (!f.app && !mentions.some((m) => sourceApps.has(m.app))) f.app = first.app;
      return { ...q, filters: f };
    }
    case "topErrors":
    case "activity":
    case "unresolvedMembers":
      return q.app ? q : ({ ...q, app: first.app } as AppKinds);
    case "export":
      return { ...q, filters: { ...(q.filters ?? {}), ...(q.filters?.app ? {} : { app: first.app }) } };
    case "why":
    case "history": {
      const app = appOf(q.identity);
      if (app) return { kind: "health", app, range: q.loose ? lastDays(nowIso, DEFAULT_LIST_DAYS) : q.range, asPerson: q.identity };
      if (q.kind === "history") {
        // "what happened to alice in box": her events in that app.
        const inApp = /^(.+?)\s+(?:in|on|at|with|for)\s+(.+)$/i.exec(q.identity);
        if (inApp && appOf(inApp[2]!)) return { kind: "why", identity: cleanName(inApp[1]!), app: inApp[2]!, range: q.range, outcome: null, loose: q.loose };
      }
      return q;
    }
    case "unknown": {
      if (/\b(up|wrong|doing|going|health|healthy|status|state|ok|okay|working|broken)\b/i.test(text)) return { kind: "health", app: first.app, range: lastDays(nowIso, DEFAULT_LIST_DAYS) };
      return q;
    }
    default:
      return q;
  }
}
