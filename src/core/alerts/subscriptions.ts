import { normaliseName } from "../names";
import type { ConversationTarget } from "../conversation";
import { DEFAULT_THRESHOLDS, type RuleName, type Thresholds } from "./rules";

/**
 * Who receives which alerts, pure. A conversation is known from the moment the bot is installed
 * (its target is refreshed on every message); it receives alerts only once it has subscribed.
 */
/** The rules a conversation can subscribe to: exactly the rules that exist. */
export type AlertRule = RuleName;

/** The rules a plain `subscribe` turns on; the new-failures digest is opt-in. */
export const DEFAULT_RULES: AlertRule[] = ["failureSpike", "removalBurst", "silentJob", "jobQuarantined", "jobPaused", "initialCycleCompleted", "quarantineForecast"];
export const ALL_RULES: AlertRule[] = ["failureSpike", "removalBurst", "silentJob", "newFailures", "jobQuarantined", "jobPaused", "initialCycleCompleted", "quarantineForecast"];

export const RULE_LABELS: Record<AlertRule, string> = {
  failureSpike: "failure spikes",
  removalBurst: "bursts of disables/deletes",
  silentJob: "silent jobs",
  newFailures: "new failures digest",
  jobQuarantined: "quarantined jobs",
  jobPaused: "paused jobs",
  initialCycleCompleted: "initial cycles completed",
  quarantineForecast: "quarantine forecasts",
};

export interface Subscription {
  target: ConversationTarget;
  subscribed: boolean;
  /** App names (as the jobs table knows them); empty means every app. */
  apps: string[];
  /** Apps excluded after subscribing to every app. */
  exceptApps: string[];
  rules: AlertRule[];
  /** Normalised app name ("*" for every app) -> muted until (ISO). */
  mutes: Record<string, string>;
  updatedAt: string;
  /** Who last subscribed, unsubscribed or muted here (shown by "alerts"); null before anyone did. */
  changedBy: { name: string; aadObjectId: string; at: string } | null;
}

export function newSubscription(target: ConversationTarget, now: string): Subscription {
  return { target, subscribed: false, apps: [], exceptApps: [], rules: [...DEFAULT_RULES], mutes: {}, updatedAt: now, changedBy: null };
}

const same = (a: string, b: string) => normaliseName(a) === normaliseName(b);

/** Does this conversation want this alert now? */
export function wants(sub: Subscription, app: string, rule: AlertRule, now: string): boolean {
  if (!sub.subscribed || !sub.rules.includes(rule)) return false;
  if (sub.apps.length > 0 && !sub.apps.some((a) => same(a, app))) return false;
  if (sub.exceptApps.some((a) => same(a, app))) return false;
  return mutedUntil(sub, app, now) === null;
}

export function mutedUntil(sub: Subscription, app: string, now: string): string | null {
  const until = [sub.mutes[normaliseName(app)], sub.mutes["*"]].filter((u): u is string => Boolean(u) && u! > now).sort();
  return until[until.length - 1] ?? null;
}

// ---- Commands -------------------------------------------------------------------------------

export type AlertCommand =
  | { kind: "subscribe"; apps: string[]; rules: AlertRule[] | null }
  | { kind: "unsubscribe"; apps: string[]; rules: AlertRule[] | null }
  | { kind: "alerts" }
  | { kind: "mute"; app: string | null; minutes: number }
  | { kind: "unmute"; app: string | null }
  | { kind: "threshold"; app: string; setting: ThresholdSetting; value: number }
  | { kind: "invalid"; command: string; reason: string };

export type ThresholdSetting = "failures" | "failureMultiple" | "removals" | "removalMultiple" | "silentCycles" | "window";

const RULE_WORDS: [RegExp, AlertRule][] = [
  [/^(failure spikes?|failures?|spikes?|errors?)$/, "failureSpike"],
  [/^(bursts?|removals?|disables?|deletes?|deletions?|disables?\/deletes?|disables and deletes)$/, "removalBurst"],
  [/^(silen(t|ce)( jobs?)?|quiet( jobs?)?|stalls?|stalled)$/, "silentJob"],
  [/^(digest|new failures?( digest)?|new failing objects?)$/, "newFailures"],
  [/^(quarantines?|quarantined( jobs?)?)$/, "jobQuarantined"],
  [/^(paused?( jobs?)?|pauses|disabled jobs?)$/, "jobPaused"],
  [/^(initial cycles?( completed)?|initial sync)$/, "initialCycleCompleted"],
  [/^(forecasts?|quarantine forecasts?)$/, "quarantineForecast"],
];

const THRESHOLD_WORDS: [RegExp, ThresholdSetting][] = [
  [/^(failures?|failure ?min)$/, "failures"],
  [/^(failure ?multiple|failures? ?x|failure baseline)$/, "failureMultiple"],
  [/^(removals?|disables?|deletes?|removal ?min)$/, "removals"],
  [/^(removal ?multiple|removals? ?x|removal baseline)$/, "removalMultiple"],
  [/^(silen(t|ce)|silent ?cycles|quiet)$/, "silentCycles"],
  [/^(window|window ?minutes)$/, "window"],
];

/** Splits "ServiceNow, Adobe and Box" into names. */
function list(text: string): string[] {
  return text
    .split(/\s*(?:,|;|\band\b|&)\s*/i)
    .map((s) => s.trim())
    .filter(Boolean);
}

function rulesFrom(words: string[]): { rules: AlertRule[]; unknown: string[] } {
  const rules: AlertRule[] = [];
  const unknown: string[] = [];
  for (const w of words) {
    const hit = RULE_WORDS.find(([re]) => re.test(w.toLowerCase()));
    if (hit) {
      if (!rules.includes(hit[1])) rules.push(hit[1]);
    } else unknown.push(w);
  }
  return { rules, unknown };
}

/** "2h", "90 minutes", "1 day", "30m" -> minutes. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(m|min|mins|minutes?|h|hr|hrs|hours?|d|days?)$/i.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase();
  const minutes = unit.startsWith("d") ? n * 1440 : unit.startsWith("h") ? n * 60 : n;
  return minutes > 0 && minutes <= 30 * 1440 ? Math.round(minutes) : null;
}

function subscription(kind: "subscribe" | "unsubscribe", rest: string): AlertCommand {
  // "subscribe ServiceNow, Adobe to failures and removals" | "subscribe to digest" | "subscribe"
  const m = /^(.*?)(?:^|\s+)(?:to|for|on)\s+(.+)$/i.exec(rest);
  const appsPart = m ? m[1]!.trim() : rest;
  const rulesPart = m ? m[2]!.trim() : "";
  if (!m) {
    // "subscribe failures" (rules only) is accepted when every word is a rule.
    const asRules = rulesFrom(list(appsPart));
    if (appsPart && asRules.unknown.length === 0) return { kind, apps: [], rules: asRules.rules };
    return { kind, apps: list(appsPart), rules: null };
  }
  const { rules, unknown } = rulesFrom(list(rulesPart));
  if (unknown.length > 0) {
    return { kind: "invalid", command: kind, reason: `I do not know the alert kind "${unknown[0]}". Use failures, removals, silence, digest, quarantine, paused, initial cycle or forecast.` };
  }
  return { kind, apps: list(appsPart), rules };
}

/** Recognises alert commands; returns null for anything else (a question). */
export function parseAlertCommand(raw: string): AlertCommand | null {
  const text = raw.replace(/\s+/g, " ").trim().replace(/[.!]$/, "");
  const lower = text.toLowerCase();
  let m: RegExpExecArray | null;
  if ((m = /^(un)?subscribe\b\s*(.*)$/i.exec(text))) return subscription(m[1] ? "unsubscribe" : "subscribe", m[2]!.trim());
  if (/^(alerts|my alerts|alert settings|subscriptions?|show alerts|list alerts)$/.test(lower)) return { kind: "alerts" };
  if ((m = /^unmute\b\s*(.*)$/i.exec(text))) return { kind: "unmute", app: m[1]!.trim() || null };
  if ((m = /^mute\b\s*(.*)$/i.exec(text))) {
    const rest = m[1]!.trim();
    const f = /^(.*?)\s*\bfor\s+(.+)$/i.exec(rest);
    const app = (f ? f[1]! : rest).trim() || null;
    const minutes = f ? parseDuration(f[2]!) : 60;
    if (minutes === null) return { kind: "invalid", command: "mute", reason: `I could not read "${f![2]}" as a duration. Try "mute ${app ?? "ServiceNow"} for 2h" (minutes, hours or days, at most 30 days).` };
    return { kind: "mute", app: app && !/^(all|everything|alerts)$/i.test(app) ? app : null, minutes };
  }
  if ((m = /^(?:set )?thresholds?\b\s*(.*)$/i.exec(text))) {
    // "threshold ServiceNow failures 20" | "threshold Adobe Identity Management removal multiple to 5"
    const words = m[1]!.trim().split(" ").filter((w) => !/^(=|to)$/i.test(w));
    const value = Number(words.pop());
    for (let n = 1; n <= 2 && Number.isFinite(value) && words.length > n; n++) {
      const phrase = words.slice(-n).join(" ").toLowerCase();
      const setting = THRESHOLD_WORDS.find(([re]) => re.test(phrase))?.[1];
      if (setting) return { kind: "threshold", app: words.slice(0, -n).join(" "), setting, value };
    }
    return { kind: "invalid", command: "threshold", reason: 'Use "threshold <app> <failures|failure multiple|removals|removal multiple|silent cycles|window> <number>", for example "threshold ServiceNow failures 25".' };
  }
  return null;
}

// ---- Thresholds -----------------------------------------------------------------------------

const LIMITS: Record<ThresholdSetting, [keyof Thresholds, number, number]> = {
  failures: ["failureMin", 1, 100_000],
  failureMultiple: ["failureMultiple", 1, 100],
  removals: ["removalMin", 1, 100_000],
  removalMultiple: ["removalMultiple", 1, 100],
  silentCycles: ["silentCycles", 2, 48],
  window: ["windowMinutes", 5, 240],
};

/** Applies one setting; returns the reason when the value is out of range. */
export function applyThreshold(current: Thresholds, setting: ThresholdSetting, value: number): Thresholds | string {
  const [field, min, max] = LIMITS[setting];
  if (!(value >= min && value <= max)) return `${setting} must be between ${min} and ${max}.`;
  return { ...current, [field]: value };
}

/**
 * Thresholds belong to one job of one tenant: an admin of tenant B who names an app called like
 * one of tenant A's changes only B's job. The key of a job's overrides.
 */
export function thresholdKey(tenantId: string | undefined, jobKey: string): string {
  return `${(tenantId ?? "").trim().toLowerCase()}|${jobKey}`;
}

/** A job's thresholds: the defaults with its overrides (`perJob` is keyed by thresholdKey). */
export function thresholdsFor(key: string, perJob: Record<string, Partial<Thresholds>>, base: Thresholds = DEFAULT_THRESHOLDS): Thresholds {
  return { ...base, ...(Object.hasOwn(perJob, key) ? perJob[key] : {}) };
}

/** The subscription after "subscribe [apps] [rules]" (pure; the command resolves the app names). */
export function subscribeTo(sub: Subscription, apps: string[], rules: AlertRule[] | null): Subscription {
  const same = (a: string) => apps.some((x) => normaliseName(x) === normaliseName(a));
  // No apps named, or already subscribed to every app: every app (minus nothing named here).
  const everyApp = apps.length === 0 || (sub.subscribed && sub.apps.length === 0);
  const nextApps = everyApp ? [] : [...new Set([...(sub.subscribed ? sub.apps : []), ...apps])];
  const exceptApps = apps.length === 0 ? [] : sub.exceptApps.filter((a) => !same(a));
  // Rules add to what a subscribed conversation has; a first subscribe gets the defaults unless it
  // names rules, and "subscribe to digest" alone means the defaults plus the digest.
  // A plain "subscribe" on a subscribed conversation adds the default kinds it lacks (kinds added
  // to provbot since it subscribed, or one it turned off).
  const start = sub.subscribed ? (rules === null ? [...sub.rules, ...DEFAULT_RULES] : sub.rules) : rules === null || (rules.length === 1 && rules[0] === "newFailures") ? DEFAULT_RULES : [];
  return { ...sub, subscribed: true, apps: nextApps, exceptApps, rules: [...new Set([...start, ...(rules ?? [])])] };
}

/** The subscription after "unsubscribe [apps] [rules]". */
export function unsubscribeFrom(sub: Subscription, apps: string[], rules: AlertRule[] | null): Subscription {
  if (rules && apps.length === 0) {
    const left = sub.rules.filter((r) => !rules.includes(r));
    return { ...sub, rules: left, subscribed: sub.subscribed && left.length > 0 };
  }
  if (apps.length === 0) return { ...sub, subscribed: false };
  const same = (a: string) => apps.some((x) => normaliseName(x) === normaliseName(a));
  if (sub.apps.length === 0) return { ...sub, exceptApps: [...new Set([...sub.exceptApps, ...apps])] };
  const left = sub.apps.filter((a) => !same(a));
  return { ...sub, apps: left, subscribed: sub.subscribed && left.length > 0 };
}
