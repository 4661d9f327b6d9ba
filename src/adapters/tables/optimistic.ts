import { RestError } from "@azure/data-tables";

/**
 * The one optimistic-concurrency loop: read the current rows, decide the new ones, write them
 * under the ETags read; on a conflict (409 or 412: another writer won) read again, a bounded
 * number of times with jittered backoff. Running out of attempts is reported, never swallowed: a
 * lost update of a job's last event time would raise a false "job went quiet".
 */
export const isConflict = (err: unknown): boolean => err instanceof RestError && (err.statusCode === 409 || err.statusCode === 412);

export class ConcurrencyExhausted extends Error {
  constructor(what: string, attempts: number) {
    super(`${what}: still conflicting after ${attempts} attempts (concurrent writers); the call fails so that its retry applies it`);
    this.name = "ConcurrencyExhausted";
  }
}

export interface OptimisticStep<R> {
  what: string;
  read(): Promise<R>;
  /** Writes under the ETags in `current`; throws a conflict when another writer got there first. */
  write(current: R): Promise<void>;
  attempts?: number;
  /** Waits between attempts (tests pass a no-op). */
  pause?: (attempt: number) => Promise<void>;
}

const jitter = (attempt: number) => new Promise<void>((r) => setTimeout(r, 10 + Math.random() * 40 * (attempt + 1)));

export async function optimistic<R>(step: OptimisticStep<R>): Promise<void> {
  const attempts = step.attempts ?? 8;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const current = await step.read();
    try {
      await step.write(current);
      return;
    } catch (err) {
      if (!isConflict(err)) throw err;
      if (attempt + 1 < attempts) await (step.pause ?? jitter)(attempt);
    }
  }
  throw new ConcurrencyExhausted(step.what, attempts);
}
