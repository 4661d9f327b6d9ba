import type { ProvisioningEvent } from "../core/event";
import type { DeadLetterBatch } from "./deadLetter";

/** What the use cases need from the outside world; adapters implement these. */
export interface EventStore {
  /**
   * Stores events with every index and aggregate, idempotently. Resolves with the ids that were new,
   * and the ids of events the store could not hold (rejected alone, with the reason; nothing of
   * them stays visible).
   */
  write(events: ProvisioningEvent[]): Promise<{ newIds: Set<string>; rejected: Map<string, string> }>;
  getByChangeId(changeId: string): Promise<ProvisioningEvent[]>;
  /** Adds CSV steps / modified properties that arrived in a later call than their events. */
  attachParts(parts: CsvParts): Promise<{ attached: number; pending: number }>;
}

export interface CsvParts {
  steps: Map<string, ProvisioningEvent["steps"]>;
  modifiedProperties: Map<string, ProvisioningEvent["modifiedProperties"]>;
}

/** Rejected records of one call are kept together (src/app/deadLetter.ts); put returns its id. */
export interface DeadLetterStore {
  put(batch: DeadLetterBatch): Promise<string>;
}

export interface StoredDeadLetter {
  id: string;
  receivedAt: string;
  source: string;
  count: number;
  firstReason: string;
  /** Reasons grouped with counts. */
  summary: string;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * One structured log line: an event name and object ids, rules, counts and durations, never
 * names, UPNs or reasons (they are personal data or data from outside). The composition writes
 * them through the Functions invocation logger, so Application Insights keeps them as traces.
 */
export type LogEntry = { event: string; [key: string]: string | number | boolean | null | undefined };
export type StructuredLog = (entry: LogEntry) => void;

/** An error as a log field: its message, first 200 characters. */
export function errorField(err: unknown): string {
  return err instanceof Error ? err.message.slice(0, 200) : String(err).slice(0, 200);
}
