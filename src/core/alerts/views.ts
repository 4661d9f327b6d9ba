import { minuteLabel } from "../timeBuckets";
import type { ConversationType } from "../conversation";
import { remedyFor } from "../remediation";
import { waitsForAcknowledgement, type Incident } from "./incident";
import { RULE_LABELS, type AlertRule, type Subscription } from "./subscriptions";
import type { Thresholds } from "./rules";

/** Alert card view-models, pure. The same incident renders per conversation type. */
/** A button on the card: an action on the alert, or (no `alert`) a question asked for the admin. */
export interface AlertAction {
  title: string;
  data: { text: string; alert?: { action: "ack" | "mute" | "affected"; jobKey: string; rule: AlertRule; incident: string; minutes?: number } };
}

export interface AlertViewModel {
  title: string;
  status: string;
  statusColor: string;
  summary: string;
  facts: { title: string; value: string }[];
  hasStaged: boolean;
  staged: string;
  errors: { code: string; count: string; fix: string }[];
  hasErrors: boolean;
  affectedTitle: string;
  affected: { text: string }[];
  hasAffected: boolean;
  actions: AlertAction[];
  portalUrl: string;
  hasPortalUrl: boolean;
}

const when = (iso: string | null) => (iso ? minuteLabel(iso) + " UTC" : "");

const HEADLINES: Record<AlertRule, string> = {
  failureSpike: "Failure spike",
  removalBurst: "Burst of disables/deletes",
  silentJob: "Job gone quiet",
  newFailures: "New failures",
  jobQuarantined: "Job in quarantine",
  jobPaused: "Job paused",
  initialCycleCompleted: "Initial cycle completed",
  quarantineForecast: "Heading for quarantine",
};

/** Job-status alerts: their facts are their notes, and no events to show. */
const HEALTH: ReadonlySet<AlertRule> = new Set(["jobQuarantined", "jobPaused", "initialCycleCompleted", "quarantineForecast"]);

function statusLine(i: Incident): { status: string; statusColor: string } {
  // Only colours with AA contrast in every Teams theme (see ask/views.ts statusColor).
  if (i.status === "resolved") return { status: `Resolved ${when(i.resolvedAt)}: ${i.resolution ?? ""}`.trim(), statusColor: "Default" };
  if (i.ackBy) return { status: `Acknowledged by ${i.ackBy} at ${when(i.ackAt)}`, statusColor: "Accent" };
  if (i.rule === "initialCycleCompleted") return { status: `For information · ${when(i.since)}`, statusColor: "Accent" };
  if (waitsForAcknowledgement(i)) return { status: `Open since ${when(i.since)} · stays open until someone acknowledges it (going quiet does not undo disables or deletes)`, statusColor: "Attention" };
  return { status: `Open since ${when(i.since)}`, statusColor: i.rule === "removalBurst" || i.rule === "failureSpike" || i.rule === "jobQuarantined" ? "Attention" : "Accent" };
}

function countFact(i: Incident): { title: string; value: string } | null {
  if (HEALTH.has(i.rule)) return null;
  switch (i.rule) {
    case "silentJob":
      return { title: "Usual cycle", value: `every ${Math.round(i.baseline)} minutes; nothing since ${when(i.lastSeen)}` };
    case "newFailures":
      return { title: "Objects", value: `${i.count} newly failing` };
    default: {
      const what = i.rule === "failureSpike" ? "failures" : "disables/deletes";
      const base = i.baseline > 0 ? `usually ${i.baseline.toFixed(1)} per ${i.windowMinutes} min (${(i.count / i.baseline).toFixed(1)}×)` : `usually none in ${i.windowMinutes} min`;
      return { title: "Count", value: `${i.count} ${what}; ${base}` };
    }
  }
}

export function alertCard(i: Incident, conversationType: ConversationType): AlertViewModel {
  const ref = { jobKey: i.jobKey, rule: i.rule, incident: i.id };
  const people = conversationType === "personal";
  const affected = i.affected.map((a) => {
    const label = people && a.identity && a.identity !== a.name ? `${a.name} (${a.identity})` : a.name;
    const extra = [a.count && a.count > 1 ? `failed ${a.count}×` : "", a.errorCode ?? "", a.resolvedAt ? `resolved ${when(a.resolvedAt)}` : ""].filter(Boolean).join(" · ");
    return { text: extra ? `${label} · ${extra}` : label };
  });
  const facts = [
    { title: "App", value: i.app },
    { title: "Job", value: i.jobKey },
    ...[countFact(i)].filter((f): f is { title: string; value: string } => f !== null),
    ...(i.rule === "silentJob" || HEALTH.has(i.rule) ? [] : [{ title: "First / last", value: `${when(i.since)} → ${when(i.lastSeen)}` }]),
    ...(i.cycleId ? [{ title: "Cycle", value: i.cycleId }] : []),
    ...(i.notes ?? []),
  ];
  const actions: AlertAction[] = [];
  if (i.status === "open" && !i.ackBy) actions.push({ title: "Acknowledge", data: { text: "Acknowledge", alert: { action: "ack", ...ref } } });
  actions.push({ title: "Mute 1h", data: { text: `Mute ${i.app} for 1h`, alert: { action: "mute", minutes: 60, ...ref } } });
  actions.push({ title: "Mute 24h", data: { text: `Mute ${i.app} for 24h`, alert: { action: "mute", minutes: 1440, ...ref } } });
  if (i.rule !== "silentJob" && !HEALTH.has(i.rule)) actions.push({ title: "Show affected", data: { text: `Show affected in ${i.app}`, alert: { action: "affected", ...ref } } });
  // A job that needs an admin's hand (quarantined, paused, deletions held back): its health answer
  // carries the job actions as buttons, in a personal chat, for those who may act (issue 26). The
  // card itself, seen by every member of a channel, carries no action button.
  if (i.status === "open" && (i.rule === "jobQuarantined" || i.rule === "jobPaused" || i.stagedDeletes > 0)) actions.push({ title: "How is it doing?", data: { text: `how is ${i.app} doing?` } });
  // Heading for quarantine: what to fix first, and which objects fail (questions provbot answers).
  if (i.rule === "quarantineForecast") {
    actions.push({ title: "Top errors", data: { text: `top errors in ${i.app} this week` } });
    actions.push({ title: "Failing objects", data: { text: `failures in ${i.app} in the last 24 hours` } });
  }
  return {
    title: `${HEADLINES[i.rule]} · ${i.app}`,
    ...statusLine(i),
    summary: i.summary,
    facts,
    hasStaged: i.stagedDeletes > 0,
    staged: `Entra already held back ${i.stagedDeletes} deletion${i.stagedDeletes === 1 ? "" : "s"}: the job reached its accidental-deletion threshold. Nothing more is deleted until an admin allows it on the job's provisioning page, or raises the threshold.`,
    errors: i.topErrors.map(([code, n]) => ({ code, count: `${n}×`, fix: remedyFor(code, null, null).fix })),
    hasErrors: i.topErrors.length > 0,
    affectedTitle: people ? "Affected" : "Affected (names only here; Show affected for details)",
    affected,
    hasAffected: affected.length > 0,
    actions,
    portalUrl: i.portalUrl ?? "",
    hasPortalUrl: Boolean(i.portalUrl),
  };
}

export interface SettingsViewModel {
  title: string;
  text: string;
  facts: { title: string; value: string }[];
  hasFacts: boolean;
  actions: { title: string; data: { text: string } }[];
}

/** What `alerts` answers: this conversation's subscription and the thresholds that apply. */
export function settingsView(sub: Subscription | null, thresholds: { app: string; t: Thresholds }[], now: string): SettingsViewModel {
  const facts: { title: string; value: string }[] = [];
  let text: string;
  if (!sub || !sub.subscribed) {
    text = 'This conversation does not receive alerts. Type "subscribe" for every app, or "subscribe ServiceNow, Adobe".';
  } else {
    text = "This conversation receives provisioning alerts.";
    facts.push({ title: "Apps", value: sub.apps.length ? sub.apps.join(", ") : `every app${sub.exceptApps.length ? ` except ${sub.exceptApps.join(", ")}` : ""}` });
    facts.push({ title: "Alerts", value: sub.rules.map((r) => RULE_LABELS[r]).join(", ") });
    const mutes = Object.entries(sub.mutes).filter(([, until]) => until > now);
    if (mutes.length) facts.push({ title: "Muted", value: mutes.map(([app, until]) => `${app === "*" ? "everything" : app} until ${when(until)}`).join("; ") });
  }
  if (sub?.changedBy) facts.push({ title: "Last changed", value: `by ${sub.changedBy.name} on ${when(sub.changedBy.at)}` });
  // Apps with the same thresholds share one line ("every app" when they all do).
  const byText = new Map<string, string[]>();
  for (const { app, t } of thresholds) {
    const value = `failures ≥ ${t.failureMin} and ≥ ${t.failureMultiple}× baseline; disables/deletes ≥ ${t.removalMin} and ≥ ${t.removalMultiple}× baseline (or ≥ ${t.removalMin} in one cycle); per ${t.windowMinutes} min; silent after ${t.silentCycles} cycles`;
    byText.set(value, [...(byText.get(value) ?? []), app]);
  }
  for (const [value, apps] of byText) {
    const who = byText.size === 1 ? "every app" : apps.length > 3 ? `${apps.slice(0, 3).join(", ")} and ${apps.length - 3} more` : apps.join(", ");
    facts.push({ title: `Thresholds · ${who}`, value });
  }
  const actions = sub?.subscribed ? [{ title: "Unsubscribe", data: { text: "unsubscribe" } }] : [{ title: "Subscribe to every app", data: { text: "subscribe" } }];
  return { title: "Alerts in this conversation", text, facts, hasFacts: facts.length > 0, actions };
}
