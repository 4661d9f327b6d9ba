/**
 * The quarantine forecast, pure. Entra starts evaluating a job's escrows (objects that keep
 * failing) once there are 5,000 of them, and quarantines the job when more than 40 % of the
 * objects in scope fail or 40,000 do. provbot warns while a job is on course to cross either line,
 * before Entra acts: at 75 % of the way there, or sooner when the trend reaches the line within a day.
 */
export const ESCROW_EVALUATION_START = 5_000;
export const ESCROW_SHARE_LIMIT = 0.4;
export const ESCROW_TOTAL_LIMIT = 40_000;
const WARN_AT = 0.75;
const HORIZON_HOURS = 24;

export interface ForecastInput {
  /** Objects failing now (the job status's escrow count, or the logs' failing objects). */
  failing: number;
  /** Objects in scope (0 when unknown: the share cannot be judged). */
  inScope: number;
  /** The same count at an earlier reading, for the trend. */
  earlier?: { failing: number; hoursAgo: number };
}

export interface Forecast {
  failing: number;
  share: number | null;
  /** Which of Entra's lines is nearest. */
  line: "share" | "total";
  /** Hours until the line at the current trend; null when it is not rising. */
  hoursToLine: number | null;
  summary: string;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const n = (x: number) => Math.round(x).toLocaleString("en-US");

export function quarantineForecast(input: ForecastInput): Forecast | null {
  const failing = Math.max(0, input.failing);
  const share = input.inScope > 0 ? failing / input.inScope : null;
  // The failing count at which each line is crossed.
  const shareLineAt = input.inScope > 0 ? Math.max(ESCROW_EVALUATION_START, ESCROW_SHARE_LIMIT * input.inScope) : Infinity;
  const lineAt = Math.min(shareLineAt, ESCROW_TOTAL_LIMIT);
  const line: Forecast["line"] = shareLineAt <= ESCROW_TOTAL_LIMIT ? "share" : "total";
  if (failing >= lineAt) return null; // Entra has crossed it: the quarantine itself is the alert.
  const perHour = input.earlier && input.earlier.hoursAgo > 0 ? (failing - input.earlier.failing) / input.earlier.hoursAgo : 0;
  const hoursToLine = perHour > 0 ? (lineAt - failing) / perHour : null;
  const near = failing >= WARN_AT * lineAt && failing >= WARN_AT * ESCROW_EVALUATION_START;
  const soon = hoursToLine !== null && hoursToLine <= HORIZON_HOURS && failing >= WARN_AT * ESCROW_EVALUATION_START;
  if (!near && !soon) return null;
  const where =
    line === "share"
      ? `${n(failing)} of ${n(input.inScope)} objects in scope are failing (${pct(share ?? 0)}); Entra quarantines a job above ${pct(ESCROW_SHARE_LIMIT)} once ${n(ESCROW_EVALUATION_START)} or more fail (here at ${n(lineAt)})`
      : `${n(failing)} objects are failing; Entra quarantines the job at ${n(ESCROW_TOTAL_LIMIT)}`;
  const trend = hoursToLine !== null ? `, which the current trend (+${n(perHour)} an hour) reaches in about ${hoursToLine < 1 ? "less than an hour" : `${Math.round(hoursToLine)} hours`}` : "";
  return { failing, share, line, hoursToLine, summary: `${where}${trend}. Fix the most frequent errors first to keep the job running.` };
}
