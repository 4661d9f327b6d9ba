import { RestError } from "@azure/data-tables";
import { ConcurrencyExhausted, optimisticLoop, type OptimisticStep } from "../../core/optimistic";

export { ConcurrencyExhausted, type OptimisticStep };

/**
 * The one definition of a conflict in Table Storage: another writer got there first. An insert of
 * a row (or a table) that exists answers 409 (EntityAlreadyExists, TableAlreadyExists); a write
 * under an ETag that moved answers 412 (UpdateConditionNotSatisfied); inside a transaction the
 * same conditions can come back as 400 naming them.
 */
export const isConflict = (err: unknown): boolean =>
  err instanceof RestError && (err.statusCode === 409 || err.statusCode === 412 || /EntityAlreadyExists|UpdateConditionNotSatisfied|TableAlreadyExists/i.test(err.message));

/** The core loop (core/optimistic.ts) with Table Storage's conflicts. */
export const optimistic = <R>(step: OptimisticStep<R>): Promise<void> => optimisticLoop(step, isConflict);
