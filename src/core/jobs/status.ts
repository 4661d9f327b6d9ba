import { count, record, text } from "./untrusted";
import { clampedIso } from "../timeBuckets";

/**
 * A provisioning job's status as Microsoft Graph's synchronizationJob reports it
 * (`GET /servicePrincipals/{id}/synchronization/jobs`): the provisioning summary report. Read from
 * untrusted JSON into a typed value, with the quarantine reasons explained and the transitions the
 * alerts need. Pure.
 */
export const STATUS_CODES = ["NotConfigured", "NotRun", "Active", "Paused", "Quarantine"] as const;
export type StatusCode = (typeof STATUS_CODES)[number];

export interface Execution {
  began: string | null;
  ended: string | null;
  state: string;
  imported: number;
  exported: number;
  escrowed: number;
  entitled: number;
  errorCode: string;
  errorMessage: string;
}

export interface Quarantine {
  reason: string;
  currentBegan: string | null;
  nextAttempt: string | null;
  seriesBegan: string | null;
  seriesCount: number;
  errorCode: string;
  errorMessage: string;
}

export interface JobStatus {
  jobId: string;
  templateId: string;
  code: StatusCode | "Unknown";
  /** ISO 8601 duration, e.g. PT40M. */
  interval: string;
  scheduleState: string;
  lastExecution: Execution | null;
  lastSuccessfulExecution: Execution | null;
  lastSuccessfulExecutionWithExports: Execution | null;
  /** Null while the initial cycle has not completed (Graph reports 0001-01-01T00:00:00Z). */
  steadyStateFirstAchievedTime: string | null;
  quarantine: Quarantine | null;
  countSuccessiveCompleteFailures: number;
  escrowsPruned: boolean;
  /** Objects in scope by type, e.g. {"User": 1200, "Group": 40}. */
  entriesByType: Record<string, number>;
  /** The initial cycle's progress, as Graph reports it (completed of total units, per step). */
  progress: { completed: number; total: number; at: string | null }[];
  /** The accidental-deletion threshold (QuarantineTooManyDeletesThreshold), null when unset. */
  deleteThreshold: number | null;
}

const str = (v: unknown, max = 1000): string => text(v, max);

/**
 * A job's times are believed only between 2000 and 2200: Graph's "never" (0001-01-01), a date
 * JavaScript cannot hold (+275760-09-13 and beyond) or anything else outside is no time at all,
 * for that job alone.
 */
const EARLIEST_JOB_TIME = Date.parse("2000-01-01T00:00:00Z");
const LATEST_JOB_TIME = Date.parse("2200-01-01T00:00:00Z");
const time = (v: unknown): string | null => {
  const s = str(v, 64);
  const t = s ? Date.parse(s) : NaN;
  return Number.isFinite(t) && t >= EARLIEST_JOB_TIME && t < LATEST_JOB_TIME ? new Date(t).toISOString() : null;
};

/**
 * A stored status read back (rows written before times were bounded, or by hand): its times are
 * checked again as parseJob checks them, so one bad row never breaks the health of every job.
 */
export function reviveJobStatus(stored: unknown): JobStatus | null {
  const s = record(stored);
  if (typeof s["jobId"] !== "string") return null;
  const st = s as unknown as JobStatus;
  const exec = (e: Execution | null): Execution | null => (e && typeof e === "object" ? { ...e, began: time(e.began), ended: time(e.ended) } : null);
  const q = st.quarantine && typeof st.quarantine === "object" ? { ...st.quarantine, currentBegan: time(st.quarantine.currentBegan), nextAttempt: time(st.quarantine.nextAttempt), seriesBegan: time(st.quarantine.seriesBegan) } : null;
  return {
    ...st,
    interval: typeof st.interval === "string" ? st.interval : "",
    lastExecution: exec(st.lastExecution),
    lastSuccessfulExecution: exec(st.lastSuccessfulExecution),
    lastSuccessfulExecutionWithExports: exec(st.lastSuccessfulExecutionWithExports),
    steadyStateFirstAchievedTime: time(st.steadyStateFirstAchievedTime),
    quarantine: q,
    entriesByType: st.entriesByType && typeof st.entriesByType === "object" ? st.entriesByType : {},
    progress: Array.isArray(st.progress) ? st.progress.map((p) => ({ ...p, at: time(p?.at) })) : [],
  };
}

function execution(v: unknown): Execution | null {
  const e = record(v);
  if (Object.keys(e).length === 0) return null;
  const error = record(e["error"]);
  return {
    began: time(e["timeBegan"]),
    ended: time(e["timeEnded"]),
    state: str(e["state"], 64),
    imported: count(e["countImported"]),
    exported: count(e["countExported"]),
    escrowed: count(e["countEscrowed"]),
    entitled: count(e["countEntitled"]),
    errorCode: str(error["code"], 200),
    errorMessage: str(error["message"], 2000),
  };
}

/** A synchronizationJob from Graph, or null when it is not one (the value is data from outside). */
export function parseJob(raw: unknown): JobStatus | null {
  const j = record(raw);
  const jobId = str(j["id"], 1024);
  if (!jobId) return null;
  const status = record(j["status"]);
  const schedule = record(j["schedule"]);
  const code = str(status["code"], 64);
  const q = record(status["quarantine"]);
  const qError = record(q["error"]);
  const entries: Record<string, number> = {};
  for (const item of Array.isArray(status["synchronizedEntryCountByType"]) ? status["synchronizedEntryCountByType"] : []) {
    const kv = record(item);
    const key = str(kv["key"], 200);
    if (key) entries[key] = count(kv["value"]);
  }
  return {
    jobId,
    templateId: str(j["templateId"], 200),
    code: (STATUS_CODES as readonly string[]).includes(code) ? (code as StatusCode) : "Unknown",
    interval: str(schedule["interval"], 64),
    scheduleState: str(schedule["state"], 64),
    lastExecution: execution(status["lastExecution"]),
    lastSuccessfulExecution: execution(status["lastSuccessfulExecution"]),
    lastSuccessfulExecutionWithExports: execution(status["lastSuccessfulExecutionWithExports"]),
    steadyStateFirstAchievedTime: time(status["steadyStateFirstAchievedTime"]),
    quarantine: Object.keys(q).length
      ? { reason: str(q["reason"], 100) || "Unknown", currentBegan: time(q["currentBegan"]), nextAttempt: time(q["nextAttempt"]), seriesBegan: time(q["seriesBegan"]), seriesCount: count(q["seriesCount"]), errorCode: str(qError["code"], 200), errorMessage: str(qError["message"], 2000) }
      : null,
    countSuccessiveCompleteFailures: count(status["countSuccessiveCompleteFailures"]),
    escrowsPruned: status["escrowsPruned"] === true,
    entriesByType: entries,
    progress: (Array.isArray(status["progress"]) ? status["progress"] : []).slice(0, 20).map((p) => {
      const o = record(p);
      return { completed: count(o["completedUnits"]), total: count(o["totalUnits"]), at: time(o["progressObservationDateTime"]) };
    }),
    deleteThreshold: setting(j["synchronizationJobSettings"], "QuarantineTooManyDeletesThreshold"),
  };
}

/** A numeric job setting ([{name, value}] in Graph), or null. */
function setting(raw: unknown, name: string): number | null {
  for (const item of Array.isArray(raw) ? raw : []) {
    const kv = record(item);
    if (str(kv["name"], 200).toLowerCase() === name.toLowerCase() && /^\d+$/.test(str(kv["value"], 20))) return Number(kv["value"]);
  }
  return null;
}

/** Objects in scope: the sum over types. */
export function inScope(s: JobStatus): number {
  return Object.values(s.entriesByType).reduce((a, b) => a + b, 0);
}

/** Whole minutes of an ISO 8601 duration such as PT40M, P1D or PT1H30M; null when it is not one. */
export function intervalMinutes(iso: string): number | null {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(iso);
  if (!m || iso === "P" || iso === "PT") return null;
  const [, d, h, min, sec] = m;
  const total = Number(d ?? 0) * 1440 + Number(h ?? 0) * 60 + Number(min ?? 0) + Number(sec ?? 0) / 60;
  // A schedule beyond a year (or one too long to compute with) is not one Entra sets.
  return total > 0 && total <= 366 * 1440 ? total : null;
}

/** What each quarantine reason means, and what to do about it. */
export const QUARANTINE_REASONS: Readonly<Record<string, { meaning: string; fix: string }>> = {
  EncounteredQuarantineException: { meaning: "the job could not reach the app with its admin credentials", fix: "Test the connection in the app's Provisioning page and re-enter the admin credentials." },
  EncounteredEscrowProportionThreshold: { meaning: "too large a share of the objects in scope are failing", fix: "Fix the most frequent error codes in the logs first, then restart provisioning." },
  EncounteredBaseEscrowThreshold: { meaning: "too many objects are failing", fix: "Fix the most frequent error codes in the logs first, then restart provisioning." },
  EncounteredTotalEscrowThreshold: { meaning: "the total of failing objects passed Entra's limit", fix: "Fix the most frequent error codes in the logs first, then restart provisioning." },
  TooManyDeletes: { meaning: "the accidental-deletion threshold stopped a batch of deletes", fix: "Review the pending deletes in the provisioning logs, then allow them (or fix the scope that caused them)." },
  QuarantinedOnDemand: { meaning: "an administrator quarantined the job", fix: "Restart provisioning when the reason is dealt with." },
  QuarantineOnDemand: { meaning: "an administrator quarantined the job", fix: "Restart provisioning when the reason is dealt with." },
  IngestionInterrupted: { meaning: "reading from the source was interrupted", fix: "Check the source system (HR app or directory) and restart provisioning." },
  Unknown: { meaning: "Entra did not say why", fix: "Open the app's Provisioning page for details; restart provisioning once the cause is fixed." },
};

/** What a quarantine reason means and what to do (Unknown's advice for a reason not listed). */
export function quarantineAdvice(reason: string): { meaning: string; fix: string } {
  // Own keys only: a reason such as "constructor" from outside must not reach Object.prototype.
  return Object.hasOwn(QUARANTINE_REASONS, reason) ? QUARANTINE_REASONS[reason]! : QUARANTINE_REASONS["Unknown"]!;
}

/** Entra retries a quarantined job less and less often and disables it after four weeks. */
export function disableDate(q: Quarantine): string | null {
  return q.seriesBegan ? clampedIso(Date.parse(q.seriesBegan) + 28 * 86_400_000) : null;
}

export type Transition = "quarantined" | "reasonChanged" | "released" | "paused" | "resumed" | "initialCycleCompleted";

/** What changed between two readings of one job (the alerts and the status history). */
export function transitions(before: JobStatus | null, after: JobStatus): Transition[] {
  const out: Transition[] = [];
  const was = before?.code ?? "NotRun";
  if (after.code === "Quarantine" && was !== "Quarantine") out.push("quarantined");
  else if (after.code === "Quarantine" && before?.quarantine?.reason !== after.quarantine?.reason) out.push("reasonChanged");
  if (was === "Quarantine" && after.code !== "Quarantine") out.push("released");
  if (after.code === "Paused" && was !== "Paused") out.push("paused");
  if (was === "Paused" && after.code === "Active") out.push("resumed");
  if (before && !before.steadyStateFirstAchievedTime && after.steadyStateFirstAchievedTime) out.push("initialCycleCompleted");
  return out;
}
