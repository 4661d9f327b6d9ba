import { PROVISIONING_LOG_ROLES } from "./access";
import { isGuid } from "./text";
import { minuteLabel } from "./timeBuckets";

/**
 * Actions on a provisioning job from Teams (issue 26), pure: what each does in words, who may do it,
 * how a confirmation is bound and checked, how a command is read, and how Graph's provision-on-demand
 * answer becomes the portal's four steps. The Graph calls are in adapters/graph/jobControl.ts, the
 * flow in app/actions.ts.
 */
export type JobActionKind = "provisionOnDemand" | "restart" | "clearQuarantine" | "pause" | "start" | "allowDeletes";
export const JOB_ACTION_KINDS: readonly JobActionKind[] = ["provisionOnDemand", "restart", "clearQuarantine", "pause", "start", "allowDeletes"];

/**
 * The built-in Entra roles that may manage an app's provisioning in the admin center (and that
 * Graph's synchronization write operations list as least privileged for delegated calls), by role
 * template id. Owners of an application may manage their own application's provisioning too.
 * Readers (Reports Reader, Security Reader, Global Reader) may read the logs and not act.
 */
export const ACTION_ROLES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(PROVISIONING_LOG_ROLES).filter(([, name]) => ["Application Administrator", "Cloud Application Administrator", "Global Administrator"].includes(name)),
);

/** Whether a person may act on one app's job, from the same directory reads as the access rule. */
export function mayManage(facts: { roleTemplateIds: string[]; ownedServicePrincipalIds: string[] }, servicePrincipalId: string): { ok: true; why: string } | { ok: false } {
  const role = facts.roleTemplateIds.map((r) => r.toLowerCase()).find((r) => r in ACTION_ROLES);
  if (role) return { ok: true, why: ACTION_ROLES[role]! };
  const sp = servicePrincipalId.toLowerCase();
  if (sp && facts.ownedServicePrincipalIds.some((o) => o.toLowerCase() === sp)) return { ok: true, why: "owner of the application" };
  return { ok: false };
}

/** Which job actions a job's status allows (the job-health answer offers them). */
export function kindsForStatus(status: { code: string; scheduleState: string; quarantine: { reason: string } | null }): JobActionKind[] {
  const out: JobActionKind[] = [];
  if (status.code === "Quarantine") {
    if (/TooManyDeletes/i.test(status.quarantine?.reason ?? "")) out.push("allowDeletes");
    out.push("clearQuarantine");
  }
  out.push(status.code === "Paused" || /disabled|paused/i.test(status.scheduleState) ? "start" : "pause");
  out.push("restart");
  return out;
}

/** A job that brings workers in from HR (its objects are workers, named by their worker id). */
export const isHrInbound = (jobIdOrTemplate: string): boolean => /^(workday|successfactors)/i.test(jobIdOrTemplate);

/** Graph's provision-on-demand object type for a subject: Worker from HR, Group, else User. */
export function objectTypeNameOf(identityType: string, jobIdOrTemplate: string): string {
  if (/group/i.test(identityType)) return "Group";
  return isHrInbound(jobIdOrTemplate) ? "Worker" : "User";
}

/**
 * The object id provision on demand takes for an identity known by its canonical key ("i:<source
 * id>"): a worker id from HR for an inbound job, an Entra object id (a GUID) otherwise. An HR worker
 * id under the same name is not an outbound app's object; anything else: null.
 */
export function onDemandObjectId(identityKey: string, jobIdOrTemplate: string): string | null {
  if (!identityKey.startsWith("i:")) return null;
  const id = identityKey.slice(2);
  return isHrInbound(jobIdOrTemplate) || isGuid(id) ? id : null;
}

/** Microsoft Graph's limits for provision on demand. */
export const ON_DEMAND_GROUP_MAX_MEMBERS = 5;
export const ON_DEMAND_RATE = { max: 5, ms: 10_000 } as const;
/** How long a confirmation may be pressed. */
export const CONFIRM_TTL_MS = 10 * 60_000;

/** What an action is about: a job, and for provision on demand the object. */
export interface ActionTarget {
  kind: JobActionKind;
  /** A restart narrowed to one of RESTART_SCOPES ("" or absent: the admin center's Restart). */
  scope?: string;
  jobKey: string;
  jobId: string;
  servicePrincipalId: string;
  app: string;
  tenantId: string;
  subject?: { objectId: string; objectTypeName: string; name: string };
}

/** A confirmation waiting for its press, bound to one person, one conversation and one job. */
export interface PendingAction extends ActionTarget {
  token: string;
  userObjectId: string;
  userName: string;
  conversationId: string;
  createdAt: string;
  expiresAt: string;
  /** Allow deletes asks twice: 1 is the first confirmation, 2 the second. */
  stage: 1 | 2;
  state: "pending" | "used" | "cancelled";
  /** Filled at confirmation time, shown on the card: e.g. the pending deletes. */
  count?: number;
}

export type ConfirmCheck = { ok: true } | { ok: false; why: "missing" | "used" | "expired" | "person" | "conversation" };

/** Whether a press may confirm this pending action: only its person, in its conversation, before it expires, once. */
export function checkConfirmation(p: PendingAction | null, presser: string, conversationId: string, now: string): ConfirmCheck {
  if (!p) return { ok: false, why: "missing" };
  if (p.state !== "pending") return { ok: false, why: "used" };
  if (p.userObjectId.toLowerCase() !== presser.toLowerCase()) return { ok: false, why: "person" };
  if (p.conversationId !== conversationId) return { ok: false, why: "conversation" };
  if (Date.parse(now) >= Date.parse(p.expiresAt)) return { ok: false, why: "expired" };
  return { ok: true };
}

export const CONFIRM_REFUSALS: Record<Exclude<ConfirmCheck, { ok: true }>["why"], string> = {
  missing: "This confirmation is not known. Nothing was done.",
  used: "This confirmation was already used. Nothing more was done.",
  expired: "This confirmation expired. Nothing was done; ask again for a new one.",
  person: "Only the person who asked can confirm this. Nothing was done.",
  conversation: "This confirmation belongs to another conversation. Nothing was done.",
};

/**
 * The narrower restarts Graph offers (synchronizationJobRestartCriteria.resetScope), each in words.
 * The admin center's Restart is the empty scope (about QuarantineState, Watermark and Escrows
 * together); ForceDeletes is Allow deletes; ConnectorDataStore and None are not offered (Graph's
 * documentation says not to use them).
 */
export const RESTART_SCOPES: Readonly<Record<string, { title: string; words: string }>> = {
  Watermark: { title: "Reset the watermark only", words: "re-evaluates every object in scope instead of only the changes since the last cycle; failing objects keep their retries" },
  Escrows: { title: "Clear the escrows only", words: "stops retrying the objects that keep failing (they are tried again only when they change); the watermark is kept" },
  QuarantineState: { title: "Lift the quarantine only", words: "lifts the quarantine for now without clearing any state; if the cause is not fixed it comes back" },
};

/** The Graph restart scope per action (null: not a restart). */
export function resetScopeOf(kind: JobActionKind): string | null {
  if (kind === "restart") return "";
  if (kind === "allowDeletes") return "ForceDeletes";
  return null;
}

export const ACTION_TITLES: Record<JobActionKind, string> = {
  provisionOnDemand: "Provision on demand",
  restart: "Restart provisioning",
  clearQuarantine: "Clear the quarantine",
  pause: "Pause provisioning",
  start: "Start provisioning",
  allowDeletes: "Allow deletes",
};

/** What will happen, in words, for the confirmation card. */
export function actionWarning(t: ActionTarget, facts: { quarantineReason?: string | null; pendingDeletes?: number | null; threshold?: number | null; stage?: 1 | 2 } = {}): string {
  switch (t.kind) {
    case "provisionOnDemand":
      return `Provisions ${t.subject?.name ?? "this object"} to ${t.app} now, outside the regular cycle, with the job's current mappings and scoping filters (the admin center's Provision on demand). It changes ${t.app} for real.`;
    case "restart":
      return `A restart clears the job's state (its watermark, and the retries of objects that keep failing) and lifts a quarantine, then runs a full cycle over every object in scope. In a large tenant that cycle can take many hours, and changes made meanwhile wait for it. Narrower restarts: ${Object.values(RESTART_SCOPES)
        .map((r) => `${r.title.toLowerCase()} (${r.words})`)
        .join("; ")}.`;
    case "clearQuarantine":
      return `Clears the quarantine and starts the job again where it stopped${facts.quarantineReason ? ` (quarantined for ${facts.quarantineReason})` : ""}. If the cause is not fixed, Entra quarantines the job again at its next attempt.`;
    case "pause":
      return `Stops provisioning to ${t.app} until someone starts it again. Nothing is lost: the job keeps its state and continues where it left off.`;
    case "start":
      return `Starts provisioning to ${t.app} again, where it left off.`;
    case "allowDeletes": {
      const n = facts.pendingDeletes;
      const what = n === null || n === undefined ? "the deletions Entra held back" : `${n.toLocaleString("en-US")} pending deletion${n === 1 ? "" : "s"}`;
      const why = `Entra held them back because the job reached its accidental-deletion threshold${facts.threshold ? ` (${facts.threshold.toLocaleString("en-US")})` : ""}.`;
      return facts.stage === 2
        ? `Second confirmation: this deletes ${what} in ${t.app}. Deleted accounts lose their data in ${t.app}, and provbot cannot undo it.`
        : `Restarts the job forcing ${what} in ${t.app}. ${why} Check that these deletions are intended first (Show affected on the burst card).`;
    }
  }
}

/** A command typed in chat: which action, on which app (as typed), and for provision on demand who. */
export interface ActionCommand {
  kind: JobActionKind;
  app: string;
  who?: string;
}

const TAIL = /\s*(?:\s+(?:provisioning|sync|synchronization))?(?:\s+job)?(?:\s+(?:now|please|asap))*\s*[.!?]*$/i;

export function parseActionCommand(input: string): ActionCommand | null {
  const c = readCommand(input);
  return c && !ABOUT_ALERTS.test(c.app) && c.app !== "" ? c : null;
}

function readCommand(input: string): ActionCommand | null {
  const text = input.replace(/\s+/g, " ").trim().replace(/^(?:please|pls|can you|could you)\s+/i, "");
  if (text.length > 300) return null;
  let m = /^(?:provision|push|sync)\s+(?:on[- ]demand\s+)?(.+?)\s+(?:in|to|into|for)\s+(.+?)(?:\s+on[- ]demand)?(?:\s+(?:now|please|asap))*\s*[.!?]*$/i.exec(text);
  if (m && !/^(?:on[- ]demand)$/i.test(m[1]!)) return { kind: "provisionOnDemand", who: m[1]!.trim(), app: strip(m[2]!) };
  m = /^(?:allow|release|approve|force)\s+(?:the\s+)?(?:pending\s+|held[- ]back\s+|staged\s+)?(?:deletes|deletions|deletes?)\s+(?:in|for|on|to)\s+(.+)$/i.exec(text);
  if (m) return { kind: "allowDeletes", app: strip(m[1]!) };
  m = /^(?:clear|lift|release)\s+(?:the\s+)?quarantine\s+(?:of|on|for|in)\s+(.+)$/i.exec(text) ?? /^(?:clear|lift|release)\s+(?:the\s+)?(.+?)\s+quarantine\s*[.!?]*$/i.exec(text);
  if (m) return { kind: "clearQuarantine", app: strip(m[1]!) };
  m = /^restart\s+(?:the\s+)?(.+)$/i.exec(text);
  if (m) return { kind: "restart", app: strip(m[1]!) };
  m = /^(?:pause|stop|suspend)\s+(?:the\s+)?(.+)$/i.exec(text);
  if (m) return { kind: "pause", app: strip(m[1]!) };
  m = /^(?:start|resume|unpause)\s+(?:the\s+)?(.+)$/i.exec(text);
  if (m) return { kind: "start", app: strip(m[1]!) };
  return null;
}

/** "stop alerts", "pause notifications for Box": about provbot's alerts, not a job. */
const ABOUT_ALERTS = /^(?:all\s+)?(?:the\s+)?(?:alerts?|notifications?|messages|subscriptions?|digests?|cards?)\b/i;

function strip(app: string): string {
  return app.replace(TAIL, "").replace(/^the\s+/i, "").replace(/['’]s$/i, "").trim();
}

/** "what did provbot do this week" and its kin: the action log. */
export function isActionLogQuestion(text: string): boolean {
  return /^(?:what|which)\s+(?:did|has)\s+provbot\s+(?:do|done|change|changed)\b|^(?:show\s+)?(?:the\s+)?(?:provbot\s+)?action(?:s)?\s+(?:log|history)\b|^provbot\s+actions?\b/i.test(text.trim());
}

/** One step of a provision-on-demand result, as the portal shows it. */
export interface OnDemandStep {
  name: string;
  type: string;
  status: string;
  description: string;
  details: Record<string, string>;
}

/** The four steps the portal groups an on-demand result into. */
export const ON_DEMAND_PHASES = ["Import", "Determine if in scope", "Match between source and target", "Perform action"] as const;

const phaseOf = (s: OnDemandStep): number => {
  // The step's type decides (a matching step is also named EntryImport); its name only when it has none.
  const type = s.type.toLowerCase();
  if (type) return /import/.test(type) ? 0 : /scop/.test(type) ? 1 : /match/.test(type) ? 2 : 3;
  const t = s.name.toLowerCase();
  if (/scop/.test(t)) return 1;
  if (/match|entryimport\b|synchronization(add|update|delete)/.test(t) && !/import(add|update|delete)/.test(t)) return 2;
  if (/export|action|skip/.test(t)) return 3;
  return 0;
};

/**
 * Graph's provisionOnDemand answer: a stringKeyStringValuePair whose value is JSON text (sometimes
 * encoded twice) holding provisioningSteps. Hostile until proven otherwise: anything else is null.
 */
export function parseOnDemandResult(body: unknown): { steps: OnDemandStep[]; status: "success" | "failure" | "skipped" } | null {
  let value: unknown = (body as { value?: unknown } | null)?.value ?? body;
  for (let i = 0; i < 3 && typeof value === "string"; i++) {
    try {
      value = JSON.parse(value);
    } catch {
      return null;
    }
  }
  const holder = Array.isArray(value) ? value[0] : value;
  const raw = (holder as { provisioningSteps?: unknown } | null)?.provisioningSteps;
  if (!Array.isArray(raw)) return null;
  const str = (v: unknown, max = 2000) => (typeof v === "string" ? v.slice(0, max) : typeof v === "number" || typeof v === "boolean" ? String(v) : "");
  const steps: OnDemandStep[] = raw.slice(0, 40).map((s) => {
    const o = (s ?? {}) as Record<string, unknown>;
    const details: Record<string, string> = {};
    if (o["details"] && typeof o["details"] === "object") for (const [k, v] of Object.entries(o["details"] as Record<string, unknown>).slice(0, 40)) details[k.slice(0, 200)] = str(v, 500);
    return { name: str(o["name"], 200), type: str(o["type"] ?? o["provisioningStepType"], 50), status: str(o["status"], 30), description: str(o["description"]), details };
  });
  const st = steps.map((s) => s.status.toLowerCase());
  const status = st.includes("failure") || st.includes("failed") ? "failure" : st.includes("skipped") ? "skipped" : "success";
  return { steps, status };
}

/** The steps grouped into the portal's four phases, each with its worst status. */
export function onDemandPhases(steps: OnDemandStep[]): { phase: string; status: string; steps: OnDemandStep[] }[] {
  const groups = ON_DEMAND_PHASES.map((phase) => ({ phase, status: "", steps: [] as OnDemandStep[] }));
  for (const s of steps) groups[phaseOf(s)]!.steps.push(s);
  for (const g of groups) {
    const st = g.steps.map((s) => s.status.toLowerCase());
    g.status = g.steps.length === 0 ? "not reached" : st.some((x) => x.startsWith("fail")) ? "failure" : st.includes("skipped") ? "skipped" : "success";
  }
  return groups;
}

/** One line of the action log. */
export interface ActionRecord {
  at: string;
  kind: JobActionKind;
  outcome: "done" | "failed" | "throttled" | "refused" | "cancelled";
  userObjectId: string;
  userName: string;
  app: string;
  jobId: string;
  servicePrincipalId: string;
  tenantId: string;
  subject: string;
  /** Graph's answer in a few words (status and code), or why it was refused. */
  detail: string;
  conversationId: string;
}

export function actionLogLine(r: ActionRecord): string {
  return `${minuteLabel(r.at)} UTC · ${ACTION_TITLES[r.kind]}${r.subject ? ` ${r.subject}` : ""} in ${r.app} · ${r.outcome} · by ${r.userName || r.userObjectId}${r.detail ? ` · ${r.detail}` : ""}`;
}
