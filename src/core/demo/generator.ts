import { DEMO_BOX_STOPPED_HOURS, DEMO_DROPBOX_HELD_HOURS, DEMO_FABRIKAM_PAUSED_HOURS, DEMO_WORKDAY_FAILING, demoAppId, demoGroups, demoJobs, demoUsers, demoWorkers, deterministicId, seededRandom, TENANT_ID, type DemoErrorTemplate, type DemoGroup, type DemoJob, type DemoUser } from "./tenant";

/**
 * A deterministic demo tenant as Graph-shaped provisioning records: regular cycles per job with
 * realistic step sequences per outcome, expected out-of-scope skips, error codes and reason texts
 * from the reference, and recent incidents to find: a failure spike in ServiceNow, a disable storm
 * in Adobe, staged deletes in Dropbox held back by the accidental-deletion threshold, and Box gone
 * quiet. The same seed and `now` always give the same records.
 */
export interface DemoOptions {
  seed?: number;
  now: Date;
  days?: number;
  users?: number;
  /** Average events per job per cycle (scales the volume; 3 gives ~10k events a week). */
  perCycle?: number;
  /** Add the recent incidents (default true). */
  incidents?: boolean;
  /** Filled with where each (job, object) stands at the end: the live tail (live.ts) goes on from it. */
  lifecycle?: Map<string, Lifecycle>;
}

export type Outcome =
  | { kind: "create" }
  | { kind: "update" }
  | { kind: "redundant" }
  | { kind: "outOfScope" }
  | { kind: "failure"; error: DemoErrorTemplate; action: "create" | "update" }
  /** `scope`: the object left the job's scope (its scoping filter changed), so the scoping step fails. */
  | { kind: "disable"; reason?: "scope" }
  | { kind: "delete" }
  | { kind: "stagedDelete" };

export type Who = { kind: "user"; user: DemoUser } | { kind: "group"; group: DemoGroup };

const MINUTE = 60_000;

function steps(job: DemoJob, who: Who, outcome: Outcome, at: Date, rand: () => number): Record<string, unknown>[] {
  const typeName = who.kind === "user" ? "User" : "Group";
  const label = who.kind === "user" ? who.user.upn : who.group.objectId;
  const source = job.sourceSystem;
  const target = job.targetSystem;
  const importStep = (change: "Add" | "Update" | "Delete") => ({
    name: change === "Add" ? "EntryImportAdd" : change === "Update" ? "EntryImportUpdate" : "EntryImportDelete",
    provisioningStepType: "import",
    status: "success",
    description: `Received ${typeName} '${label}' change of type (${change}) from ${source}`,
    details:
      who.kind === "user"
        ? { objectId: who.user.objectId, accountEnabled: outcome.kind === "disable" ? "False" : "True", displayName: who.user.displayName, givenName: who.user.givenName, mailNickname: who.user.mailNickname, userPrincipalName: who.user.upn, department: who.user.department, IsSoftDeleted: outcome.kind === "delete" ? "True" : "False" }
        : { objectId: who.group.objectId, displayName: who.group.displayName },
  });
  const inScope = outcome.kind !== "outOfScope";
  const scoping = {
    name: "EntrySynchronizationScoping",
    provisioningStepType: "scoping",
    status: "success",
    description: `Determine if ${typeName} in scope by evaluating against each scoping filter`,
    details: {
      "Active in the source system": outcome.kind === "disable" && outcome.reason !== "scope" ? "False" : "True",
      "Assigned to the application": inScope ? "True" : "False",
      [`${typeName} has the required role`]: inScope ? "True" : "False",
      "Scoping filter evaluation passed": outcome.kind === "disable" && outcome.reason === "scope" ? "False" : "True",
      ScopeEvaluationResult: "{}",
    },
  };
  const match = { name: "EntryImport", provisioningStepType: "matching", status: "success", description: `Retrieved ${typeName} '${label}' from ${target}`, details: { id: `t-${label}` } };
  const exportStep = (name: string, status: string, description: string) => ({ name, provisioningStepType: "export", status, description, details: { ReportableIdentifier: label } });
  switch (outcome.kind) {
    case "create":
      return [importStep("Add"), scoping, { name: "EntrySynchronizationAdd", provisioningStepType: "matching", status: "success", description: `${typeName} '${label}' will be created in ${target} (${typeName} is active and assigned in ${source}, but no matching ${typeName} was found in ${target})`, details: {} }, exportStep("EntryExportAdd", "success", `${typeName} '${label}' was created in ${target}`)];
    case "update":
      return [importStep("Update"), scoping, match, exportStep("EntryExportUpdate", "success", `${typeName} '${label}' was updated in ${target}`)];
    case "redundant":
      return [importStep("Update"), match, scoping, { name: "EntrySynchronizationSkip", provisioningStepType: "export", status: "skipped", description: `The state of the entry in both the source and target systems already match. No change to the ${typeName} '${label}' currently needs to be made.`, details: { ReportableIdentifier: label, SkipReason: "RedundantExport" } }];
    case "outOfScope":
      return [importStep("Add"), scoping, { name: "EntrySynchronizationSkip", provisioningStepType: "processing", status: "skipped", description: `${typeName} '${label}' will be skipped: it is not assigned to the application, or is not effectively entitled.`, details: { ReportableIdentifier: label, SkipReason: "NotEffectivelyEntitled" } }];
    case "failure":
      return outcome.action === "create"
        ? [importStep("Add"), scoping, { name: "EntrySynchronizationAdd", provisioningStepType: "matching", status: "success", description: `${typeName} '${label}' will be created in ${target}`, details: {} }, exportStep("EntryExportAdd", "failure", `Failed to create ${typeName} '${label}' in ${target}`)]
        : [{ name: "EntryEscrowRetry", provisioningStepType: "import", status: "success", description: `We are retrying an operation that previously failed.\r\nIdentifier: ${label}\r\nObject type: ${typeName}\r\nDirectory: ${source}`, details: { CountProcessed: String(1 + Math.floor(rand() * 3)), NextAttempt: new Date(at.getTime() + 6 * 60 * MINUTE).toLocaleString("en-US", { timeZone: "UTC" }).replace(",", ""), TypeName: "EscrowedEntryDefault" } }, match, exportStep("EntryExportUpdate", "failure", `Failed to update ${typeName} '${label}' in ${target}`)];
    case "disable":
      return [importStep("Update"), scoping, match, exportStep("EntryExportUpdateSoftDelete", "success", `${typeName} '${label}' was disabled in ${target}`)];
    case "delete":
      return [importStep("Delete"), match, exportStep("EntryExportDelete", "success", `${typeName} '${label}' was deleted in ${target}`)];
    case "stagedDelete":
      return [importStep("Update"), scoping, match, { name: "EntrySynchronizationSkip", provisioningStepType: "export", status: "skipped", description: `The deletion of ${typeName} '${label}' was held back: the job reached its accidental deletions threshold. An administrator must allow the deletions.`, details: { ReportableIdentifier: label, SkipReason: "AccidentalDeletionThresholdReached" } }];
  }
}

/** Where an object stands in one app: the demo tells one consistent story per (job, object). */
export type Lifecycle = "absent" | "active" | "disabled" | "deleted";

export function demoRecord(job: DemoJob, cycleId: string, at: Date, who: Who, outcome: Outcome, rand: () => number, existsInTarget = true): Record<string, unknown> {
  const action =
    outcome.kind === "failure" ? outcome.action : outcome.kind === "redundant" ? "other" : outcome.kind === "outOfScope" ? "create" : outcome.kind;
  const status = outcome.kind === "failure" ? "failure" : ["redundant", "outOfScope", "stagedDelete"].includes(outcome.kind) ? "skipped" : "success";
  let errorInformation: Record<string, unknown> | null = null;
  if (outcome.kind === "failure") {
    const e = outcome.error;
    const retried = 1 + Math.floor(rand() * 4);
    const next = new Date(at.getTime() + (6 + 6 * retried) * 60 * MINUTE).toISOString().replace(".000Z", ".0000000Z");
    errorInformation = {
      errorCode: e.code,
      reason: `${e.httpStatus ? `StatusCode: ${e.httpStatus}\r\n` : ""}Message: ${e.message.replace("{verb}", outcome.action)}${e.retries ? ` This operation was retried ${retried} times. It will be retried again after this date: ${next} UTC` : ""}`,
      additionalDetails: null,
      errorCategory: e.category,
      recommendedAction: null,
    };
  }
  const isUser = who.kind === "user";
  const sourceId = isUser ? (job.direction === "inbound" ? who.user.employeeId : who.user.objectId) : who.group.objectId;
  // The object's id in the app: known whenever it exists there (a created, updated, disabled or
  // retried object), empty only before it was ever created.
  const createdNow = outcome.kind === "create";
  const targetCreated = existsInTarget || createdNow ? `t-${sourceId.slice(0, 8)}` : "";
  const modified =
    outcome.kind === "create" && isUser
      ? [
          { displayName: "userName", oldValue: null, newValue: who.user.upn },
          { displayName: "name.givenName", oldValue: null, newValue: who.user.givenName },
          { displayName: "active", oldValue: null, newValue: "True" },
          { displayName: "department", oldValue: null, newValue: who.user.department },
        ]
      : outcome.kind === "update" && isUser
        ? [{ displayName: "department", oldValue: "Operations", newValue: who.user.department }]
        : outcome.kind === "disable"
          ? [{ displayName: "active", oldValue: "True", newValue: "False" }]
          : [];
  const appSide = { ApplicationId: demoAppId(job.servicePrincipalId), ServicePrincipalId: job.servicePrincipalId, ServicePrincipalDisplayName: job.appName };
  return {
    id: deterministicId(rand),
    activityDateTime: at.toISOString().replace(/\.\d{3}Z$/, "Z"),
    tenantId: TENANT_ID,
    jobId: job.jobId,
    cycleId,
    changeId: deterministicId(rand),
    provisioningAction: action,
    durationInMilliseconds: 200 + Math.floor(rand() * 2500),
    initiatedBy: { id: "", displayName: "Azure AD Provisioning Service", initiatorType: "system" },
    servicePrincipal: { id: job.servicePrincipalId, displayName: job.appName },
    // The app's side carries its ids, as in real records: the target outbound, the source inbound (HR).
    sourceSystem: { id: deterministicId(rand), displayName: job.sourceSystem, details: job.direction === "inbound" ? appSide : {} },
    targetSystem: { id: deterministicId(rand), displayName: job.targetSystem, details: job.direction === "inbound" ? {} : appSide },
    sourceIdentity: isUser
      ? { id: sourceId, displayName: who.user.displayName, identityType: "User", details: { id: sourceId, odatatype: "User", DisplayName: who.user.displayName, UserPrincipalName: who.user.upn } }
      : { id: sourceId, displayName: who.group.displayName, identityType: "Group", details: { id: sourceId, odatatype: "Group", DisplayName: who.group.displayName } },
    targetIdentity: { id: targetCreated, displayName: isUser ? who.user.displayName : who.group.displayName, identityType: isUser ? job.identityType : job.identityType.replace(/User$/, "Group"), details: {} },
    provisioningStatusInfo: { status, errorInformation },
    provisioningSteps: steps(job, who, outcome, at, rand),
    modifiedProperties: modified,
  };
}

/** The demo tenant's people, groups and jobs (and the random source after them), for a seed. */
export function demoCast(options: Pick<DemoOptions, "seed" | "users"> = {}): { rand: () => number; users: DemoUser[]; groups: DemoGroup[]; jobs: DemoJob[] } {
  const rand = seededRandom(options.seed ?? 20261122);
  const users = demoUsers(options.users ?? 400, rand);
  const groups = demoGroups(rand);
  const jobs = demoJobs(rand);
  return { rand, users, groups, jobs };
}

/**
 * Where an object stands in one app: as the story left it, else as it stood when the window began
 * (most were provisioned before; the example people everywhere). One rule for the history and the live tail.
 */
export function demoStateOf(users: DemoUser[], lifecycle: ReadonlyMap<string, Lifecycle>): (jobKey: string, objectId: string) => Lifecycle {
  const examples = new Set(users.slice(0, 4).map((u) => u.objectId));
  return (jobKey, objectId) => lifecycle.get(`${jobKey}|${objectId}`) ?? (examples.has(objectId) || parseInt(objectId.slice(0, 4), 16) % 10 < 8 ? "active" : "absent");
}

/** Whether a demo user is assigned to (in the scope of) a job: one rule for the history and the live tail. */
export function demoInScope(users: DemoUser[]): (job: DemoJob, user: DemoUser) => boolean {
  const [alice, bob, carol, aliceMartin] = users as [DemoUser, DemoUser, DemoUser, DemoUser];
  return (job, user) => {
    if (user === bob && job.key === "salesforce") return false; // "why was bob skipped in Salesforce"
    if (user === aliceMartin && job.key === "servicenow") return false; // so "alice" + ServiceNow failures means Alice Zhang
    if ((user === alice || user === bob || user === carol) && job.direction !== "crossTenant") return true;
    const h = (parseInt(user.objectId.slice(0, 6), 16) ^ job.key.length * 2654435761) >>> 0;
    return (h % 1000) / 1000 < job.scopeShare;
  };
}

/** The Workday backlog's failing workers (a separate random source: the rest of the demo does not move). */
export function demoWorkdayBacklog(seed = 20261122): DemoUser[] {
  return demoWorkers(DEMO_WORKDAY_FAILING, seededRandom(seed ^ 0x5eed));
}

export function* generateDemo(options: DemoOptions): Generator<Record<string, unknown>> {
  const { rand, users, groups, jobs } = demoCast(options);
  const now = options.now.getTime();
  const days = options.days ?? 7;
  const perCycle = options.perCycle ?? 3;
  const byKey = new Map(jobs.map((j) => [j.key, j]));
  const [alice, bob, carol] = users as [DemoUser, DemoUser, DemoUser];
  const inScope = demoInScope(users);
  const pick = <T,>(list: T[]) => list[Math.floor(rand() * list.length)]!;

  const lifecycle = options.lifecycle ?? new Map<string, Lifecycle>();
  const objectId = (who: Who) => (who.kind === "user" ? who.user.objectId : who.group.objectId);
  // Most objects were provisioned before the window begins; a few are new.
  // The people the examples ask about stay provisioned everywhere (their stories are told below).
  const examples = new Set(users.slice(0, 4).map((u) => u.objectId));
  const stateIn = demoStateOf(users, lifecycle);
  const stateOf = (job: DemoJob, who: Who): Lifecycle => stateIn(job.key, objectId(who));
  const setState = (job: DemoJob, who: Who, s: Lifecycle) => lifecycle.set(`${job.key}|${objectId(who)}`, s);
  /** The next outcome that fits where the object stands, or null when there is nothing left to do (deleted). */
  const nextOutcome = (job: DemoJob, who: Who, state: Lifecycle): Outcome | null => {
    const r = rand();
    if (examples.has(objectId(who))) return r < 0.6 ? { kind: "update" } : r < 0.9 ? { kind: "redundant" } : { kind: "failure", error: pick(job.errors), action: "update" };
    switch (state) {
      case "absent":
        return r < 0.85 ? { kind: "create" } : { kind: "failure", error: pick(job.errors), action: "create" };
      case "active":
        if (r < 0.55) return { kind: "update" };
        if (r < 0.78) return { kind: "redundant" };
        if (r < 0.86) return { kind: "failure", error: pick(job.errors), action: "update" };
        if (r < 0.95) return { kind: "disable" };
        return { kind: "delete" };
      case "disabled":
        return r < 0.6 ? { kind: "redundant" } : { kind: "delete" };
      case "deleted":
        return null;
    }
  };
  const after = (state: Lifecycle, outcome: Outcome): Lifecycle =>
    outcome.kind === "create" ? "active" : outcome.kind === "disable" ? "disabled" : outcome.kind === "delete" ? "deleted" : state;
  /** One event in the story of (job, object): its outcome moves the object's state on. */
  const emit = (job: DemoJob, cycleId: string, at: Date, who: Who, outcome: Outcome) => {
    const state = stateOf(job, who);
    setState(job, who, after(state, outcome));
    return demoRecord(job, cycleId, at, who, outcome, rand, state === "active" || state === "disabled");
  };

  for (const job of jobs) {
    // Box went quiet five hours ago: the "silent job" the alerts look for.
    // Fabrikam was paused 5.5 hours ago: a paused job logs nothing.
    const stopAt =
      options.incidents === false
        ? now
        : job.key === "box"
          ? now - DEMO_BOX_STOPPED_HOURS * 60 * MINUTE
          : job.key === "fabrikam"
            ? now - DEMO_FABRIKAM_PAUSED_HOURS * 60 * MINUTE
            : job.key === "dropbox"
              ? now - DEMO_DROPBOX_HELD_HOURS * 60 * MINUTE - 10 * MINUTE
              : now;
    let t = now - days * 24 * 60 * MINUTE + Math.floor(rand() * job.cycleMinutes) * MINUTE;
    while (t < stopAt) {
      const cycleId = deterministicId(rand);
      const n = Math.max(1, Math.round(perCycle * (0.5 + rand())));
      for (let i = 0; i < n; i++) {
        const at = new Date(t + i * (1000 + Math.floor(rand() * 4000)));
        const who: Who = job.provisionsGroups && rand() < 0.12 ? { kind: "group", group: pick(groups) } : { kind: "user", user: pick(users) };
        let outcome: Outcome | null;
        if (who.kind === "user" && !inScope(job, who.user)) outcome = { kind: "outOfScope" };
        else outcome = nextOutcome(job, who, stateOf(job, who));
        if (!outcome) continue; // deleted there: nothing more happens to it
        yield emit(job, cycleId, at, who, outcome);
      }
      t += (job.cycleMinutes - 10 + Math.floor(rand() * 20)) * MINUTE;
    }
  }

  // The people the examples ask about.
  const servicenow = byKey.get("servicenow")!;
  const salesforce = byKey.get("salesforce")!;
  const dropbox = byKey.get("dropbox")!;
  const box = byKey.get("box")!;
  const adobe = byKey.get("adobe")!;
  yield demoRecord(box, deterministicId(rand), new Date(now - 3 * 24 * 60 * MINUTE), { kind: "user", user: bob }, { kind: "update" }, rand);
  yield demoRecord(salesforce, deterministicId(rand), new Date(now - 20 * 60 * MINUTE), { kind: "user", user: bob }, { kind: "outOfScope" }, rand);
  yield demoRecord(dropbox, deterministicId(rand), new Date(now - 26 * 60 * MINUTE), { kind: "user", user: carol }, { kind: "failure", error: dropbox.errors[0]!, action: "update" }, rand);
  yield demoRecord(adobe, deterministicId(rand), new Date(now - 2 * 24 * 60 * MINUTE), { kind: "user", user: alice }, { kind: "update" }, rand);

  if (options.incidents === false) return;

  // The incidents happen to objects where they fit their story: failures to objects not deleted
  // (a create failure when it was never created), disables and held-back deletes to active ones.
  const user = (u: DemoUser): Who => ({ kind: "user", user: u });
  const activeIn = (job: DemoJob) => users.filter((u) => inScope(job, u) && stateOf(job, user(u)) === "active");
  // Failure spike in ServiceNow over the last 80 minutes, Alice among the failures.
  const spikeCycle = deterministicId(rand);
  const spikeUsers = [alice, ...users.filter((u) => u !== alice && inScope(servicenow, u) && stateOf(servicenow, user(u)) !== "deleted")];
  for (let i = 0; i < 36; i++) {
    const who = user(spikeUsers[i % spikeUsers.length]!);
    const action = stateOf(servicenow, who) === "absent" ? "create" : "update";
    yield emit(servicenow, spikeCycle, new Date(now - 80 * MINUTE + i * 2 * MINUTE), who, { kind: "failure", error: servicenow.errors[i % 3 === 0 ? 0 : 1]!, action });
  }
  // A disable storm in Adobe: one cycle 20 minutes ago disables 48 active users (its scope was
  // changed 14 minutes before: see demo/health.ts).
  const stormCycle = deterministicId(rand);
  const adobeActive = activeIn(adobe);
  for (let i = 0; i < Math.min(48, adobeActive.length); i++) yield emit(adobe, stormCycle, new Date(now - 20 * MINUTE + i * 7000), user(adobeActive[(i + 11) % adobeActive.length]!), { kind: "disable", reason: "scope" });
  // Workday's backlog: each failing worker's latest retry, spread evenly over the window (a steady
  // load, not a spike), in cycles of their own every 40 minutes; the job status counts them as escrowed.
  const workday = byKey.get("workday")!;
  const backlog = demoWorkdayBacklog(options.seed ?? 20261122);
  const span = days * 24 * 60 * MINUTE - 60 * MINUTE;
  let backlogCycle = "";
  let backlogSlot = -1;
  for (let i = 0; i < backlog.length; i++) {
    const at = now - 50 * MINUTE - span + Math.floor(((i + 0.5) * span) / backlog.length);
    const slot = Math.floor(at / (40 * MINUTE));
    if (slot !== backlogSlot) [backlogSlot, backlogCycle] = [slot, deterministicId(rand)];
    yield demoRecord(workday, backlogCycle, new Date(at), { kind: "user", user: backlog[i]! }, { kind: "failure", error: workday.errors[i % 4 === 0 ? 1 : 0]!, action: "create" }, rand, false);
  }
  // Dropbox held back deletions three hours ago (more than its accidental-deletion threshold of 10),
  // and is in quarantine for too many deletes since: it logs nothing more until someone allows them.
  const stagedCycle = deterministicId(rand);
  const dropboxActive = activeIn(dropbox);
  for (let i = 0; i < Math.min(12, dropboxActive.length); i++) yield emit(dropbox, stagedCycle, new Date(now - DEMO_DROPBOX_HELD_HOURS * 60 * MINUTE + i * 5000), user(dropboxActive[(i + 5) % dropboxActive.length]!), { kind: "stagedDelete" });
}
