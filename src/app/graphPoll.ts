import { ingestItems, type IngestDeps } from "./ingest";
import type { Clock } from "./ports";
import { parseAudit, type ProvisioningAudit } from "../core/jobs/audit";
import type { AuditStore } from "./jobHealthPorts";

/**
 * Polls Graph for provisioning events since the stored watermark minus a look-back window (logs
 * arrive late and out of order; re-reading the overlap is harmless because storage de-duplicates).
 * The watermark moves only after a whole run is stored, so a crash or restart mid-run re-reads
 * from the old watermark: nothing is lost, and nothing is stored twice.
 *
 * Some records show up hours late (up to two, Microsoft says). A second, slower sweep re-reads
 * the last `late.hours` before the regular window every `late.everyMinutes`, so a late record is
 * stored (once) without re-reading hours of logs on every poll.
 *
 * The provisioning audit trail (`pollAudits`) follows the same discipline with its own watermark.
 */
export interface GraphPage {
  records: unknown[];
  nextLink: string | null;
}

export interface GraphSource {
  pages(sinceIso: string, untilIso?: string): AsyncIterable<GraphPage>;
}

export interface AuditSource {
  auditPages(sinceIso: string, untilIso?: string): AsyncIterable<GraphPage>;
}

export interface WatermarkStore {
  get(name: string): Promise<string | null>;
  set(name: string, iso: string): Promise<void>;
}

/** How a poller's last run ended, kept for the health endpoint. */
export interface RunRecord {
  at: string;
  outcome: "ok" | "cut-short" | "failed";
  /** For a cut-short run: why (nextlink-origin, page-cap, retry-after-cap, ...). */
  reason: string;
  detail: string;
}

export interface RunStore {
  recordRun(name: string, run: RunRecord): Promise<void>;
  runs(): Promise<Record<string, RunRecord>>;
}

/**
 * Runs one poll and keeps how it ended: a run cut short (a nextLink off the Graph origin, a
 * repeated link, a cap reached) or failed is recorded with its reason and rethrown, so the run
 * fails, the watermark stays, and the next timer tries again. Recording never hides the outcome.
 */
/** A read of Graph that its source stopped on purpose (see the Graph client's limits), with why. */
export function isCutShort(err: unknown): err is Error & { cutShort: true; reason: string } {
  return err instanceof Error && (err as { cutShort?: unknown }).cutShort === true;
}

export async function recordedRun<T>(name: string, runs: RunStore, clock: Clock, fn: () => Promise<T>): Promise<T> {
  try {
    const result = await fn();
    await runs.recordRun(name, { at: clock.now().toISOString(), outcome: "ok", reason: "", detail: "" }).catch(() => undefined);
    return result;
  } catch (err) {
    const cut = isCutShort(err);
    const reason = cut ? String(err.reason) : "";
    await runs.recordRun(name, { at: clock.now().toISOString(), outcome: cut ? "cut-short" : "failed", reason, detail: err instanceof Error ? err.message.slice(0, 300) : String(err).slice(0, 300) }).catch(() => undefined);
    throw err;
  }
}

export interface PollOptions {
  watermarkName: string;
  lookbackMinutes: number;
  /** How far back the very first run reads. */
  initialDays: number;
  /** The late sweep; absent: none. */
  late?: { hours: number; everyMinutes: number };
}

export interface SweepReport {
  since: string;
  until: string | null;
  pages: number;
  accepted: number;
  duplicates: number;
  rejected: number;
}

export interface PollReport extends SweepReport {
  watermark: string;
  /** The late sweep, when this run made one. */
  late: SweepReport | null;
}

type PageHandler = (records: unknown[]) => Promise<{ accepted: number; duplicates: number; rejected: number }>;

const timeOf = (record: unknown): number => Date.parse(String((record as { activityDateTime?: unknown } | null)?.activityDateTime ?? ""));

/** Reads one window page by page; returns its report and the newest activity time seen. */
async function sweep(pages: AsyncIterable<GraphPage>, handle: PageHandler, since: string, until: string | null): Promise<SweepReport & { newest: number }> {
  const report = { since, until, pages: 0, accepted: 0, duplicates: 0, rejected: 0, newest: -Infinity };
  for await (const page of pages) {
    report.pages++;
    const r = await handle(page.records);
    report.accepted += r.accepted;
    report.duplicates += r.duplicates;
    report.rejected += r.rejected;
    // Records that were duplicates still count for the watermark: they are stored.
    for (const record of page.records) {
      const t = timeOf(record);
      if (Number.isFinite(t)) report.newest = Math.max(report.newest, t);
    }
  }
  return report;
}

/** The regular window from a watermark, then the late sweep when it is due. */
async function pollWindows(read: (since: string, until?: string) => AsyncIterable<GraphPage>, handle: PageHandler, watermarks: WatermarkStore, clock: Clock, options: PollOptions): Promise<PollReport> {
  const now = clock.now();
  const stored = await watermarks.get(options.watermarkName);
  const base = stored ? Date.parse(stored) : now.getTime() - options.initialDays * 86_400_000;
  const since = new Date(base - options.lookbackMinutes * 60_000).toISOString();
  const regular = await sweep(read(since), handle, since, null);
  // Never beyond "now": a clock-skewed record must not push the window into the future.
  const watermark = new Date(Math.min(Math.max(base, regular.newest), now.getTime())).toISOString();
  await watermarks.set(options.watermarkName, watermark);
  const { newest: _newest, ...report } = regular;
  let late: SweepReport | null = null;
  if (options.late) {
    const lateName = `${options.watermarkName}:late`;
    const last = await watermarks.get(lateName);
    const lateFrom = now.getTime() - options.late.hours * 3_600_000 - options.lookbackMinutes * 60_000;
    // Up to just after the regular window's start (its filter is "gt since"): the overlap is harmless.
    const lateUntil = Date.parse(since) + 1000;
    if ((!last || now.getTime() - Date.parse(last) >= options.late.everyMinutes * 60_000) && lateFrom < lateUntil) {
      const from = new Date(lateFrom).toISOString();
      const until = new Date(lateUntil).toISOString();
      const { newest: _n, ...r } = await sweep(read(from, until), handle, from, until);
      late = r;
      await watermarks.set(lateName, now.toISOString());
    }
  }
  return { ...report, watermark, late };
}

export async function pollGraph(source: GraphSource, watermarks: WatermarkStore, ingest: IngestDeps, clock: Clock, options: PollOptions): Promise<PollReport> {
  const handle: PageHandler = async (records) => {
    const outcome = await ingestItems(records.map((record, index) => ({ index, record })), "graph", ingest, "graph");
    return { accepted: outcome.accepted, duplicates: outcome.duplicates, rejected: outcome.rejectedCount };
  };
  return pollWindows((s, u) => source.pages(s, u), handle, watermarks, clock, options);
}

/**
 * The provisioning audit trail: records that are not an audit record are counted as rejected and
 * skipped alone. Storage makes re-reads harmless (one row per record id).
 */
export async function pollAudits(source: AuditSource, watermarks: WatermarkStore, store: AuditStore, clock: Clock, options: PollOptions): Promise<PollReport> {
  const handle: PageHandler = async (records) => {
    const parsed = records.map(parseAudit);
    const audits = parsed.filter((a): a is ProvisioningAudit => a !== null);
    await store.write(audits);
    return { accepted: audits.length, duplicates: 0, rejected: parsed.length - audits.length };
  };
  return pollWindows((s, u) => source.auditPages(s, u), handle, watermarks, clock, { ...options, watermarkName: `${options.watermarkName}:audits` });
}
