/**
 * The one optimistic-concurrency loop: read the current state, decide the new one, write it under
 * the version read; when another writer got there first (the store says which errors mean that),
 * read again, a bounded number of times with jittered backoff. Running out of attempts is
 * reported, never swallowed: a lost update of a job's last event time would raise a false "job
 * went quiet". The Table Storage adapters bind it to their one definition of a conflict
 * (adapters/tables/optimistic.ts); the in-memory fakes to theirs.
 */
export class ConcurrencyExhausted extends Error {
  constructor(what: string, attempts: number) {
    super(`${what}: still conflicting after ${attempts} attempts (concurrent writers); the call fails so that its retry applies it`);
    this.name = "ConcurrencyExhausted";
  }
}

export interface OptimisticStep<R> {
  what: string;
  read(): Promise<R>;
  /** Writes under the versions in `current`; throws a conflict when another writer got there first. */
  write(current: R): Promise<void>;
  attempts?: number;
  /** Waits between attempts (tests pass a no-op). */
  pause?: (attempt: number) => Promise<void>;
  /** Other errors that mean "read again" for this step (a row deleted since it was read). */
  alsoRetry?: (err: unknown) => boolean;
}

const jitter = (attempt: number) => new Promise<void>((r) => setTimeout(r, 10 + Math.random() * 40 * (attempt + 1)));

export async function optimisticLoop<R>(step: OptimisticStep<R>, isConflict: (err: unknown) => boolean): Promise<void> {
  const attempts = step.attempts ?? 8;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const current = await step.read();
    try {
      await step.write(current);
      return;
    } catch (err) {
      if (!isConflict(err) && !step.alsoRetry?.(err)) throw err;
      if (attempt + 1 < attempts) await (step.pause ?? jitter)(attempt);
    }
  }
  throw new ConcurrencyExhausted(step.what, attempts);
}
