/**
 * Bidi controls (embeddings, overrides, isolates, marks) and invisible characters (zero-width
 * space, word joiner, BOM, soft hyphen, Mongolian vowel separator, other C0/C1 controls). ZWJ and
 * ZWNJ stay: emoji sequences and several scripts need them to render.
 */
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b\u2060-\u2064\ufeff\u00ad\u180e\u0000-\u0008\u000e-\u001f\u007f-\u009f]/g;

/**
 * Text as cards and the tab show it: invisible and bidi control characters removed (so
 * "Mallory\u202Egnp.exe" cannot pose as "Malloryexe.png") and every run of whitespace, line
 * breaks included, made one space. Only for display: what is stored is kept as it came.
 */
export function displayText(value: string): string {
  return value.replace(INVISIBLE, "").replace(/\s+/g, " ").trim();
}

/**
 * The same for text whose line breaks carry meaning (a SCIM error reason, a list of changes):
 * invisible and bidi characters removed, spaces collapsed within each line, at most one blank line
 * in a row, no leading or trailing blank lines.
 */
export function displayLines(value: string): string {
  return value
    .replace(/\r\n?|[\u2028\u2029\u0085]/g, "\n")
    .replace(INVISIBLE, "")
    .split("\n")
    .map((line) => line.replace(/\s+/g, " ").trim())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/** Keys whose values the tab sends back (filters, row references): kept exactly, shown through displayText. */
const SENT_BACK = new Set(["ref", "pk", "rk", "jobKey", "changeId", "cycleId", "jobId", "id", "from", "to"]);

/** Every string of a tab's answer cleaned for display, but the identifiers the tab sends back. */
export function forDisplay(value: unknown, key = ""): unknown {
  if (SENT_BACK.has(key)) return value;
  if (typeof value === "string") return displayText(value);
  if (Array.isArray(value)) return value.map((v) => forDisplay(v));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, forDisplay(v, k)]));
  return value;
}
