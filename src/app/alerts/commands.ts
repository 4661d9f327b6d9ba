import { isRemoval, REMOVAL_ACTIONS } from "../../core/counts";
import { minuteLabel } from "../../core/timeBuckets";
import type { ChatUser, ConversationTarget } from "../../core/conversation";
import { normaliseName } from "../../core/names";
import type { Thresholds } from "../../core/alerts/rules";
import { acknowledge, type Incident } from "../../core/alerts/incident";
import { ALL_RULES, RULE_LABELS, applyThreshold, newSubscription, subscribeTo, thresholdKey, thresholdsFor, unsubscribeFrom, type AlertCommand, type AlertRule, type Subscription } from "../../core/alerts/subscriptions";
import { settingsView } from "../../core/alerts/views";
import { eventList, info, type Answer } from "../../core/ask/views";
import { PAGE, pageLine } from "../answer/common";
import type { Clock } from "../ports";
import type { EventRow, JobInfo, QueryStore } from "../queryPorts";
import { matchApp } from "../resolve";
import { incidentOfJob } from "../../core/alerts/rules";
import { refOf, type AlertLog, type AlertOutbox, type IncidentStore, type SubscriptionStore, type ThresholdStore } from "../alertPorts";
import type { AlertEvaluator } from "./evaluate";
import { isoPlus } from "./time";
import { storeFor } from "../scope";
import { PROVISIONING_LOG_ROLES, THRESHOLD_ROLES, type Access } from "../../core/access";

/** Without an access rule (tests, the local demo): everyone may do everything. */
const EVERYONE: Access = { kind: "all", thresholds: true, why: "no access rule" };

/**
 * The alert commands of the chat (subscribe, unsubscribe, mute, unmute, thresholds, alerts) and
 * the buttons on alert cards (acknowledge, mute, show affected). The subscription edits themselves
 * are pure (core/alerts/subscriptions.ts); this resolves app names and stores the result.
 */
export interface CommandDeps {
  subs: SubscriptionStore;
  incidents: IncidentStore;
  thresholds: ThresholdStore;
  query: QueryStore;
  evaluator: AlertEvaluator;
  outbox: AlertOutbox;
  clock: Clock;
  log?: AlertLog;
  /** A conversation reads only its own tenant's data, and any granted to it (src/app/scope.ts). */
  tenantScoped?: boolean;
  tenantGrants?: Readonly<Record<string, string[]>>;
}

export class AlertCommandHandler {
  constructor(private readonly deps: CommandDeps) {}

  private queryFor(target: ConversationTarget, access: Access): QueryStore {
    return storeFor(this.deps.query, this.deps.tenantScoped === true, target.tenantId, access, this.deps.tenantGrants);
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  async command(cmd: AlertCommand, target: ConversationTarget, from: ChatUser, access: Access = EVERYONE): Promise<Answer> {
    const now = this.now();
    const changedBy = { name: from.name || from.id, aadObjectId: from.aadObjectId ?? "", at: now };
    // save() merges the target in, so the row exists afterwards even if seen() skipped its write.
    const sub = (await this.deps.subs.get(target.conversationId)) ?? newSubscription(target, now);
    // Commands are rare and must see a job that started sending a moment ago; only this tenant's.
    const jobs = await this.queryFor(target, access).jobs(true);
    switch (cmd.kind) {
      case "invalid":
        return info(`Could not ${cmd.command}`, cmd.reason);
      case "alerts":
        return this.settings(sub, jobs);
      case "subscribe":
      case "unsubscribe": {
        // An application owner subscribes to their own apps, never to "every app".
        const named = access.kind === "owner" && cmd.kind === "subscribe" && cmd.apps.length === 0 ? [...new Set(jobs.map((j) => j.app))] : cmd.apps;
        if (access.kind === "owner" && cmd.kind === "subscribe" && named.length === 0) return info("Nothing to subscribe to", "None of the applications you own has sent provisioning events yet.");
        const apps = resolveApps(named, jobs);
        if ("unknown" in apps) return info("Unknown app", apps.unknown);
        // Applied to the stored subscription under its ETag: an edit made at the same moment elsewhere is kept.
        const next = await this.deps.subs.modify(target, (current) => {
          const base = current ?? newSubscription(target, now);
          return { ...(cmd.kind === "subscribe" ? subscribeTo(base, apps.names, cmd.rules) : unsubscribeFrom(base, apps.names, cmd.rules)), target, updatedAt: now, changedBy };
        });
        this.deps.log?.({ event: "alert.subscription", conversationId: target.conversationId, userObjectId: changedBy.aadObjectId, command: cmd.kind });
        return this.settings(next, jobs);
      }
      case "mute":
      case "unmute": {
        const apps = cmd.app ? resolveApps([cmd.app], jobs) : { names: ["*"] };
        if ("unknown" in apps) return info("Unknown app", apps.unknown);
        const key = apps.names[0] === "*" ? "*" : normaliseName(apps.names[0]!);
        const saved = await this.deps.subs.modify(target, (current) => {
          const base = current ?? newSubscription(target, now);
          const mutes = { ...base.mutes };
          if (cmd.kind === "mute") mutes[key] = isoPlus(now, cmd.minutes * 60_000);
          else if (cmd.app) delete mutes[key];
          else for (const k of Object.keys(mutes)) delete mutes[k];
          return { ...base, target, mutes, updatedAt: now, changedBy };
        });
        const mutes = saved.mutes;
        const label = apps.names[0] === "*" ? "All alerts" : `${apps.names[0]} alerts`;
        if (cmd.kind === "unmute") return info("Unmuted", `${cmd.app ? label : "All alerts"} reach this conversation again.`);
        const undo = `unmute${apps.names[0] === "*" ? "" : ` ${apps.names[0]}`}`;
        return info("Muted", `${label} are muted in this conversation until ${minuteLabel(mutes[key]!)} UTC.`, [], [{ title: "Undo", data: { text: undo } }]);
      }
      case "threshold": {
        // Thresholds are tenant-wide: only the roles that administer apps or security change them.
        if (access.kind !== "all" || !access.thresholds) {
          this.deps.log?.({ event: "access.refused", tenantId: target.tenantId, userObjectId: from.aadObjectId ?? "", reason: "thresholds need an administrator role" });
          return info("Threshold not changed", `Thresholds apply to every conversation in the tenant, so changing them needs one of these roles: ${[...THRESHOLD_ROLES].map((r) => PROVISIONING_LOG_ROLES[r]).join(", ")}.`);
        }
        const apps = resolveApps([cmd.app], jobs);
        if ("unknown" in apps) return info("Unknown app", apps.unknown);
        const app = apps.names[0]!;
        // The jobs of that app this conversation may see (its tenant's): never another tenant's job of the same name.
        const targets = jobs.filter((j) => j.app === app);
        const perJob = await this.deps.thresholds.all();
        const current = thresholdsFor(thresholdKey(targets[0]!.tenantId, targets[0]!.jobKey), perJob, this.deps.evaluator.defaults);
        const next = applyThreshold(current, cmd.setting, cmd.value);
        if (typeof next === "string") return info("Threshold not changed", next);
        const overrides = Object.fromEntries(Object.entries(next).filter(([k, v]) => this.deps.evaluator.defaults[k as keyof Thresholds] !== v)) as Partial<Thresholds>;
        for (const j of targets) await this.deps.thresholds.set(thresholdKey(j.tenantId, j.jobKey), overrides);
        return this.settings(sub, jobs, [app]);
      }
    }
  }

  private async settings(sub: Subscription, jobs: JobInfo[], only?: string[]): Promise<Answer> {
    const perJob = await this.deps.thresholds.all();
    const apps = only ?? (sub.subscribed && sub.apps.length ? sub.apps : [...new Set(jobs.map((j) => j.app))].sort());
    // An app's thresholds as set on its (first) job in this conversation's tenant.
    const keyOf = (app: string) => {
      const j = jobs.find((x) => normaliseName(x.app) === normaliseName(app));
      return j ? thresholdKey(j.tenantId, j.jobKey) : "";
    };
    const vm = settingsView(sub, apps.map((app) => ({ app, t: thresholdsFor(keyOf(app), perJob, this.deps.evaluator.defaults) })), this.now());
    return { card: "info", viewModel: vm, text: [vm.title, vm.text, ...vm.facts.map((f) => `${f.title}: ${f.value}`)].join("\n") };
  }

  /** Acknowledge / Mute / Show affected, from the buttons on an alert card. */
  /**
   * A card action is data the client sends back: it is never trusted because a card was shown. It
   * acts only on an alert whose card was posted in this very conversation (its delivery row), and
   * anything else gets the same answer as an alert that does not exist.
   */
  async action(data: Record<string, unknown>, target: ConversationTarget, from: ChatUser, access: Access = EVERYONE): Promise<Answer | null> {
    const ref = data as { action?: string; jobKey?: string; rule?: string; incident?: string; minutes?: number; page?: number };
    const unknown = info("Unknown alert", "This button does not name an alert provbot knows.");
    if (!ref.jobKey || !ref.rule || !ALL_RULES.includes(ref.rule as AlertRule) || typeof ref.incident !== "string") return unknown;
    // The incident named must be one of the job named (an id from one job never opens another's
    // slot), its card must have been posted here, and the job must be one this conversation may
    // see (its tenant's; an owner's own apps).
    const ofJob = incidentOfJob(ref.incident, ref.rule, ref.jobKey);
    const deliveries = ofJob ? await this.deps.incidents.deliveries(ref.incident) : [];
    const delivered = deliveries.some((d) => d.value.conversationId === target.conversationId && d.value.activityId);
    const scoped = this.queryFor(target, access);
    const visible = delivered && ((await scoped.jobs()).some((j) => j.jobKey === ref.jobKey) || (await scoped.jobs(true)).some((j) => j.jobKey === ref.jobKey));
    if (!ofJob || !delivered || !visible) {
      this.deps.log?.({ event: "alert.action.refused", conversationId: target.conversationId, userObjectId: from.aadObjectId ?? "", action: String(ref.action ?? ""), reason: "the alert was not shown in this conversation" });
      return unknown;
    }
    const now = this.now();
    const rule = ref.rule as AlertRule;
    const slot = await this.deps.incidents.slot(ref.jobKey, rule, ref.incident);
    const incident = slot && slot.value.id === ref.incident ? slot : null;
    switch (ref.action) {
      case "ack": {
        if (!incident) return info("Alert closed", "This alert has been replaced by a newer one for the same job; its card is no longer updated.");
        const next = await this.deps.evaluator.update(ref.jobKey, rule, incident.value.id, (current) => acknowledge(current, from.name || from.id, now));
        // The card itself changes, for everyone who has it (through the outbox, like every change);
        // already acknowledged: the card says by whom.
        if (next) {
          this.deps.log?.({ event: "alert.acknowledged", incidentId: next.id, version: next.version, userObjectId: from.aadObjectId ?? "" });
          await this.deps.outbox.notify([refOf(next)]);
        }
        return null;
      }
      case "mute": {
        const app = slot?.value.app ?? "";
        return this.command({ kind: "mute", app: app || null, minutes: Number(ref.minutes) > 0 ? Number(ref.minutes) : 60 }, target, from, access);
      }
      case "affected": {
        const i = incident?.value ?? slot?.value;
        if (!i) return info("Alert closed", "provbot no longer keeps this alert.");
        const page = Number.isInteger(Number(ref.page)) && Number(ref.page) > 1 ? Math.min(Number(ref.page), 1_000) : 1;
        return this.affected(i, target, access, page);
      }
      default:
        return info("Unknown action", "This button is not one provbot knows.");
    }
  }

  /** The events behind an alert, PAGE at a time, with their total and More (like every list). */
  private async affected(i: Incident, target: ConversationTarget, access: Access, page: number): Promise<Answer> {
    const removal = i.rule === "removalBurst";
    const { rows, more, total, exact } = await this.queryFor(target, access).listEvents({
      jobKeys: [i.jobKey],
      from: i.since,
      to: isoPlus(i.lastSeen, 1),
      ...(removal ? { actions: REMOVAL_ACTIONS } : { status: "failure" as const }),
      limit: PAGE,
      offset: (page - 1) * PAGE,
    });
    const items = rows
      .filter((r) => !removal || isRemoval(r.action, r.status))
      .map((r: EventRow) => ({ at: r.at, who: r.identityName || r.identity || "", app: i.app, action: r.action, status: r.status, errorCode: r.errorCode, changeId: r.changeId ?? "" }));
    const personal = target.conversationType === "personal";
    const subtitle = `${RULE_LABELS[i.rule]} · ${minuteLabel(i.since)} → ${minuteLabel(i.lastSeen)} UTC · ${exact ? "" : "about "}${pageLine(total, page)}${personal ? "" : " · select a row for details"}`;
    const next = more ? { title: "More", data: { text: `Show affected in ${i.app} (page ${page + 1})`, alert: { action: "affected" as const, jobKey: i.jobKey, rule: i.rule, incident: i.id, page: page + 1 } } } : null;
    return eventList(`Affected · ${i.app}`, subtitle, items, next, "No matching events are stored any more.");
  }
}
function resolveApps(phrases: string[], jobs: JobInfo[]): { names: string[] } | { unknown: string } {
  const names: string[] = [];
  for (const p of phrases) {
    const m = matchApp(p, jobs);
    if (m.kind !== "jobs") {
      const known = [...new Set(jobs.map((j) => j.app))].sort().join(", ");
      const near = m.kind === "none" && m.near.length ? ` Did you mean ${m.near.join(" or ")}?` : "";
      return { unknown: `No provisioning job for "${p}" has sent events yet.${near} Known apps: ${known || "none yet"}.` };
    }
    for (const j of m.jobs) if (!names.includes(j.app)) names.push(j.app);
  }
  return { names };
}
