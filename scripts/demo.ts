import { generateDemo, type DemoOptions } from "../src/core/demo/generator";
import { demoGraph } from "../src/core/demo/health";
import { onDemandSteps, startGraphEmulator, type GraphState } from "./graph-emulator";

/**
 * Loads the demo tenant through the product's own ingest endpoint (POST /api/ingest), in chunks,
 * so `npm start` exercises the same path as a real upload.
 */
export interface DemoLoadResult {
  records: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  ms: number;
}

export async function postDemo(hostUrl: string, functionKey: string, options: DemoOptions, chunk = 2000): Promise<DemoLoadResult> {
  const started = performance.now();
  const result: DemoLoadResult = { records: 0, accepted: 0, duplicates: 0, rejected: 0, ms: 0 };
  let batch: unknown[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const res = await fetch(`${hostUrl}/api/ingest`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-functions-key": functionKey },
      body: JSON.stringify(batch),
    });
    if (!res.ok) throw new Error(`demo load: /api/ingest answered ${res.status}: ${await res.text()}`);
    const report = (await res.json()) as { accepted: number; duplicates: number; rejectedCount: number };
    result.records += batch.length;
    result.accepted += report.accepted;
    result.duplicates += report.duplicates;
    result.rejected += report.rejectedCount;
    batch = [];
  };
  for (const record of generateDemo(options)) {
    batch.push(record);
    if (batch.length >= chunk) await flush();
  }
  await flush();
  result.ms = Math.round(performance.now() - started);
  return result;
}

/**
 * The demo tenant's Microsoft Graph on loopback (what `npm start` runs, and the tests use): its logs,
 * live as the clock runs, its audit trail, its jobs, and the job actions of issue 26.
 */
export async function startDemoGraph(demoNow: Date): Promise<GraphState> {
  const graph = demoGraph(demoNow);
  // A busy tenant's Graph: service principals in pages of 5, and a 429 (Retry-After: 1) now and then.
  const events = [...generateDemo({ now: demoNow })];
  const appOf = (sp: string) => graph.servicePrincipals.find((s) => s.id === sp)?.displayName ?? "the app";
  return startGraphEmulator({
    events,
    tail: graph.live.between,
    audits: graph.audits,
    servicePrincipals: graph.servicePrincipals,
    jobs: graph.jobs,
    throttleEvery: 40,
    servicePrincipalPage: 5,
    // A provision on demand from Teams succeeds (the conflict was fixed in the app) and is logged, as Entra logs it.
    onDemand: (sp, _job, subject) => {
      const record = graph.live.onDemandRecord(sp, subject.objectId, Date.now());
      if (record) events.push(record);
      return onDemandSteps(subject, appOf(sp));
    },
  });
}
