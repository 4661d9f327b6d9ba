import type { EventSource, ProvisioningEvent } from "../core/event";
import { normaliseRecord } from "../core/ingest/normalise";
import { parsePayload, type PayloadFile, type PayloadItem } from "../core/ingest/payload";
import { modifiedByChangeId, stepsByChangeId, type CsvTable } from "../core/ingest/csv";
import { modified as normaliseModified, steps as normaliseSteps } from "../core/ingest/normalise";
import type { CsvParts, DeadLetterStore, EventStore } from "./ports";

/**
 * Ingest use case, shared by POST /api/ingest, the CLI, the Event Hub trigger and the Graph
 * poller: normalise every record on its own, store the good ones idempotently, keep the bad ones
 * in the dead-letter table with their reason, and report counts by index.
 */
export interface IngestReport {
  accepted: number;
  duplicates: number;
  ignored: number;
  rejected: { index: number; reason: string }[];
  warnings: string[];
  /** CSV steps/properties posted on their own: attached to stored events, or waiting for them. */
  partsAttached?: number;
  partsPending?: number;
}

export interface IngestDeps {
  store: EventStore;
  deadLetters: DeadLetterStore;
  /** Called with the events that were new, after they are stored (alert evaluation hooks in here). */
  afterStore?: (events: ProvisioningEvent[]) => Promise<void>;
}

export interface IngestOutcome extends IngestReport {
  events: ProvisioningEvent[];
}

export async function ingestItems(items: PayloadItem[], source: string, deps: IngestDeps, eventSource?: EventSource): Promise<IngestOutcome> {
  const report: IngestOutcome = { accepted: 0, duplicates: 0, ignored: 0, rejected: [], warnings: [], events: [] };
  const good: ProvisioningEvent[] = [];
  const dead: { index: number; reason: string; raw: string }[] = [];
  for (const item of items) {
    if (item.error !== undefined) {
      dead.push({ index: item.index, reason: item.error, raw: "" });
      continue;
    }
    const result = normaliseRecord(item.record, eventSource);
    if (result.kind === "event") good.push(result.event);
    else if (result.kind === "ignored") report.ignored++;
    else dead.push({ index: item.index, reason: result.reason, raw: safeStringify(item.record) });
  }
  if (dead.length > 0) {
    await deps.deadLetters.put(dead.map((d) => ({ ...d, source })));
    report.rejected = dead.map(({ index, reason }) => ({ index, reason }));
  }
  if (good.length > 0) {
    const { newIds } = await deps.store.write(good);
    const unique = new Map(good.map((e) => [e.id, e]));
    report.accepted = newIds.size;
    report.duplicates = good.length - newIds.size;
    report.events = [...unique.values()].filter((e) => newIds.has(e.id));
    if (deps.afterStore && report.events.length > 0) await deps.afterStore(report.events);
  }
  return report;
}

export interface IngestOptions {
  /** Records are stored in chunks of this many (bounded memory, progress reports). */
  chunkSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/** A request body (or several files) of any supported format. Throws PayloadError when unreadable. */
export async function ingestPayload(files: PayloadFile[], source: string, deps: IngestDeps, options: IngestOptions = {}): Promise<IngestOutcome> {
  const parsed = parsePayload(files);
  const csvOnly = parsed.formats.length === 1 && parsed.formats[0] === "csv";
  const chunkSize = options.chunkSize ?? 1000;
  const outcome: IngestOutcome = { accepted: 0, duplicates: 0, ignored: 0, rejected: [], warnings: [...parsed.warnings], events: [] };
  for (let start = 0; start < parsed.items.length; start += chunkSize) {
    const part = await ingestItems(parsed.items.slice(start, start + chunkSize), source, deps, csvOnly ? "download-csv" : undefined);
    outcome.accepted += part.accepted;
    outcome.duplicates += part.duplicates;
    outcome.ignored += part.ignored;
    outcome.rejected.push(...part.rejected);
    outcome.events.push(...part.events);
    options.onProgress?.(Math.min(start + chunkSize, parsed.items.length), parsed.items.length);
  }
  const { steps, modifiedProperties } = parsed.csvParts;
  if (steps.length > 0 || modifiedProperties.length > 0) {
    const parts = partsFrom(steps, modifiedProperties);
    const { attached, pending } = await deps.store.attachParts(parts);
    outcome.partsAttached = attached;
    outcome.partsPending = pending;
  }
  return outcome;
}

function partsFrom(steps: CsvTable[], modified: CsvTable[]): CsvParts {
  return {
    steps: new Map([...stepsByChangeId(steps)].map(([changeId, rows]) => [changeId, normaliseSteps(rows)])),
    modifiedProperties: new Map([...modifiedByChangeId(modified)].map(([changeId, rows]) => [changeId, normaliseModified(rows)])),
  };
}

function safeStringify(v: unknown): string {
  try {
    return typeof v === "string" ? v : JSON.stringify(v) ?? "";
  } catch {
    return String(v);
  }
}
