/** The page's default range and its first request, shared by boot.ts and the page. */
export const DEFAULT_DAYS = 7;

/** "Last N days" to the next whole minute: the same range for a minute, nothing recent left out. */
export function presetRange(days: number, nowMs: number): { from: string; to: string } {
  const to = new Date(Math.ceil(nowMs / 60_000) * 60_000);
  return { from: new Date(to.getTime() - days * 86_400_000).toISOString(), to: to.toISOString() };
}

export function firstOverviewUrl(nowMs: number): string {
  const r = presetRange(DEFAULT_DAYS, nowMs);
  return `/api/dashboard/overview?${new URLSearchParams({ from: r.from, to: r.to }).toString()}`;
}
