import { generateDemo, type DemoOptions } from "../src/core/demo/generator";

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
