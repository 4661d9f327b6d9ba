import type { ActionStore } from "../../src/app/actions";
import type { ActionRecord, PendingAction } from "../../src/core/actions";

/**
 * The job actions' store in memory, with the same once-only rule as the table (a version stands
 * for the ETag): for tests of the flow away from Azurite (test/integration/actions-store.test.ts
 * tests the table itself).
 */
export class MemoryActionStore implements ActionStore {
  readonly pending = new Map<string, { p: PendingAction; v: number }>();
  readonly log: ActionRecord[] = [];

  async putPending(p: PendingAction): Promise<void> {
    this.pending.set(p.token, { p, v: 1 });
  }

  async getPending(token: string): Promise<{ pending: PendingAction; etag: string } | null> {
    const cur = this.pending.get(token);
    return cur ? { pending: cur.p, etag: String(cur.v) } : null;
  }

  async settle(token: string, etag: string, next: PendingAction): Promise<boolean> {
    const cur = this.pending.get(token);
    if (!cur || String(cur.v) !== etag) return false;
    this.pending.set(token, { p: next, v: cur.v + 1 });
    return true;
  }

  async record(r: ActionRecord): Promise<void> {
    this.log.push(r);
  }

  async recent(): Promise<ActionRecord[]> {
    return [...this.log].reverse();
  }
}

/** The data of a confirmation card's Confirm (or Continue) button. */
export function confirmButton(answer: unknown): Record<string, unknown> {
  return (answer as { viewModel: { actions: { title: string; data: Record<string, unknown> }[] } }).viewModel.actions.find((b) => /^(Confirm|Continue)/.test(b.title))!.data;
}
