import { createHash } from "node:crypto";

/**
 * Key parts every table module builds its keys from (each table's own keys live in its module):
 * pure functions, unit-tested. Table Storage has one index (PartitionKey + RowKey), so keys are
 * designed from the questions asked of them. `|` separates key parts; it and the characters Table
 * Storage forbids in keys are escaped.
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

export { hourBucket, dayBucket } from "../../core/timeBuckets";

/** Small stable hash bucket: spreads index entries over N partitions that still batch well. */
export function bucket(value: string, buckets: number): string {
  const h = createHash("md5").update(value).digest();
  return (h.readUInt32BE(0) % buckets).toString(16).padStart(2, "0");
}

/** The job an event belongs to; falls back to the service principal when a source has no jobId. */
export function jobKey(jobId: string, servicePrincipalId: string): string {
  return keyPart(jobId || (servicePrincipalId ? `sp:${servicePrincipalId}` : "unknown-job"), 300);
}

/** Row-key range [prefix, prefix + U+FFFF) as lower/upper bounds for an odata filter. */
export function prefixUpperBound(prefix: string): string {
  return `${prefix}\uffff`;
}

