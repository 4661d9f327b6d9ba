import { createHash } from "node:crypto";

/**
 * Key builders for every table: pure functions, unit-tested. Table Storage has one index
 * (PartitionKey + RowKey), so the keys are designed from the questions asked of them.
 * `|` separates key parts; it and the characters Table Storage forbids in keys are escaped.
 */
const MAX_TICKS = 9_999_999_999_999;

/**
 * Escapes / \ # ? | % and control characters; caps length (keys may be 1 KiB) with a hash. The
 * result is always well-formed UTF-16: a lone surrogate becomes U+FFFD, and the cut never splits
 * a surrogate pair (either would fail the whole request).
 */
export function keyPart(raw: string, maxLength = 200): string {
  const value = raw.isWellFormed() ? raw : raw.toWellFormed();
  const escaped = value.replace(/[/\\#?|%\u0000-\u001f\u007f-\u009f]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0").toUpperCase()}`);
  if (escaped.length <= maxLength) return escaped;
  const hash = createHash("sha1").update(value).digest("hex").slice(0, 12);
  let end = maxLength - 13;
  const last = escaped.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${escaped.slice(0, end)}~${hash}`;
}

/** Newest first: row keys sort ascending, so store the time reversed, zero-padded. */
export function reverseTicks(iso: string): string {
  return String(MAX_TICKS - Date.parse(iso)).padStart(13, "0");
}

/** yyyyMMddHH of a UTC ISO time. */
export function hourBucket(iso: string): string {
  return iso.slice(0, 13).replace(/[-T]/g, "");
}

export function dayBucket(iso: string): string {
  return iso.slice(0, 10).replace(/-/g, "");
}

/** 7-day buckets counted from the epoch (Thursdays); stable and easy to enumerate for a range. */
export function weekBucket(iso: string): string {
  return `w${Math.floor(Date.parse(iso) / (7 * 86_400_000))}`;
}

export function weekBucketsBetween(fromIso: string, toIso: string): string[] {
  const from = Math.floor(Date.parse(fromIso) / (7 * 86_400_000));
  const to = Math.floor(Date.parse(toIso) / (7 * 86_400_000));
  const out: string[] = [];
  for (let w = to; w >= from; w--) out.push(`w${w}`);
  return out;
}

export function hourBucketsBetween(fromIso: string, toIso: string, limit = 24 * 62): string[] {
  const out: string[] = [];
  let t = Math.floor(Date.parse(toIso) / 3_600_000) * 3_600_000;
  const from = Math.floor(Date.parse(fromIso) / 3_600_000) * 3_600_000;
  while (t >= from && out.length < limit) {
    out.push(hourBucket(new Date(t).toISOString()));
    t -= 3_600_000;
  }
  return out;
}

/** Small stable hash bucket: spreads index entries over N partitions that still batch well. */
export function bucket(value: string, buckets: number): string {
  const h = createHash("md5").update(value).digest();
  return (h.readUInt32BE(0) % buckets).toString(16).padStart(2, "0");
}

export const REF_BUCKETS = 64;
export const IDENTITY_BUCKETS = 64;
export const DIRECTORY_BUCKETS = 16;
export const STATE_BUCKETS = 8;

/** The job an event belongs to; falls back to the service principal when a source has no jobId. */
export function jobKey(jobId: string, servicePrincipalId: string): string {
  return keyPart(jobId || (servicePrincipalId ? `sp:${servicePrincipalId}` : "unknown-job"), 300);
}

export const keys = {
  /** events: one partition per job per UTC hour (small partitions write fastest); newest first inside. */
  event: (job: string, iso: string, id: string) => ({ partitionKey: `${job}|${hourBucket(iso)}`, rowKey: `${reverseTicks(iso)}|${keyPart(id)}` }),
  eventPartition: (job: string, hour: string) => `${job}|${hour}`,
  /** refs: point lookup by changeId (its insert is also the dedupe marker), and cycle -> job and time. */
  changeRef: (changeId: string, id: string) => ({ partitionKey: `chg|${bucket(changeId, REF_BUCKETS)}`, rowKey: `${keyPart(changeId)}|${keyPart(id)}` }),
  changeRefRange: (changeId: string) => ({ partitionKey: `chg|${bucket(changeId, REF_BUCKETS)}`, prefix: `${keyPart(changeId)}|` }),
  cycleRef: (cycleId: string) => ({ partitionKey: `cyc|${bucket(cycleId, REF_BUCKETS)}`, rowKey: keyPart(cycleId) }),
  /** directory: alias (kind + normalised value) -> canonical identity key. */
  alias: (kind: string, value: string, identityKey: string) => ({ partitionKey: `dir|${kind}|${bucket(value, DIRECTORY_BUCKETS)}`, rowKey: `${keyPart(value)}|${keyPart(identityKey)}` }),
  /** identities: newest-first events for one identity key, in 7-day partitions. */
  identity: (identityKey: string, iso: string, id: string) => ({
    partitionKey: `${weekBucket(iso)}|${bucket(identityKey, IDENTITY_BUCKETS)}`,
    rowKey: `${keyPart(identityKey)}|${reverseTicks(iso)}|${keyPart(id)}`,
  }),
  identityRange: (identityKey: string, week: string) => ({ partitionKey: `${week}|${bucket(identityKey, IDENTITY_BUCKETS)}`, prefix: `${keyPart(identityKey)}|` }),
  /** state: the last known state per (job, identity) once its events have aged out of the window. */
  state: (job: string, identityKey: string) => ({ partitionKey: `${job}|${bucket(identityKey, STATE_BUCKETS)}`, rowKey: keyPart(identityKey) }),
  /** counts: one partition per day, one row per job-hour: a batch's count updates are one transaction. */
  count: (job: string, hour: string) => ({ partitionKey: `d|${hour.slice(0, 8)}`, rowKey: `${job}|${hour}` }),
  job: (job: string) => ({ partitionKey: "job", rowKey: job }),
};

/** Row-key range [prefix, prefix + U+FFFF) as lower/upper bounds for an odata filter. */
export function prefixUpperBound(prefix: string): string {
  return `${prefix}\uffff`;
}

