import { parseJob, transitions, type JobStatus, type Transition } from "../core/jobs/status";

/**
 * Issue 14 (work in progress): read every provisioning job's status and keep what changed.
 * Service principals come from the stored events and from listing them (a job quarantined for
 * credentials logs nothing); a service principal without synchronization jobs answers an empty list.
 */
export interface JobSource {
  servicePrincipals(): Promise<{ id: string; displayName: string }[]>;
  jobsOf(servicePrincipalId: string): Promise<unknown[]>;
}

export interface JobStatusStore {
  latest(servicePrincipalId: string, jobId: string): Promise<JobStatus | null>;
  save(servicePrincipalId: string, status: JobStatus, changes: Transition[], at: string): Promise<void>;
}

export interface PollOutcome {
  servicePrincipals: number;
  jobs: number;
  changes: { servicePrincipalId: string; jobId: string; transitions: Transition[] }[];
  failed: { servicePrincipalId: string; error: string }[];
}

export async function pollJobStatus(source: JobSource, store: JobStatusStore, knownIds: string[], now: string): Promise<PollOutcome> {
  const ids = new Set(knownIds.filter(Boolean));
  for (const sp of await source.servicePrincipals()) ids.add(sp.id);
  const out: PollOutcome = { servicePrincipals: ids.size, jobs: 0, changes: [], failed: [] };
  for (const id of ids) {
    let raw: unknown[];
    try {
      raw = await source.jobsOf(id);
    } catch (err) {
      // One service principal failing (deleted meanwhile, throttled for good) never stops the others.
      out.failed.push({ servicePrincipalId: id, error: err instanceof Error ? err.message.slice(0, 200) : String(err) });
      continue;
    }
    for (const r of raw) {
      const status = parseJob(r);
      if (!status) continue;
      out.jobs++;
      const before = await store.latest(id, status.jobId);
      const changes = transitions(before, status);
      if (!before || changes.length > 0 || JSON.stringify(before) !== JSON.stringify(status)) await store.save(id, status, changes, now);
      if (changes.length > 0) out.changes.push({ servicePrincipalId: id, jobId: status.jobId, transitions: changes });
    }
  }
  return out;
}
