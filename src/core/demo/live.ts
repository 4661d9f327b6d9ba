import { demoCast, demoInScope, demoStateOf, demoRecord, demoWorkdayBacklog, generateDemo, type Lifecycle, type Outcome, type Who } from "./generator";
import { DEMO_ZOOM, demoZoomJob, deterministicId, seedOf as hash, seededRandom, type DemoJob, type DemoUser } from "./tenant";

/**
 * The demo tenant after its `now`: it keeps running with the clock, so the walk-through shows the
 * same story whenever it is followed (issue 25, item 13). Pure and deterministic: the events of a
 * time range are always the same records with the same ids, so a poller that reads a range twice
 * stores nothing twice.
 * - Each running job keeps its 40-minute cycles (updates, redundant skips, the odd failure).
 * - ServiceNow's conflict is not fixed: its failing users are retried every two minutes, so the
 *   failure spike stays open.
 * - Workday's failing workers are retried each cycle (the backlog neither grows nor shrinks).
 * - Zoom's initial cycle creates its users one by one until it completes.
 * - Box and Dropbox (quarantined) and Fabrikam (paused) log nothing, as in the history.
 * The Adobe burst is not repeated: a burst stays open until someone acknowledges it.
 */
const MINUTE = 60_000;
export const LIVE_SLOT_MS = 2 * MINUTE;
const CYCLE_SLOTS = 20; // 40 minutes
const RUNNING = ["servicenow", "adobe", "salesforce", "aws", "hrportal", "workday"] as const;

export interface DemoLive {
  /** Records with activityDateTime in (fromMs, toMs], oldest first. */
  between(fromMs: number, toMs: number): Record<string, unknown>[];
  /** Start of a running job's latest cycle at or before `t` (the job status's last execution). */
  lastCycleStart(jobKey: string, t: number): number;
  /**
   * The log record of a provision on demand that succeeded (the emulator adds it to the logs, as
   * Entra does): the object updated in the job's app at `at`; null for an object the demo does not hold.
   */
  onDemandRecord(servicePrincipalId: string, objectId: string, at: number): Record<string, unknown> | null;
  /** Workday's objects whose latest event failed: the same in the history and as the clock runs. */
  workdayFailing: number;
  /** Zoom's users created by `t`, and how many are in its scope. */
  zoomProgress(t: number): { created: number; inScope: number; done: boolean; doneAt: number };
}

export function demoLive(demoNow: Date, seed = 20261122): DemoLive {
  const now = demoNow.getTime();
  const lifecycle = new Map<string, Lifecycle>();
  const { users, jobs } = demoCast({ seed });
  const workdayJob = jobs.find((j) => j.key === "workday")!.jobId;
  // Run the history once to know where every (job, object) stands at the demo's now, and which
  // Workday objects are failing (their latest event failed): the job status's escrow count.
  const workdayLatest = new Map<string, { at: string; failed: boolean }>();
  for (const r of generateDemo({ now: demoNow, seed, lifecycle })) {
    if (r["jobId"] !== workdayJob) continue;
    const id = String((r["sourceIdentity"] as { id: string }).id);
    const at = String(r["activityDateTime"]);
    const failed = (r["provisioningStatusInfo"] as { status: string }).status === "failure";
    const seen = workdayLatest.get(id);
    if (!seen || seen.at <= at) workdayLatest.set(id, { at, failed });
  }
  const workdayFailing = [...workdayLatest.values()].filter((v) => v.failed).length;
  const inScope = demoInScope(users);
  const byKey = new Map(jobs.map((j) => [j.key, j]));
  const stateIn = demoStateOf(users, lifecycle);
  const stateOf = (job: DemoJob, u: DemoUser): Lifecycle => stateIn(job.key, u.objectId);
  // Who each running job touches as it runs: its active users (Workday: not those failing, which stay failing).
  const failingWorker = (u: DemoUser) => workdayLatest.get(u.employeeId)?.failed === true;
  const active = new Map(RUNNING.map((k) => [k, users.filter((u) => inScope(byKey.get(k)!, u) && stateOf(byKey.get(k)!, u) === "active" && !(k === "workday" && failingWorker(u)))]));
  const servicenow = byKey.get("servicenow")!;
  const spikeUsers = [users[0]!, ...users.filter((u) => u !== users[0] && inScope(servicenow, u) && stateOf(servicenow, u) !== "deleted")];
  const backlog = demoWorkdayBacklog(seed);
  const offset = (key: string) => (RUNNING.indexOf(key as (typeof RUNNING)[number]) * 3) % CYCLE_SLOTS;

  // Zoom: in-scope users, Alice Zhang last (so "when will alice be provisioned in Zoom?" has a forecast
  // to give until the very end), created evenly from the start to the completion.
  const zoom = demoZoomJob();
  const zoomStart = now - DEMO_ZOOM.startedBeforeMinutes * MINUTE;
  const zoomDone = now + DEMO_ZOOM.doneAfterMinutes * MINUTE;
  const zoomUsers = [...users.slice(1).filter((u) => inScope(zoom, u)), users[0]!];
  // Whole seconds: a record's time is written to the second, and the status counts by the same instant.
  const zoomAt = (i: number) => Math.floor((zoomStart + Math.floor(((i + 1) * (zoomDone - zoomStart - MINUTE)) / zoomUsers.length)) / 1000) * 1000;
  const zoomCycle = deterministicId(seededRandom(hash(seed, "zoom-initial")));
  const zoomRecords = zoomUsers.map((u, i) => demoRecord(zoom, zoomCycle, new Date(zoomAt(i)), { kind: "user", user: u }, { kind: "create" }, seededRandom(hash(seed, "zoom", i)), false));

  const slots = new Map<number, Record<string, unknown>[]>();
  const slot = (k: number): Record<string, unknown>[] => {
    const cached = slots.get(k);
    if (cached) return cached;
    const rand = seededRandom(hash(seed, "slot", k));
    const start = now + k * LIVE_SLOT_MS;
    const out: Record<string, unknown>[] = [];
    const user = (u: DemoUser): Who => ({ kind: "user", user: u });
    // ServiceNow's unfixed conflict: one retry every slot, through the same failing users.
    const who = spikeUsers[(36 + k) % spikeUsers.length]!;
    out.push(demoRecord(servicenow, deterministicId(rand), new Date(start + 20_000), user(who), { kind: "failure", error: servicenow.errors[k % 3 === 0 ? 0 : 1]!, action: stateOf(servicenow, who) === "absent" ? "create" : "update" }, rand, stateOf(servicenow, who) !== "absent"));
    for (const key of RUNNING) {
      if ((k - offset(key)) % CYCLE_SLOTS !== 0) continue;
      const job = byKey.get(key)!;
      const cycleId = deterministicId(rand);
      const pool = active.get(key)!;
      const n = 2 + Math.floor(rand() * 3);
      for (let i = 0; i < n && pool.length > 0; i++) {
        const r = rand();
        // Workday's failing objects are its backlog alone (its escrow count stays what the history left).
        const fails = r >= 0.92 && key !== "workday";
        const outcome: Outcome = r < 0.6 ? { kind: "update" } : !fails ? { kind: "redundant" } : { kind: "failure", error: job.errors[Math.floor(rand() * job.errors.length)]!, action: "update" };
        out.push(demoRecord(job, cycleId, new Date(start + 30_000 + i * 4_000), user(pool[Math.floor(rand() * pool.length)]!), outcome, rand, true));
      }
      if (key === "workday") {
        // The backlog's retries: 17 a cycle, as in the history.
        for (let i = 0; i < 17; i++) {
          const w = backlog[(k * 17 + i) % backlog.length]!;
          out.push(demoRecord(job, cycleId, new Date(start + 50_000 + i * 2_000), user(w), { kind: "failure", error: job.errors[(k + i) % 4 === 0 ? 1 : 0]!, action: "create" }, rand, false));
        }
      }
    }
    slots.set(k, out);
    if (slots.size > 5_000) slots.delete(slots.keys().next().value!);
    return out;
  };

  return {
    workdayFailing,
    onDemandRecord(servicePrincipalId, objectId, at) {
      const job = [...jobs, zoom].find((j) => j.servicePrincipalId === servicePrincipalId);
      const u = users.find((x) => x.objectId === objectId || x.employeeId === objectId);
      if (!job || !u) return null;
      const rand = seededRandom(hash(seed, "on-demand", servicePrincipalId, objectId, at));
      return demoRecord(job, deterministicId(rand), new Date(at), { kind: "user", user: u }, { kind: "update" }, rand, true);
    },
    between(fromMs, toMs) {
      const inRange = (r: Record<string, unknown>) => {
        const t = Date.parse(String(r["activityDateTime"]));
        return t > fromMs && t <= toMs;
      };
      const out = zoomRecords.filter(inRange);
      const first = Math.max(0, Math.floor((fromMs - now) / LIVE_SLOT_MS));
      for (let k = first; now + k * LIVE_SLOT_MS <= toMs; k++) out.push(...slot(k).filter(inRange));
      return out.sort((a, b) => String(a["activityDateTime"]).localeCompare(String(b["activityDateTime"])));
    },
    lastCycleStart(jobKey, t) {
      const period = CYCLE_SLOTS * LIVE_SLOT_MS;
      const origin = now + offset(jobKey) * LIVE_SLOT_MS;
      return origin + Math.floor((t - origin) / period) * period;
    },
    zoomProgress(t) {
      const created = zoomUsers.filter((_, i) => zoomAt(i) <= t).length;
      return { created, inScope: zoomUsers.length, done: t >= zoomDone, doneAt: zoomDone };
    },
  };
}
