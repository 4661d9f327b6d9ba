import { ingestItems, type IngestDeps } from "./ingest";
import type { Clock } from "./ports";

/**
 * Polls Graph for provisioning events since the stored watermark minus a look-back window (logs
 * arrive late and out of order; re-reading the overlap is harmless because storage de-duplicates).
 * The watermark moves only after a whole run is stored, so a crash or restart mid-run re-reads
 * from the old watermark: nothing is lost, and nothing is stored twice.
 */
export interface GraphPage {
  records: unknown[];
  nextLink: string | null;
}

export interface GraphSource {
  pages(sinceIso: string, untilIso?: string): AsyncIterable<GraphPage>;
}

export interface WatermarkStore {
  get(name: string): Promise<string | null>;
  set(name: string, iso: string): Promise<void>;
}

export interface PollOptions {
  watermarkName: string;
  lookbackMinutes: number;
  /** How far back the very first run reads. */
  initialDays: number;
}

export interface PollReport {
  since: string;
  pages: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  watermark: string;
}

export async function pollGraph(source: GraphSource, watermarks: WatermarkStore, ingest: IngestDeps, clock: Clock, options: PollOptions): Promise<PollReport> {
  const now = clock.now();
  const stored = await watermarks.get(options.watermarkName);
  const base = stored ? Date.parse(stored) : now.getTime() - options.initialDays * 86_400_000;
  const since = new Date(base - options.lookbackMinutes * 60_000).toISOString();
  const report: PollReport = { since, pages: 0, accepted: 0, duplicates: 0, rejected: 0, watermark: stored ?? new Date(base).toISOString() };
  let newest = base;
  for await (const page of source.pages(since)) {
    report.pages++;
    const outcome = await ingestItems(page.records.map((record, index) => ({ index, record })), "graph", ingest, "graph");
    report.accepted += outcome.accepted;
    report.duplicates += outcome.duplicates;
    report.rejected += outcome.rejectedCount;
    for (const e of outcome.events) newest = Math.max(newest, Date.parse(e.activityDateTime));
    // Events that were duplicates still count for the watermark: they are stored.
    for (const record of page.records) {
      const t = Date.parse(String((record as { activityDateTime?: unknown })?.activityDateTime ?? ""));
      if (Number.isFinite(t)) newest = Math.max(newest, t);
    }
  }
  // Never beyond "now": a clock-skewed record must not push the window into the future.
  const watermark = new Date(Math.min(newest, now.getTime())).toISOString();
  await watermarks.set(options.watermarkName, watermark);
  report.watermark = watermark;
  return report;
}
