import { inScope, parseJob, transitions, type JobStatus, type Transition } from "../core/jobs/status";
import type { JobStatusChange, JobStatusStore, StoredJobStatus } from "./jobHealthPorts";
import { isCutShort } from "./graphPoll";

/**
 * Reads every provisioning job's status from Graph and keeps it, with the history of its changes.
 * Service principals come from the stored events and from listing them (a job quarantined for
 * credentials logs nothing); a service principal without synchronization jobs answers an empty
 * list. One service principal that fails (deleted meanwhile, throttled for good) stops nothing.
 */
export interface JobSource {
  servicePrincipals(): Promise<{ id: string; displayName: string }[]>;
  jobsOf(servicePrincipalId: string): Promise<unknown[]>;
}

export interface JobReading {
  record: StoredJobStatus;
  before: JobStatus | null;
  transitions: Transition[];
}

export interface PollOutcome {
  servicePrincipals: number;
  jobs: number;
  /** Every job read in this poll, with what changed. */
  readings: JobReading[];
  failed: { servicePrincipalId: string; error: string }[];
}

export interface JobPollDeps {
  source: JobSource;
  store: JobStatusStore;
  /** The storage key of a job (the same as the events' jobs table). */
  jobKeyOf: (jobId: string, servicePrincipalId: string) => string;
  /** The tenant Graph is read for ("" when unknown). */
  tenantId: string;
  /** How many service principals are read at once. */
  concurrency?: number;
}

/** The parts of a status that count as a change (not the moment it was read). */
const fingerprint = (s: JobStatus) => JSON.stringify(s);

export async function pollJobStatus(deps: JobPollDeps, known: { id: string; displayName: string }[], now: string): Promise<PollOutcome> {
  // Object ids compare without case (one service principal, known from events and listed by
  // Graph, is read once); requests use the id as Graph gave it.
  const principals = new Map<string, { id: string; name: string }>();
  for (const k of known) if (k.id) principals.set(k.id.toLowerCase(), { id: k.id, name: k.displayName });
  let listed: { id: string; displayName: string }[] = [];
  const failedList: PollOutcome["failed"] = [];
  try {
    listed = await deps.source.servicePrincipals();
  } catch (err) {
    // A read Graph's client stopped on purpose (a nextLink off the Graph origin, a cap) fails the run.
    if (isCutShort(err)) throw err;
    // Without the list (Application.Read.All missing, Graph down) the known service principals are still read.
    failedList.push({ servicePrincipalId: "*", error: err instanceof Error ? err.message.slice(0, 200) : String(err) });
  }
  for (const sp of listed) principals.set(sp.id.toLowerCase(), { id: sp.id, name: sp.displayName || principals.get(sp.id.toLowerCase())?.name || "" });
  const names = new Map([...principals.values()].map((p) => [p.id, p.name]));
  const stored = new Map((await deps.store.all()).map((r) => [r.jobKey, r]));
  const out: PollOutcome = { servicePrincipals: principals.size, jobs: 0, readings: [], failed: failedList };
  const ids = [...names.keys()];
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      let raw: unknown[];
      try {
        raw = await deps.source.jobsOf(id);
      } catch (err) {
        if (isCutShort(err)) throw err;
        out.failed.push({ servicePrincipalId: id, error: err instanceof Error ? err.message.slice(0, 200) : String(err) });
        continue;
      }
      for (const r of raw) {
        const status = parseJob(r);
        if (!status) continue;
        out.jobs++;
        const jobKey = deps.jobKeyOf(status.jobId, id);
        const prior = stored.get(jobKey) ?? null;
        const before = prior?.status ?? null;
        const changes = transitions(before, status);
        const changed = !before || fingerprint(before) !== fingerprint(status);
        const record: StoredJobStatus = { jobKey, jobId: status.jobId, servicePrincipalId: id, appName: names.get(id) || prior?.appName || "", tenantId: deps.tenantId || prior?.tenantId || "", status, checkedAt: now, changedAt: changed ? now : prior!.changedAt };
        // A quarantine entered is dated when it began (Graph says so), not when this poll saw it:
        // the first reading of a job already in quarantine is that quarantine, not a second one.
        const began = changes.includes("quarantined") ? (status.quarantine?.seriesBegan ?? status.quarantine?.currentBegan ?? null) : null;
        const at = began && began < now ? began : now;
        const change: JobStatusChange | null = changed ? { at, code: status.code, reason: status.quarantine?.reason ?? "", transitions: changes, failing: status.lastExecution?.escrowed ?? 0, inScope: inScope(status) } : null;
        await deps.store.save(record, change);
        out.readings.push({ record, before, transitions: changes });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(deps.concurrency ?? 4, ids.length) }, worker));
  return out;
}
