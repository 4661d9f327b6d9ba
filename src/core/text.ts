/** Text clipped for storage or display, the same way everywhere. */
/** An Entra object or application id: a GUID, nothing else (ids reach Graph paths and links). */
export const isGuid = (s: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

export const TRIM_MARK = "… [trimmed]";

/** Well-formed UTF-16, at most `max` code units, never ending in half a surrogate pair. */
export function clipText(value: string, max: number, mark = TRIM_MARK): string {
  const text = value.isWellFormed() ? value : value.toWellFormed();
  if (text.length <= max) return text;
  let end = Math.max(0, max - mark.length);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}${mark}`;
}

/** "1 failure", "2 failures", "1,204 events": a count with its noun, in the right number. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

