/**
 * Per-conversation send limits, pure (the clock is passed in). Teams throttles a bot per
 * conversation over several windows at once (7 per second, 8 per 2 s, 60 per 30 s, 1,800 per
 * hour) and per bot across all conversations; a send must fit every window.
 * https://learn.microsoft.com/microsoftteams/platform/bots/how-to/rate-limit
 */
export interface Window {
  ms: number;
  max: number;
}

export const TEAMS_CONVERSATION_LIMITS: Window[] = [
  { ms: 1_000, max: 7 },
  { ms: 2_000, max: 8 },
  { ms: 30_000, max: 60 },
  { ms: 3_600_000, max: 1_800 },
];

export const TEAMS_BOT_LIMITS: Window[] = [{ ms: 1_000, max: 50 }];

export class SlidingWindowLimiter {
  private readonly sent = new Map<string, number[]>();
  private readonly longest: number;
  constructor(private readonly windows: Window[]) {
    this.longest = Math.max(...windows.map((w) => w.ms));
  }

  /** Milliseconds to wait before `key` may send at `now` (0 = now). */
  delayFor(key: string, now: number): number {
    const times = (this.sent.get(key) ?? []).filter((t) => now - t < this.longest);
    this.sent.set(key, times);
    let wait = 0;
    for (const w of this.windows) {
      const inWindow = times.filter((t) => now - t < w.ms);
      if (inWindow.length >= w.max) wait = Math.max(wait, inWindow[inWindow.length - w.max]! + w.ms - now);
    }
    return wait;
  }

  record(key: string, now: number): void {
    const times = this.sent.get(key) ?? [];
    times.push(now);
    this.sent.set(key, times);
  }

  /**
   * Waits (through `sleep`) until a send fits, then records it and resolves with 0. When the wait
   * would exceed `maxWaitMs` it records nothing and resolves with the wait that would be needed.
   */
  async acquire(key: string, now: () => number, sleep: (ms: number) => Promise<void>, maxWaitMs = Infinity): Promise<number> {
    for (let wait = this.delayFor(key, now()); wait > 0; wait = this.delayFor(key, now())) {
      if (wait > maxWaitMs) return wait;
      await sleep(wait);
    }
    this.record(key, now());
    return 0;
  }
}
