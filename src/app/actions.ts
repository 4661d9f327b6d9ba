import { randomBytes } from "node:crypto";
import {
  ACTION_TITLES,
  actionLogLine,
  actionWarning,
  checkConfirmation,
  CONFIRM_REFUSALS,
  CONFIRM_TTL_MS,
  isActionLogQuestion,
  JOB_ACTION_KINDS,
  isHrInbound,
  objectTypeNameOf,
  onDemandObjectId,
  ON_DEMAND_GROUP_MAX_MEMBERS,
  ON_DEMAND_RATE,
  onDemandPhases,
  parseActionCommand,
  parseOnDemandResult,
  resetScopeOf,
  RESTART_SCOPES,
  type ActionRecord,
  type ActionTarget,
  type JobActionKind,
  type PendingAction,
} from "../core/actions";
import { SlidingWindowLimiter } from "../core/alerts/rateLimit";
import { findApps } from "../core/ask/lexicon";
import { choice, info, type ActionOffer, type Answer, type CardAction } from "../core/ask/views";
import type { ChatUser, ConversationTarget } from "../core/conversation";
import { clipText } from "../core/text";
import { minuteLabel } from "../core/timeBuckets";
import type { StoredJobStatus } from "./jobHealthPorts";
import type { Clock } from "./ports";
import type { QueryStore } from "./queryPorts";

/**
 * Actions on a provisioning job from Teams (issue 26): provision on demand, restart, clear a
 * quarantine, pause, start, allow deletes. Safe by construction:
 * - off unless the deployment turns it on (PROVBOT_ACTIONS) and grants the write permission;
 * - only for people Entra would let manage that app's provisioning (core/actions.ts mayManage),
 *   checked when the buttons are offered, when the action is asked for, and again when confirmed;
 *   anyone else gets one refusal that says nothing about the job or the app;
 * - every action asks for a confirmation bound to the person, the conversation and the job, which
 *   expires and works once (an ETag-guarded state change); in a channel or a group chat it goes to
 *   the asker's personal chat; allow deletes asks twice;
 * - every action, done or refused, is recorded (who, what, which job, when, Graph's answer) in
 *   storage and in the structured log, answered in the conversation, and listed by "what did
 *   provbot do this week".
 */
export interface JobControlAnswer {
  status: number;
  body: unknown;
  code: string;
  retryAfterMs?: number;
}

/** Microsoft Graph's synchronization actions (adapters/graph/jobControl.ts). */
export interface JobControl {
  rules(servicePrincipalId: string, jobId: string): Promise<JobControlAnswer>;
  provisionOnDemand(servicePrincipalId: string, jobId: string, ruleId: string, subject: { objectId: string; objectTypeName: string }): Promise<JobControlAnswer>;
  restart(servicePrincipalId: string, jobId: string, resetScope: string): Promise<JobControlAnswer>;
  pause(servicePrincipalId: string, jobId: string): Promise<JobControlAnswer>;
  start(servicePrincipalId: string, jobId: string): Promise<JobControlAnswer>;
  groupMemberCount(groupId: string, atMost: number): Promise<number>;
}

/** Confirmations and the action log (adapters/tables/actionsTable.ts). */
export interface ActionStore {
  putPending(p: PendingAction): Promise<void>;
  getPending(token: string): Promise<{ pending: PendingAction; etag: string } | null>;
  /** Moves a pending confirmation on only if nobody did since it was read: false when a second press lost. */
  settle(token: string, etag: string, next: PendingAction): Promise<boolean>;
  record(r: ActionRecord): Promise<void>;
  /** Newest first, from `fromIso` on. */
  recent(fromIso: string, limit: number): Promise<ActionRecord[]>;
}

export interface ActionPermission {
  /** Whether this person may manage this app's provisioning ("" service principal: any app, by role). */
  mayManage(userObjectId: string, servicePrincipalId: string): Promise<"yes" | "no" | "unavailable">;
}

export interface ActionDeps {
  /** How long a confirmation may be pressed (PROVBOT_ACTION_CONFIRM_SECONDS; default CONFIRM_TTL_MS). */
  confirmMs?: number;
  control: JobControl;
  store: ActionStore;
  permission: ActionPermission;
  query: Pick<QueryStore, "jobStatuses" | "findIdentities" | "lastKnownState" | "getEvent" | "countEvents">;
  clock: Clock;
  log: (entry: { event: string } & Record<string, string | number | boolean | null | undefined>) => void;
  /** Posts to a person's personal chat with the bot (confirmations asked for in channels). */
  personal?: (userId: string, target: ConversationTarget, answer: Answer) => Promise<boolean>;
  newToken?: () => string;
}


/** The asker's display name as Teams sent it, cut to a name's length (it goes on cards and in the log). */
const nameOf = (from: ChatUser): string => clipText(from.name ?? "", 200);

const isTarget = (t: ActionTarget | Answer): t is ActionTarget => !("card" in t);

export const ACTION_REFUSED = "provbot cannot do that for you. Actions on provisioning jobs are for the people who may manage the app's provisioning in Microsoft Entra.";

export class JobActions {
  private readonly limiter = new SlidingWindowLimiter([{ ms: ON_DEMAND_RATE.ms, max: ON_DEMAND_RATE.max }]);
  constructor(private readonly deps: ActionDeps) {}

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  /** A typed command or "what did provbot do": an answer, or null when the text is neither. */
  async text(text: string, target: ConversationTarget, from: ChatUser): Promise<Answer | null> {
    if (isActionLogQuestion(text)) return this.history(from);
    const cmd = parseActionCommand(text);
    if (!cmd) return null;
    const user = from.aadObjectId ?? "";
    const job = await this.findJob(cmd.app);
    if (!job) {
      // Only someone who may act anywhere learns that no such job exists.
      const anywhere = await this.deps.permission.mayManage(user, "");
      if (anywhere !== "yes") return this.refuse(cmd.kind, null, target, from, "no permission (no such job named)");
      return info("No such provisioning job", `No provisioning job matches "${cmd.app}". Type "status of all apps" to see the jobs provbot knows.`);
    }
    const t = await this.targetFor(cmd.kind, job, target, from);
    if (!isTarget(t)) return t;
    if (cmd.kind === "provisionOnDemand") {
      const who = await this.findSubjects(cmd.who ?? "", job);
      if (who.length === 0) return info("Whom to provision?", `provbot found no one called "${cmd.who}" in the provisioning logs. Provision on demand works from a person's or group's logs; use the admin center's Provision on demand for someone provbot has not seen yet.`);
      if (who.length > 1) {
        return choice(
          "Which one?",
          `Several match "${cmd.who}". Pick the one to provision to ${job.appName}:`,
          who.slice(0, 5).map((s) => ({ title: s.name.slice(0, 60), data: { text: `provision ${s.name} in ${job.appName}`, jobAction: { op: "propose", kind: "provisionOnDemand", jobKey: job.jobKey, subject: s } } })),
        );
      }
      t.subject = who[0]!;
    }
    return this.propose(t, job, target, from);
  }

  /** A button press: propose, confirm or cancel. Null when the payload is not an action. */
  async value(value: Record<string, unknown>, target: ConversationTarget, from: ChatUser): Promise<Answer | null> {
    const a = value["jobAction"];
    if (!a || typeof a !== "object") return null;
    const op = (a as { op?: unknown }).op;
    if (op === "confirm" || op === "cancel") {
      const token = (a as { token?: unknown }).token;
      const scope = (a as { scope?: unknown }).scope;
      // Only a scope Graph offers and the card showed; anything else in a payload is not a choice.
      if (scope !== undefined && (typeof scope !== "string" || !(scope in RESTART_SCOPES))) return info("Nothing done", "That is not a restart provbot offers. Nothing was done.");
      return this.confirm(typeof token === "string" ? token.slice(0, 100) : "", op, target, from, typeof scope === "string" ? scope : undefined);
    }
    if (op !== "propose") return null;
    const kind = (a as { kind?: unknown }).kind;
    const jobKey = (a as { jobKey?: unknown }).jobKey;
    if (typeof kind !== "string" || !JOB_ACTION_KINDS.includes(kind as JobActionKind) || typeof jobKey !== "string") return null;
    const job = (await this.deps.query.jobStatuses()).find((j) => j.jobKey === jobKey);
    if (!job) return this.refuse(kind as JobActionKind, null, target, from, "unknown job in a button");
    const t = await this.targetFor(kind as JobActionKind, job, target, from);
    if (!isTarget(t)) return t;
    if (t.kind === "provisionOnDemand") {
      const s = (a as { subject?: { objectId?: unknown; objectTypeName?: unknown; name?: unknown } }).subject;
      if (!s || typeof s.objectId !== "string" || !s.objectId || s.objectId.length > 200 || typeof s.objectTypeName !== "string" || !/^(User|Group|Worker|user)$/.test(s.objectTypeName)) return null;
      t.subject = { objectId: s.objectId, objectTypeName: s.objectTypeName, name: typeof s.name === "string" ? s.name.slice(0, 200) : s.objectId };
    }
    return this.propose(t, job, target, from);
  }

  /** The job as an action's target when this person may act on it; else the refusal, recorded. */
  private async targetFor(kind: JobActionKind, job: StoredJobStatus, target: ConversationTarget, from: ChatUser): Promise<ActionTarget | Answer> {
    const t: ActionTarget = { kind, jobKey: job.jobKey, jobId: job.jobId, servicePrincipalId: job.servicePrincipalId, app: job.appName, tenantId: job.tenantId };
    const allowed = await this.deps.permission.mayManage(from.aadObjectId ?? "", job.servicePrincipalId);
    return allowed === "yes" ? t : this.refuse(kind, t, target, from, allowed === "unavailable" ? "the directory could not be read" : "no permission");
  }

  /** The buttons an answer may carry for this person (none for anyone who may not act). */
  async buttons(offer: ActionOffer, from: ChatUser): Promise<CardAction[]> {
    if (offer.kinds.length === 0) return [];
    const job = (await this.deps.query.jobStatuses()).find((j) => j.servicePrincipalId === offer.servicePrincipalId && j.jobId === offer.jobId);
    if (!job) return [];
    if ((await this.deps.permission.mayManage(from.aadObjectId ?? "", job.servicePrincipalId)) !== "yes") return [];
    return offer.kinds.map((kind) => ({
      title: kind === "provisionOnDemand" && offer.subject ? `Provision ${offer.subject.name} now`.slice(0, 60) : ACTION_TITLES[kind],
      data: { text: ACTION_TITLES[kind], jobAction: { op: "propose", kind, jobKey: job.jobKey, ...(offer.subject ? { subject: offer.subject } : {}) } },
    }));
  }

  private async propose(t: ActionTarget, job: StoredJobStatus, target: ConversationTarget, from: ChatUser): Promise<Answer> {
    if (t.kind === "allowDeletes" && !/TooManyDeletes/i.test(job.status.quarantine?.reason ?? "")) {
      return info("Nothing to allow", `${t.app} is not in quarantine for too many deletes, so no deletions are waiting to be allowed.`);
    }
    if (t.kind === "clearQuarantine" && job.status.code !== "Quarantine") return info("Not in quarantine", `${t.app} is not in quarantine.`);
    const personal = target.conversationType === "personal";
    const pending = await this.pendingFor(t, job, from, personal ? target.conversationId : `personal:${from.id}`, 1);
    const card = this.confirmationCard(pending, job);
    if (personal) return card;
    // In a channel or a group chat the confirmation goes to the asker's personal chat only.
    const sent = this.deps.personal ? await this.deps.personal(from.id, target, card).catch(() => false) : false;
    return sent
      ? info("Confirmation sent to your personal chat", `provbot sent the confirmation for ${ACTION_TITLES[t.kind].toLowerCase()} to your personal chat with it.`)
      : info("Not sent", "provbot could not open a personal chat with you: add provbot for yourself and ask there.");
  }

  private async pendingFor(t: ActionTarget, job: StoredJobStatus, from: ChatUser, conversationId: string, stage: 1 | 2, count?: number): Promise<PendingAction> {
    const now = this.deps.clock.now();
    const pending: PendingAction = {
      ...t,
      token: this.deps.newToken?.() ?? randomBytes(18).toString("base64url"),
      userObjectId: from.aadObjectId ?? "",
      userName: nameOf(from),
      conversationId,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + (this.deps.confirmMs ?? CONFIRM_TTL_MS)).toISOString(),
      stage,
      state: "pending",
      ...(count !== undefined ? { count } : t.kind === "allowDeletes" ? { count: await this.pendingDeletes(job) } : {}),
    };
    await this.deps.store.putPending(pending);
    return pending;
  }

  private async pendingDeletes(job: StoredJobStatus): Promise<number> {
    const since = job.status.quarantine?.seriesBegan ?? job.status.quarantine?.currentBegan ?? new Date(this.deps.clock.now().getTime() - 7 * 86_400_000).toISOString();
    const from = new Date(Date.parse(since) - 24 * 3_600_000).toISOString();
    const r = await this.deps.query.countEvents({ jobKeys: [job.jobKey], from, to: this.now(), actions: ["stagedDelete"] });
    return r.total;
  }

  private confirmationCard(p: PendingAction, job: StoredJobStatus): Answer {
    const facts = [
      { title: "Action", value: ACTION_TITLES[p.kind] },
      { title: "App", value: p.app },
      { title: "Job", value: p.jobId },
      { title: "Tenant", value: p.tenantId || "this deployment's tenant" },
      ...(p.subject ? [{ title: p.subject.objectTypeName === "Group" ? "Group" : "Who", value: `${p.subject.name} (${p.subject.objectId})` }] : []),
      ...(p.kind === "allowDeletes" ? [{ title: "Pending deletes", value: (p.count ?? 0).toLocaleString("en-US") }] : []),
      { title: "Asked by", value: p.userName || p.userObjectId },
      { title: "Expires", value: `${minuteLabel(p.expiresAt)} UTC` },
    ];
    const warning = actionWarning(p, { quarantineReason: job.status.quarantine?.reason ?? null, pendingDeletes: p.count ?? null, threshold: job.status.deleteThreshold, stage: p.stage });
    // A restart may be narrowed to one scope Graph offers (each explained in the warning); the quarantine one only on a quarantined job.
    const narrower =
      p.kind === "restart"
        ? Object.entries(RESTART_SCOPES)
            .filter(([scope]) => scope !== "QuarantineState" || job.status.code === "Quarantine")
            .map(([scope, r]) => ({ title: r.title, data: { text: r.title, jobAction: { op: "confirm", token: p.token, scope } } }))
        : [];
    return info(`Confirm: ${ACTION_TITLES[p.kind]} in ${p.app}?`, warning, facts, [
      { title: p.kind === "allowDeletes" && p.stage === 1 ? "Continue" : `Confirm: ${ACTION_TITLES[p.kind].toLowerCase()}`, data: { text: "Confirm", jobAction: { op: "confirm", token: p.token } } },
      ...narrower,
      { title: "Cancel", data: { text: "Cancel", jobAction: { op: "cancel", token: p.token } } },
    ]);
  }

  private async confirm(token: string, op: "confirm" | "cancel", target: ConversationTarget, from: ChatUser, scope?: string): Promise<Answer> {
    const found = token ? await this.deps.store.getPending(token) : null;
    const check = checkConfirmation(found?.pending ?? null, from.aadObjectId ?? "", target.conversationType === "personal" ? target.conversationId : "", this.now());
    // A confirmation asked for in a channel was posted to the personal chat: bound to that person's personal chat.
    const boundElsewhere = found && !check.ok && check.why === "conversation" && found.pending.conversationId === `personal:${from.id}` && target.conversationType === "personal";
    if (!check.ok && !boundElsewhere) {
      this.deps.log({ event: "action.confirm.refused", why: check.why, userObjectId: from.aadObjectId ?? "", tokenKnown: Boolean(found) });
      return info("Nothing done", CONFIRM_REFUSALS[check.why]);
    }
    const p = scope && found!.pending.kind === "restart" ? { ...found!.pending, scope } : found!.pending;
    if (scope && found!.pending.kind !== "restart") return info("Nothing done", "That choice belongs to a restart. Nothing was done.");
    if (op === "cancel") {
      if (!(await this.deps.store.settle(token, found!.etag, { ...p, state: "cancelled" }))) return info("Nothing done", CONFIRM_REFUSALS.used);
      await this.record(p, "cancelled", "cancelled by the asker", from);
      return info("Cancelled", `Nothing was done to ${p.app}.`);
    }
    // Checked again at the press: a role removed since the question takes effect now.
    const allowed = await this.deps.permission.mayManage(from.aadObjectId ?? "", p.servicePrincipalId);
    if (allowed !== "yes") return this.refuse(p.kind, p, target, from, allowed === "unavailable" ? "the directory could not be read at confirmation" : "no permission at confirmation");
    // Once: only the press that moves it from pending wins.
    if (!(await this.deps.store.settle(token, found!.etag, { ...p, state: "used" }))) return info("Nothing done", CONFIRM_REFUSALS.used);
    const job = (await this.deps.query.jobStatuses()).find((j) => j.jobKey === p.jobKey);
    if (p.kind === "allowDeletes" && p.stage === 1 && job) {
      const second = await this.pendingFor(p, job, from, p.conversationId, 2, p.count);
      return this.confirmationCard(second, job);
    }
    return this.act(p, from);
  }

  private async act(p: PendingAction, from: ChatUser): Promise<Answer> {
    const c = this.deps.control;
    try {
      if (p.kind === "provisionOnDemand") return await this.onDemand(p, from);
      const scope = p.kind === "restart" && p.scope ? p.scope : resetScopeOf(p.kind);
      const r = scope !== null ? await c.restart(p.servicePrincipalId, p.jobId, scope) : p.kind === "pause" ? await c.pause(p.servicePrincipalId, p.jobId) : await c.start(p.servicePrincipalId, p.jobId);
      return await this.outcome(p, r, from, () => {
        const done: Record<JobActionKind, string> = {
          restart: p.scope && RESTART_SCOPES[p.scope] ? `Microsoft Entra restarted the ${p.app} job (${RESTART_SCOPES[p.scope]!.title.toLowerCase()}): it ${RESTART_SCOPES[p.scope]!.words}.` : `Microsoft Entra restarted the ${p.app} job: it clears its state and runs a full cycle now. provbot's next status read shows it.`,
          clearQuarantine: `Microsoft Entra cleared the quarantine of ${p.app} and started it again. If the cause is not fixed it is quarantined again at its next attempt.`,
          pause: `Microsoft Entra paused the ${p.app} job. Type "start ${p.app}" to start it again.`,
          start: `Microsoft Entra started the ${p.app} job again.`,
          allowDeletes: `Microsoft Entra restarted the ${p.app} job forcing the ${(p.count ?? 0).toLocaleString("en-US")} pending deletes: they are made in its next cycle.`,
          provisionOnDemand: "",
        };
        return info(`Done: ${ACTION_TITLES[p.kind]} in ${p.app}`, done[p.kind], [{ title: "By", value: from.name || from.aadObjectId || "" }]);
      });
    } catch (err) {
      await this.record(p, "failed", `no answer from Microsoft Graph (${(err as Error).message.slice(0, 200)})`, from);
      return info(`Not done: ${ACTION_TITLES[p.kind]} in ${p.app}`, "Microsoft Graph did not answer. Nothing is known to have changed; check the job in the admin center before trying again.");
    }
  }

  private async onDemand(p: PendingAction, from: ChatUser): Promise<Answer> {
    const c = this.deps.control;
    const s = p.subject!;
    const key = p.tenantId || "tenant";
    const wait = this.limiter.delayFor(key, this.deps.clock.now().getTime());
    if (wait > 0) {
      await this.record(p, "throttled", `provbot's own limit (${ON_DEMAND_RATE.max} in ${ON_DEMAND_RATE.ms / 1000} s per tenant)`, from);
      return info("Too many requests", `Microsoft Graph allows about ${ON_DEMAND_RATE.max} provision-on-demand requests in ${ON_DEMAND_RATE.ms / 1000} seconds per tenant. Nothing was sent; try again in ${Math.ceil(wait / 1000)} s.`);
    }
    if (s.objectTypeName === "Group") {
      const members = await c.groupMemberCount(s.objectId, ON_DEMAND_GROUP_MAX_MEMBERS);
      if (members > ON_DEMAND_GROUP_MAX_MEMBERS) {
        await this.record(p, "refused", `group has more than ${ON_DEMAND_GROUP_MAX_MEMBERS} members`, from);
        return info("Group too large", `Provision on demand takes a group of at most ${ON_DEMAND_GROUP_MAX_MEMBERS} members; ${s.name} has more. Nothing was sent: the regular cycle provisions it.`);
      }
    }
    this.limiter.record(key, this.deps.clock.now().getTime());
    const rules = await c.rules(p.servicePrincipalId, p.jobId);
    if (rules.status !== 200) return this.outcome(p, rules, from, () => info("", ""));
    const ruleId = pickRule(rules.body, s.objectTypeName);
    if (!ruleId) {
      await this.record(p, "failed", "no synchronization rule for this object type in the job's schema", from);
      return info("Not done", `The ${p.app} job's schema has no rule that provisions a ${s.objectTypeName}. Nothing was sent.`);
    }
    const r = await c.provisionOnDemand(p.servicePrincipalId, p.jobId, ruleId, s);
    return this.outcome(p, r, from, () => {
      const result = parseOnDemandResult(r.body);
      if (!result) return info(`Provisioned on demand: ${s.name} in ${p.app}`, "Microsoft Graph accepted the request but its answer could not be read. Check the person's provisioning log.");
      const phases = onDemandPhases(result.steps);
      const facts = phases.map((ph) => ({ title: ph.phase, value: `${ph.status}${ph.steps.length ? ` · ${ph.steps.map((x) => x.description).filter(Boolean).join(" ").slice(0, 400)}` : ""}` }));
      const word = result.status === "success" ? "Provisioned on demand" : result.status === "skipped" ? "Skipped on demand" : "Provision on demand failed";
      return info(`${word}: ${s.name} in ${p.app}`, "What Microsoft Entra did, step by step, as the admin center shows it:", facts, [{ title: `History of ${s.name}`.slice(0, 60), data: { text: `what happened to ${s.name}` } }]);
    });
  }

  /** Graph's answer: done, throttled (said, not retried), or failed with its code; recorded either way. */
  private async outcome(p: PendingAction, r: JobControlAnswer, from: ChatUser, done: () => Answer): Promise<Answer> {
    if (r.status >= 200 && r.status < 300) {
      await this.record(p, "done", `HTTP ${r.status}`, from);
      return done();
    }
    if (r.status === 429) {
      const after = r.retryAfterMs !== undefined ? Math.ceil(r.retryAfterMs / 1000) : null;
      await this.record(p, "throttled", `HTTP 429${after !== null ? `, retry after ${after} s` : ""}`, from);
      return info("Microsoft Graph is throttling", `Microsoft Graph answered "too many requests" for ${p.app}. Nothing was done and provbot does not retry on its own: ask again${after !== null ? ` in ${after} s` : " in a minute"}.`);
    }
    const why = r.status === 403 ? "provbot's identity lacks the write permission (Synchronization.ReadWrite.All); see the README's Actions section" : r.status === 404 ? "the job no longer exists" : `Microsoft Graph answered ${r.status}${r.code ? ` ${r.code}` : ""}`;
    await this.record(p, "failed", `HTTP ${r.status}${r.code ? ` ${r.code}` : ""}`, from);
    return info(`Not done: ${ACTION_TITLES[p.kind]} in ${p.app}`, `Nothing was done: ${why}.`);
  }

  private async refuse(kind: JobActionKind, t: ActionTarget | null, target: ConversationTarget, from: ChatUser, reason: string): Promise<Answer> {
    await this.record(
      { kind, jobKey: t?.jobKey ?? "", jobId: t?.jobId ?? "", servicePrincipalId: t?.servicePrincipalId ?? "", app: t?.app ?? "", tenantId: t?.tenantId ?? target.tenantId, ...(t?.subject ? { subject: t.subject } : {}) },
      "refused",
      reason,
      from,
      target.conversationId,
    );
    return info("Not available", ACTION_REFUSED);
  }

  private async record(t: ActionTarget, outcome: ActionRecord["outcome"], detail: string, from: ChatUser, conversationId = (t as Partial<PendingAction>).conversationId ?? ""): Promise<void> {
    const r: ActionRecord = {
      at: this.now(),
      kind: t.kind,
      outcome,
      userObjectId: from.aadObjectId ?? "",
      userName: nameOf(from),
      app: t.app,
      jobId: t.jobId,
      servicePrincipalId: t.servicePrincipalId,
      tenantId: t.tenantId,
      subject: t.subject?.name ?? "",
      detail: `${t.scope ? `${t.scope}; ` : ""}${detail}`.slice(0, 500),
      conversationId,
    };
    this.deps.log({ event: "action", ...r });
    await this.deps.store.record(r).catch((err: unknown) => this.deps.log({ event: "action.record.failed", error: (err as Error).message }));
  }

  private async history(from: ChatUser): Promise<Answer> {
    const allowed = await this.deps.permission.mayManage(from.aadObjectId ?? "", "");
    const since = new Date(this.deps.clock.now().getTime() - 7 * 86_400_000).toISOString();
    const all = await this.deps.store.recent(since, 200);
    // Admins see every action; anyone else only their own.
    const mine = allowed === "yes" ? all : all.filter((r) => r.userObjectId && r.userObjectId === (from.aadObjectId ?? ""));
    if (mine.length === 0) return info("What provbot did this week", "provbot took no action on a provisioning job in the last 7 days.");
    return info("What provbot did this week", `${mine.length} action${mine.length === 1 ? "" : "s"} in the last 7 days, newest first:`, mine.slice(0, 30).map((r, i) => ({ title: String(i + 1), value: actionLogLine(r) })));
  }

  private async findJob(app: string): Promise<StoredJobStatus | null> {
    const jobs = await this.deps.query.jobStatuses();
    const names = [...new Set(jobs.map((j) => j.appName))];
    const exact = jobs.filter((j) => j.appName.toLowerCase() === app.toLowerCase());
    if (exact.length === 1) return exact[0]!;
    const found = findApps(app, { apps: names });
    const hits = [...new Set(found.map((f) => f.app))];
    if (hits.length !== 1) return null;
    const matching = jobs.filter((j) => j.appName === hits[0]);
    return matching.length === 1 ? matching[0]! : null;
  }

  private async findSubjects(who: string, job: StoredJobStatus): Promise<{ objectId: string; objectTypeName: string; name: string }[]> {
    if (!who.trim()) return [];
    const jobType = job.status.templateId || job.jobId;
    const out = new Map<string, { objectId: string; objectTypeName: string; name: string }>();
    for (const c of (await this.deps.query.findIdentities(who)).slice(0, 10)) {
      let objectId = "";
      let type = c.identityType;
      for (const key of [c.identityKey, ...(c.otherKeys ?? [])]) {
        const row = await this.deps.query.lastKnownState(key, job.jobKey, this.now());
        if (!row) continue;
        const e = await this.deps.query.getEvent(row.epk, row.erk);
        if (e?.sourceIdentity.id) {
          objectId = e.sourceIdentity.id;
          type = e.sourceIdentity.identityType || type;
          break;
        }
      }
      // Never in this app's logs: an outbound job takes the Entra object id the person has in others'.
      if (!objectId && !isHrInbound(jobType)) objectId = onDemandObjectId(c.identityKey, jobType) ?? "";
      if (!objectId) continue;
      const objectTypeName = objectTypeNameOf(type, jobType);
      out.set(objectId, { objectId, objectTypeName, name: c.displayName || c.identity });
    }
    return [...out.values()];
  }
}

/** The schema's rule for this object type: the rule whose object mappings take it from the source. */
export function pickRule(schema: unknown, objectTypeName: string): string | null {
  const rules = (schema as { synchronizationRules?: unknown } | null)?.synchronizationRules;
  if (!Array.isArray(rules)) return null;
  const want = objectTypeName.toLowerCase();
  for (const r of rules) {
    const o = r as { id?: unknown; objectMappings?: unknown };
    if (typeof o.id !== "string" || !Array.isArray(o.objectMappings)) continue;
    if (o.objectMappings.some((m) => (m as { enabled?: unknown }).enabled !== false && String((m as { sourceObjectName?: unknown }).sourceObjectName ?? "").toLowerCase() === want)) return o.id;
  }
  // A Worker rule maps "worker"; a job with a single rule takes it.
  return rules.length === 1 && typeof (rules[0] as { id?: unknown }).id === "string" ? ((rules[0] as { id: string }).id) : null;
}
