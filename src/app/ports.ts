import type { ProvisioningEvent } from "../core/event";

/** What the use cases need from the outside world; adapters implement these. */
export interface EventStore {
  /** Stores events with every index and aggregate, idempotently. Resolves with the ids that were new. */
  write(events: ProvisioningEvent[]): Promise<{ newIds: Set<string> }>;
  getByChangeId(changeId: string): Promise<ProvisioningEvent[]>;
  /** Adds CSV steps / modified properties that arrived in a later call than their events. */
  attachParts(parts: CsvParts): Promise<{ attached: number; pending: number }>;
}

export interface CsvParts {
  steps: Map<string, ProvisioningEvent["steps"]>;
  modifiedProperties: Map<string, ProvisioningEvent["modifiedProperties"]>;
}

export interface DeadLetter {
  source: string;
  index: number;
  reason: string;
  raw: string;
}

export interface DeadLetterStore {
  put(items: DeadLetter[]): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
