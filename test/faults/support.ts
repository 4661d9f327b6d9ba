import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AZURITE_CONNECTION_STRING } from "../../src/config";
import { createTableFactory, type TableFactory } from "../../src/adapters/tables/client";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { freePort, startAzurite, startAzuriteQueue, stopChild, type Child } from "../../scripts/processes";
import { ROOT } from "../support/stack";
import { COUNTER_RK } from "../../src/adapters/tables/eventsTable";

/** An Azurite service of its own on a data folder, that a test can kill and start again on the same data. */
export interface Restartable {
  port: number;
  folder: string;
  child: Child;
  /** SIGKILL: no chance to save (Azurite then loses its last seconds of acknowledged writes). */
  kill(): Promise<void>;
  /** Stopped as `npm start` stops it (its stop signal: SIGINT for Azurite, which then saves its data). */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function restartable(kind: "table" | "queue"): Promise<Restartable> {
  const port = await freePort();
  const folder = mkdtempSync(join(tmpdir(), `provbot-faults-${kind}-`));
  const launch = () => (kind === "table" ? startAzurite({ root: ROOT, port, location: folder, quiet: true }) : startAzuriteQueue({ root: ROOT, port, location: folder, quiet: true }));
  const r: Restartable = {
    port,
    folder,
    child: await launch(),
    async kill() {
      r.child.process.kill("SIGKILL");
      await r.child.exited;
    },
    async stop() {
      await stopChild(r.child);
    },
    async start() {
      r.child = await launch();
    },
  };
  return r;
}

export function tablesOn(port: number, prefix: string): TableFactory {
  return createTableFactory({ kind: "connectionString", connectionString: AZURITE_CONNECTION_STRING(port) }, prefix);
}

/** What the store holds for one job: event rows (ids), and the totals of the counts table. */
export async function audit(factory: TableFactory, job: string): Promise<{ rows: number; distinct: number; counted: number }> {
  const store = new TableEventStore(factory);
  const ids: string[] = [];
  for await (const e of store.events.allOf(job, ["id"])) if (e["rowKey"] !== COUNTER_RK) ids.push(String(e["id"]));
  const counted = (await store.counts.allOf(job)).reduce((n, c) => n + c.total, 0);
  return { rows: ids.length, distinct: new Set(ids).size, counted };
}

export async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
