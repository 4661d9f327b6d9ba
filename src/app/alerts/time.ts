/** Time arithmetic on ISO instants and the contention backoff, shared by the alert modules. */
export const isoMinus = (iso: string, minutes: number): string => new Date(Date.parse(iso) - minutes * 60_000).toISOString();
export const isoPlus = (iso: string, ms: number): string => new Date(Date.parse(iso) + ms).toISOString();

/** A short random pause before re-reading a row another writer changed (ETag conflicts). */
export function jitter(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, 10 + Math.random() * 40 * (attempt + 1)));
}
