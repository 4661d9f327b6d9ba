import { boundedJson } from "../core/ingest/fields";
import { clipText } from "../core/text";

/**
 * The records of one ingest call that were rejected, collected with bounded memory however many
 * there are: every rejection is counted, the first MAX_LISTED keep their index and reason, and
 * the raw text of each is kept (RAW_CAP_CHARS at most) until RAW_BUDGET_CHARS are held. One
 * dead-letter row per call, not one per record, so 20,000 junk lines cost one write.
 */
export const MAX_LISTED = 1000;
export const RAW_CAP_CHARS = 30_000;
export const RAW_BUDGET_CHARS = 2_000_000;
const REASON_CHARS = 500;

export interface Rejection {
  index: number;
  reason: string;
}

export interface DeadLetterBatch {
  source: string;
  count: number;
  /** The first MAX_LISTED rejections, in order. */
  rejections: Rejection[];
  /** Raw text of the first rejected records, by index, while the budget lasts. */
  raw: { index: number; raw: string }[];
  /** Rejections whose raw text was not kept (over the budget). */
  rawDropped: number;
}

export class DeadLetterCollector {
  readonly batch: DeadLetterBatch;
  private rawChars = 0;
  constructor(source: string) {
    this.batch = { source, count: 0, rejections: [], raw: [], rawDropped: 0 };
  }

  add(index: number, reason: string, record: unknown): void {
    const b = this.batch;
    b.count++;
    if (b.rejections.length < MAX_LISTED) b.rejections.push({ index, reason: clipText(reason, REASON_CHARS, "…") });
    if (record === undefined) return;
    if (this.rawChars >= RAW_BUDGET_CHARS) {
      b.rawDropped++;
      return;
    }
    const raw = clipText(typeof record === "string" ? record : boundedJson(record, RAW_CAP_CHARS), RAW_CAP_CHARS);
    this.rawChars += raw.length;
    b.raw.push({ index, raw });
  }

  get empty(): boolean {
    return this.batch.count === 0;
  }
}
