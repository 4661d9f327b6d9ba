import { DateTime } from "luxon";

/**
 * Provisioning times come as ISO 8601 with 0 to 7 fractional digits, with or without an offset,
 * and sometimes in US locale ("3/24/2026 7:17:42 AM [+01:00]"). All are read as UTC unless they
 * carry an offset (a JS Date would read offset-less text as local time).
 */
const US_FORMATS = ["M/d/yyyy h:mm:ss a ZZ", "M/d/yyyy h:mm:ss a", "M/d/yyyy H:mm:ss", "M/d/yyyy h:mm a"];

export function parseUtc(raw: string): string | null {
  const text = raw.trim();
  if (!text) return null;
  let dt = DateTime.fromISO(text, { zone: "utc", setZone: false });
  if (!dt.isValid) {
    for (const format of US_FORMATS) {
      dt = DateTime.fromFormat(text, format, { zone: "utc", locale: "en-US" });
      if (dt.isValid) break;
    }
  }
  if (!dt.isValid) return null;
  return dt.toUTC().toISO({ suppressMilliseconds: false, includeOffset: true })?.replace("+00:00", "Z") ?? null;
}
