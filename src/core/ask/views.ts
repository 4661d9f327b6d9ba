import { objectTypeNameOf, type JobActionKind } from "../actions";
import { appName, identityKind, identityLabel, skipReason, type ProvisioningEvent, type ProvisioningStep } from "../event";
import { SHARED_NOTE, scrubIds, type Audience } from "../privacy";
import { remedyFor, retryText } from "../remediation";
import { clipText } from "../text";
import { appIds, eventPortalUrl } from "../portalLinks";
import type { HelpViewModel } from "../help";
import type { AlertViewModel } from "../alerts/views";

/**
 * Card view-models: plain data the templates in cards/ bind to, plus a plain-text rendering for
 * the CLI. Pure: no I/O, no clock.
 */
/** Each card template in cards/ and the view-model it binds: the renderer is typed by this map. */
export interface CardViewModels {
  help: HelpViewModel;
  eventDetail: EventDetailViewModel;
  eventList: EventListViewModel;
  choice: ChoiceViewModel;
  info: InfoViewModel;
  stats: StatsViewModel;
  alert: AlertViewModel;
}

export type CardName = keyof CardViewModels;

/** An answer: one card with the view-model of that card, and its plain-text rendering. */
export type CardAnswer<C extends CardName> = { card: C; viewModel: CardViewModels[C]; text: string; offer?: ActionOffer };
export type Answer = { [C in CardName]: CardAnswer<C> }[CardName];

export interface Fact {
  title: string;
  value: string;
}

export interface CardAction {
  title: string;
  /** `details`: a changeId whose full card goes to the presser's personal chat (shared conversations). */
  data: { text: string; page?: number; open?: { pk: string; rk: string }; details?: string; jobAction?: Record<string, unknown> };
}

/**
 * What an answer may offer to act on (issue 26): the chat turns it into buttons only for a person
 * who may manage that app's provisioning, in their personal chat.
 */
export interface ActionOffer {
  servicePrincipalId: string;
  jobId: string;
  app: string;
  kinds: JobActionKind[];
  subject?: { objectId: string; objectTypeName: string; name: string };
}

const MAX_STEPS = 20;
const clip = (s: string, n: number) => clipText(s, n, "…");
const when = (iso: string) => (iso ? iso.replace("T", " ").replace(/(\.\d+)?Z$/, " UTC") : "");
const short = (iso: string) => (iso ? iso.slice(5, 16).replace("T", " ") : "");

const ACTION_WORDS: Record<string, string> = {
  create: "Create",
  update: "Update",
  delete: "Delete",
  disable: "Disable",
  stagedDelete: "Staged delete",
  other: "Other",
  unknownFutureValue: "Unknown",
};
const STATUS_WORDS: Record<string, string> = { success: "Success", failure: "Failure", skipped: "Skipped", warning: "Warning", unknownFutureValue: "Unknown" };
export const actionWord = (a: string) => ACTION_WORDS[a] ?? a;
export const statusWord = (s: string) => STATUS_WORDS[s] ?? s;
/**
 * Text colours on cards: only those with AA contrast in Teams' light, dark and high-contrast themes
 * (Default, Accent, Attention). Good (light green) and Warning (yellow) text is hard to read on
 * white, so success and skipped are plain text: the word says which.
 */
const statusColor = (s: string) => (s === "failure" ? "Attention" : "Default");

/** A step's extended details (what was imported, evaluated and written), as one line, ids scrubbed where shared. */
export function stepDetails(details: Record<string, string>, shared: boolean): string {
  return Object.entries(details)
    .filter(([, v]) => v !== "")
    .map(([k, v]) => `${k}: ${shared ? scrubIds(v) : v}`)
    .join(" · ");
}

export function explainSkip(e: ProvisioningEvent): string | null {
  const reason = skipReason(e);
  const scoping = e.steps.find((s) => s.type === "scoping");
  const failed = scoping ? Object.entries(scoping.details).filter(([k, v]) => v === "False" && k !== "ScopeEvaluationResult").map(([k]) => k) : [];
  switch (reason) {
    case "NotEffectivelyEntitled":
      return `Expected behaviour: this ${identityKind(e.sourceIdentity.identityType).toLowerCase()} is out of scope for the app${failed.length ? ` (${failed.map((f) => `${f}: False`).join("; ")})` : ""}. Assign it to the app or change the scoping filter if it should be provisioned.`;
    case "RedundantExport":
      return "Nothing to do: the source and the app already match, so no change was needed.";
    case "AttributeValidationFailed": {
      const prop = e.steps.map((s) => s.details["PropertyName"]).find(Boolean);
      return `A required value is missing or invalid in the source${prop ? ` (${prop})` : ""}. Fill it in; the next cycle picks it up.`;
    }
    case "AccidentalDeletionThresholdReached":
      return "The deletion was held back: the job reached its accidental-deletion threshold. Check why so many objects left scope; if the deletions are intended, allow them on the job's provisioning page.";
    default:
      if (e.action === "stagedDelete") return "The deletion was held back by the accidental-deletion threshold; an admin must allow deletions for it to proceed.";
      if (failed.length) return `Out of scope: ${failed.map((f) => `${f}: False`).join("; ")}.`;
      return reason ? `Skipped: ${reason}.` : null;
  }
}

export interface EventDetailViewModel {
  title: string;
  subtitle: string;
  statusColor: string;
  summary: Fact[];
  steps: { label: string; description: string; color: string; weight: string }[];
  hasError: boolean;
  error: Fact[];
  errorReason: string;
  hasExplanation: boolean;
  explanation: string;
  hasModified: boolean;
  modified: Fact[];
  note: string;
  hasNote: boolean;
  actions: CardAction[];
  /** The app's Provisioning page in the Entra admin center, when the record carries its ids. */
  portalUrl: string;
  hasPortalUrl: boolean;
  /** Microsoft's page documenting the error code (or its family). */
  learnMoreUrl: string;
  hasLearnMore: boolean;
}

/** What was clipped when the event was stored, in words, for the card's note. */
export function trimmedNote(e: Pick<ProvisioningEvent, "trimmed">): string {
  const list = e.trimmed ?? [];
  if (list.length === 0) return "";
  const shown = list.slice(0, 4).join("; ");
  return `Some values were too long to keep whole and were trimmed when stored: ${shown}${list.length > 4 ? `; and ${list.length - 4} more` : ""}.`;
}

export function eventDetail(e: ProvisioningEvent, extraNote = "", audience: Audience = "personal"): Answer {
  const shared = audience === "shared";
  const note = [extraNote, trimmedNote(e), shared ? SHARED_NOTE : ""].filter(Boolean).join(" ");
  const app = appName(e);
  const who = identityLabel(e);
  const name = e.sourceIdentity.displayName || e.targetIdentity.displayName || who;
  const kind = identityKind(e.sourceIdentity.identityType || e.targetIdentity.identityType);
  const failing = e.steps.findIndex((s) => s.status === "failure");
  const summary: Fact[] = [
    { title: "Identity", value: clip(`${name}${who !== name && !shared ? ` (${who})` : ""} · ${kind}`, 300) },
    ...(shared ? [] : [{ title: "Source ID", value: e.sourceIdentity.id || "—" }, { title: "Target ID", value: e.targetIdentity.id || "—" }]),
    { title: "App", value: app },
    { title: "Systems", value: `${e.sourceSystem.displayName || "?"} → ${e.targetSystem.displayName || "?"}` },
    { title: "Action", value: actionWord(e.action) },
    { title: "Status", value: statusWord(e.status) },
    { title: "Time", value: when(e.activityDateTime) },
    { title: "Duration", value: e.durationMs !== null ? `${e.durationMs} ms` : "—" },
    { title: "Change ID", value: e.changeId },
    { title: "Cycle ID", value: e.cycleId || "—" },
    { title: "Job ID", value: e.jobId || "—" },
  ];
  // Long step lists are cut to keep the card under Teams' 40 KB; the failing step always stays.
  const shown = e.steps.map((s, i) => ({ s, i })).filter(({ i }) => i < MAX_STEPS || i === failing);
  const stepRows = shown.map(({ s, i }: { s: ProvisioningStep; i: number }) => ({
    label: `Step ${i + 1} · ${s.type} · ${s.name} · ${statusWord(s.status)}`,
    description: clip([shared ? scrubIds(s.description) : s.description, stepDetails(s.details, shared)].filter(Boolean).join("\n"), 600),
    color: statusColor(s.status),
    weight: i === failing ? "Bolder" : "Default",
  }));
  const err = e.error;
  const remedy = err && err.code ? remedyFor(err.code, err.category, err.httpStatus) : null;
  const errorFacts: Fact[] = err
    ? [
        { title: "Error code", value: err.code || "—" },
        { title: "Category", value: err.category === "nonServiceFailure" ? "Non-service failure (data, configuration or the app)" : err.category === "failure" ? "Service failure" : err.category ?? "—" },
        ...(err.httpStatus ? [{ title: "HTTP status", value: err.httpStatus }] : []),
        ...(remedy ? [{ title: "Cause", value: remedy.cause }, { title: "What to do", value: remedy.fix }, { title: "Retry", value: retryText(remedy.retry, err.nextRetryAt) }] : []),
        ...(err.recommendedAction ? [{ title: "Microsoft recommends", value: err.recommendedAction }] : []),
      ]
    : [];
  const explanation = e.status === "skipped" || e.action === "stagedDelete" ? explainSkip(e) : null;
  const portal = eventPortalUrl(e);
  const vm: EventDetailViewModel = {
    title: clip(`${name}: ${actionWord(e.action).toLowerCase()} in ${app} · ${statusWord(e.status)}`, 300),
    subtitle: `${when(e.activityDateTime)} · ${e.sourceSystem.displayName || "?"} → ${e.targetSystem.displayName || "?"}`,
    statusColor: statusColor(e.status),
    summary,
    steps: stepRows,
    hasError: errorFacts.length > 0,
    error: errorFacts,
    errorReason: err?.reason && !shared ? readableReason(err.reason) : "",
    hasExplanation: Boolean(explanation),
    explanation: explanation ?? "",
    hasModified: e.modifiedProperties.length > 0,
    modified: e.modifiedProperties.slice(0, 40).map((m) => ({ title: clip(m.displayName, 100), value: shared ? "changed (values in a personal chat)" : `${clip(m.oldValue ?? "∅", 200)} → ${clip(m.newValue ?? "∅", 200)}` })),
    note: clip(note, 800),
    hasNote: Boolean(note),
    portalUrl: portal ?? "",
    hasPortalUrl: portal !== null,
    learnMoreUrl: remedy?.learnMore ?? "",
    hasLearnMore: Boolean(remedy?.learnMore),
    actions: [
      // Shared: the full card goes to the presser's personal chat, after their rights are checked.
      ...(shared ? [{ title: "Details (in my personal chat)", data: { text: "details", details: e.changeId } }] : []),
      { title: `History of ${name}`.slice(0, 60), data: { text: `what happened to ${shared ? name : who}` } },
      ...(err?.code ? [{ title: "Similar failures", data: { text: `failures with ${err.code} in ${app}` } }] : []),
    ],
  };
  const text = [
    vm.title,
    vm.subtitle,
    ...summary.map((f) => `  ${f.title}: ${f.value}`),
    "Steps:",
    ...stepRows.map((s) => `  ${s.label}${s.weight === "Bolder" ? "  <-- failed here" : ""}\n     ${s.description.replace(/\s+/g, " ").slice(0, 300)}`),
    ...(errorFacts.length ? ["Troubleshooting:", ...errorFacts.map((f) => `  ${f.title}: ${f.value}`), `  Reason: ${vm.errorReason.replace(/\n/g, " ").slice(0, 600)}`] : []),
    ...(explanation ? [`Why: ${explanation}`] : []),
    ...(vm.modified.length ? ["Modified properties:", ...vm.modified.map((m) => `  ${m.title}: ${m.value}`)] : []),
    ...(note ? [note] : []),
  ].join("\n");
  // The object this event is about may be provisioned on demand (issue 26): offered as a button to those who may act.
  const ids = appIds(e);
  const offer: ActionOffer | undefined =
    e.sourceIdentity.id && ids.servicePrincipalId && e.jobId
      ? { servicePrincipalId: ids.servicePrincipalId, jobId: e.jobId, app, kinds: ["provisionOnDemand"], subject: { objectId: e.sourceIdentity.id, objectTypeName: objectTypeNameOf(e.sourceIdentity.identityType, e.jobId), name } }
      : undefined;
  return { card: "eventDetail", viewModel: vm, text, ...(offer ? { offer } : {}) };
}

/** The reason text made readable: CRLF to newlines, an embedded JSON body pretty-printed briefly. */
export function readableReason(reason: string): string {
  let text = reason.replace(/\r\n?/g, "\n").trim();
  const web = /Web Response:\s*(\{.*\})/s.exec(text);
  if (web) {
    try {
      const body = JSON.parse(web[1]!) as Record<string, unknown>;
      const detail = body["detail"] ?? body["message"] ?? body["error"];
      if (detail) text = text.replace(web[1]!, `(${typeof detail === "string" ? detail : JSON.stringify(detail)})`);
    } catch {
      /* keep as is */
    }
  }
  return text.length > 1500 ? `${text.slice(0, 1500)}…` : text;
}

export interface ListRow {
  when: string;
  who: string;
  what: string;
  color: string;
  data: { text: string };
}

export interface EventListViewModel {
  title: string;
  subtitle: string;
  rows: ListRow[];
  hasRows: boolean;
  empty: string;
  hasMore: boolean;
  actions: CardAction[];
  portalUrl: string;
  hasPortalUrl: boolean;
}

export interface ListItem {
  at: string;
  who: string;
  app: string;
  action: string;
  status: string;
  errorCode: string;
  changeId: string;
  /** Where the event is stored, for rows whose index carries no changeId. */
  ref?: { pk: string; rk: string };
  /** UPN or other identifier, and User / Group: shown where they tell rows apart. */
  identity?: string;
  identityType?: string;
}

/**
 * Row labels that tell rows apart: the type when users and groups are mixed, the UPN when two
 * different people share a name. Also says whether a name repeats because one person has several
 * events on the page.
 */
export function distinctLabels(items: ListItem[]): { labels: string[]; repeats: boolean } {
  const types = new Set(items.map((i) => i.identityType).filter(Boolean));
  const idsByName = new Map<string, Set<string>>();
  for (const i of items) idsByName.set(i.who, (idsByName.get(i.who) ?? new Set()).add(i.identity ?? ""));
  let repeats = false;
  const labels = items.map((i) => {
    const ids = idsByName.get(i.who)!;
    const sameName = items.filter((x) => x.who === i.who).length > 1;
    if (sameName && ids.size === 1) repeats = true;
    const upn = ids.size > 1 && i.identity && i.identity !== i.who ? ` (${i.identity})` : "";
    const type = types.size > 1 && i.identityType ? ` · ${i.identityType}` : "";
    return `${i.who}${upn}${type}`;
  });
  // A page about one person repeats their name on every row: nothing to explain there.
  return { labels, repeats: repeats && idsByName.size > 1 };
}

const PARTICIPLES: Record<string, string> = { create: "created", update: "updated", delete: "deleted", disable: "disabled", stagedDelete: "held back for deletion", other: "other actions" };

/** "created", "disabled": an action as something that happened. */
export const participle = (a: string): string => (Object.hasOwn(PARTICIPLES, a) ? PARTICIPLES[a]! : a);

/** "Users deleted or disabled · Success", "Events · Failure with DuplicateTargetEntries". */
export function listTitle(f: { identityType?: string; actions?: string[]; status?: string; errorCode?: string }): string {
  const subject = f.identityType ? `${f.identityType}s` : "Events";
  const actions = f.actions?.length ? ` ${f.actions.map((a) => PARTICIPLES[a] ?? a).join(" or ")}` : "";
  const status = f.status ? ` · ${statusWord(f.status as ProvisioningEvent["status"])}` : "";
  return `${subject}${actions}${status}${f.errorCode ? ` with ${f.errorCode}` : ""}`;
}

/** What clicking a row sends: its changeId when known, else where the event is stored. */
export function openEvent(i: Pick<ListItem, "changeId" | "ref">): CardAction["data"] {
  if (i.changeId) return { text: `change ${i.changeId}` };
  return { text: "open this event", open: i.ref ?? { pk: "", rk: "" } };
}

export function eventList(title: string, subtitle: string, items: ListItem[], more: CardAction | null, empty: string, extra: CardAction[] = [], portalUrl: string | null = null): Answer {
  const { labels, repeats } = distinctLabels(items);
  if (repeats) subtitle = `${subtitle} · a name shown twice is two events`;
  const rows: ListRow[] = items.map((i, n) => ({
    when: short(i.at),
    who: labels[n]!,
    what: `${actionWord(i.action)} · ${statusWord(i.status)} · ${i.app}${i.errorCode ? ` · ${i.errorCode}` : ""}`,
    color: statusColor(i.status),
    data: openEvent(i),
  }));
  const vm: EventListViewModel = { title, subtitle, rows, hasRows: rows.length > 0, empty, hasMore: Boolean(more), actions: [...(more ? [more] : []), ...extra], portalUrl: portalUrl ?? "", hasPortalUrl: portalUrl !== null };
  const text = [title, subtitle, ...(rows.length ? rows.map((r) => `  ${r.when}  ${r.who}  ${r.what}  (${r.data.text})`) : [`  ${empty}`]), ...(more ? ["  (more: ask again with the next page)"] : [])].join("\n");
  return { card: "eventList", viewModel: vm, text };
}

export interface ChoiceViewModel {
  title: string;
  text: string;
  choices: CardAction[];
}

export function choice(title: string, text: string, choices: CardAction[]): Answer {
  return { card: "choice", viewModel: { title, text, choices: choices.slice(0, 8) } satisfies ChoiceViewModel, text: [title, text, ...choices.slice(0, 8).map((c) => `  - ${c.title}: "${c.data.text}"`)].join("\n") };
}

export interface InfoViewModel {
  title: string;
  text: string;
  facts: Fact[];
  hasFacts: boolean;
  actions: CardAction[];
}

export function info(title: string, text: string, facts: Fact[] = [], actions: CardAction[] = []): Answer {
  return {
    card: "info",
    viewModel: { title, text, facts, hasFacts: facts.length > 0, actions: actions.slice(0, 5) } satisfies InfoViewModel,
    text: [title, text, ...facts.map((f) => `  ${f.title}: ${f.value}`), ...actions.map((a) => `  try: "${a.data.text}"`)].join("\n"),
  };
}

export interface StatsViewModel {
  title: string;
  subtitle: string;
  header: string[];
  /** Relative column widths: narrow for numbers, wide for prose. */
  /** A relative weight, or pixels for narrow numeric columns so their headers stay whole. */
  columns: { width: number | string }[];
  rows: { cells: string[] }[];
  hasRows: boolean;
  empty: string;
  notes: Fact[];
  hasNotes: boolean;
  portalUrl: string;
  hasPortalUrl: boolean;
  /** Buttons the chat adds for those allowed (job actions); none by default. */
  actions: CardAction[];
}

export function stats(title: string, subtitle: string, header: string[], rows: string[][], notes: Fact[] = [], empty = "No events in this window.", portalUrl: string | null = null): Answer {
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[\d.,% ]*$/.test(r[i] ?? "")));
  const longest = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  // Narrow tables give number columns just the pixels their header needs ("Count" never breaks);
  // wide ones (a column per action) share the width by weight.
  const px = (h: string, i: number) => `${Math.max(56, 12 + 9 * Math.max(h.length, longest[i]!))}px`;
  const columns = header.map((h, i) => ({ width: numeric[i] ? (header.length <= 4 ? px(h, i) : 1) : longest[i]! > 60 ? 4 : 2 }));
  const vm: StatsViewModel = { title, subtitle, header, columns, rows: rows.map((cells) => ({ cells })), hasRows: rows.length > 0, empty, notes, hasNotes: notes.length > 0, portalUrl: portalUrl ?? "", hasPortalUrl: portalUrl !== null, actions: [] };
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ")}`;
  const text = [title, subtitle, line(header), ...(rows.length ? rows.map(line) : [`  ${empty}`]), ...notes.map((n) => `  ${n.title}: ${n.value}`)].join("\n");
  return { card: "stats", viewModel: vm, text };
}
