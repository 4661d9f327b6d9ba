/**
 * UTC time buckets, the one place that formats them: hours (yyyyMMddHH) for counts and event
 * partitions, days (yyyyMMdd) and months (yyyyMM) for table shards. Pure, ISO strings in and out.
 */
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** The latest instant JavaScript can hold (+275760-09-13). */
const MAX_TIME_MS = 8.64e15;

/**
 * An instant as ISO, clamped to what a Date can hold, so arithmetic on a hostile date (a year
 * 275760, a duration of a billion days) never throws a RangeError; NaN becomes null.
 */
export function clampedIso(ms: number): string | null {
  if (Number.isNaN(ms)) return null;
  return new Date(Math.max(-MAX_TIME_MS, Math.min(MAX_TIME_MS, ms))).toISOString();
}

export function hourBucket(iso: string): string {
  return iso.slice(0, 13).replace(/[-T]/g, "");
}

export function dayBucket(iso: string): string {
  return iso.slice(0, 10).replace(/-/g, "");
}

export function monthBucket(iso: string): string {
  return iso.slice(0, 7).replace(/-/g, "");
}

/** The start of an hour bucket as an ISO time. */
export function hourStart(bucket: string): string {
  return `${bucket.slice(0, 4)}-${bucket.slice(4, 6)}-${bucket.slice(6, 8)}T${bucket.slice(8, 10)}:00:00.000Z`;
}

/**
 * Whether an hour bucket belongs to the half-open range [from, to): the hour that holds `from`
 * (counted whole: the count is then "about"), through the last hour that starts before `to`. An
 * event at exactly 00:00:00.0000000 today is today's, never yesterday's. The one boundary rule of
 * counts, lists, the tab and alerts.
 */
export function hourInRange(bucket: string, fromIso: string, toIso: string): boolean {
  return bucket >= hourBucket(new Date(Date.parse(fromIso)).toISOString()) && Date.parse(hourStart(bucket)) < Date.parse(toIso);
}

/** yyyy-MM-dd of an hour or day bucket, for display. */
export function dayLabel(bucket: string): string {
  return `${bucket.slice(0, 4)}-${bucket.slice(4, 6)}-${bucket.slice(6, 8)}`;
}

/** Hour buckets touching [from, to], newest first, at most `limit`. */
export function hoursBetween(fromIso: string, toIso: string, limit = 24 * 62): string[] {
  const out: string[] = [];
  const from = Math.floor(Date.parse(fromIso) / HOUR_MS) * HOUR_MS;
  for (let t = Math.floor(Date.parse(toIso) / HOUR_MS) * HOUR_MS; t >= from && out.length < limit; t -= HOUR_MS) out.push(hourBucket(new Date(t).toISOString()));
  return out;
}

/** Day buckets touching [from, to], newest first. */
export function daysBetween(fromIso: string, toIso: string, limit = 800): string[] {
  const out: string[] = [];
  const from = Math.floor(Date.parse(fromIso) / DAY_MS) * DAY_MS;
  for (let t = Math.floor(Date.parse(toIso) / DAY_MS) * DAY_MS; t >= from && out.length < limit; t -= DAY_MS) out.push(dayBucket(new Date(t).toISOString()));
  return out;
}

/** Month buckets touching [from, to], newest first. */
export function monthsBetween(fromIso: string, toIso: string, limit = 120): string[] {
  const out: string[] = [];
  const from = new Date(fromIso);
  const fromKey = from.getUTCFullYear() * 12 + from.getUTCMonth();
  const to = new Date(toIso);
  for (let k = to.getUTCFullYear() * 12 + to.getUTCMonth(); k >= fromKey && out.length < limit; k--) out.push(`${Math.floor(k / 12)}${String((k % 12) + 1).padStart(2, "0")}`);
  return out;
}

/** The first instant after a day or month bucket ends, as an ISO time. */
export function bucketEnd(bucket: string): string {
  const y = Number(bucket.slice(0, 4));
  const m = Number(bucket.slice(4, 6)) - 1;
  if (bucket.length === 6) return new Date(Date.UTC(y, m + 1, 1)).toISOString();
  if (bucket.length === 8) return new Date(Date.UTC(y, m, Number(bucket.slice(6, 8)) + 1)).toISOString();
  return new Date(Date.parse(hourStart(bucket)) + HOUR_MS).toISOString();
}

/** "2026-11-22 14:05" (UTC, to the minute) for cards and summaries. */
export function minuteLabel(iso: string): string {
  return iso.slice(0, 16).replace("T", " ");
}
