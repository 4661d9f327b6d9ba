import { afterAll, describe, expect, inject, it } from "vitest";
import { randomBytes } from "node:crypto";
import { jobKey } from "../../src/adapters/tables/keys";
import { startHostProcess, type HostProcess } from "../support/stack";
import { startFaultProxy } from "../support/faultProxy";
import { provisioningRecord } from "../support/records";
import { audit, restartable, tablesOn, until } from "./support";

/**
 * Ingest under faults, through the built local host and real processes: Table Storage killed in
 * the middle of a call and started again on its data, and the host killed between storing events
 * and copying their counts. The caller retries the same request; every event ends up stored
 * exactly once, and the counts match the events.
 */
const hosts: HostProcess[] = [];
afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
});

function records(job: string, n: number): Record<string, unknown>[] {
  const end = Date.now() - 60_000;
  return Array.from({ length: n }, (_, i) => provisioningRecord({ jobId: job, app: "Fault App", at: new Date(end - i * 1_000), user: i, id: `${job}-${i}`, status: i % 7 === 0 ? "failure" : "success" }));
}

const post = (host: HostProcess, body: unknown) =>
  fetch(`${host.url}/api/ingest`, { method: "POST", headers: { "content-type": "application/json", "x-functions-key": host.functionKey }, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) });

describe("ingest under faults", () => {
  it("Table Storage killed mid-ingest: 503, then the retried request stores every event exactly once, counts included", async () => {
    const azurite = await restartable("table");
    const prefix = `so${randomBytes(3).toString("hex")}`;
    const host = await startHostProcess(azurite.port, { PROVBOT_TABLE_PREFIX: prefix, PROVBOT_ALERTS: "off" });
    hosts.push(host);
    const job = `Outage.${prefix}`;
    const body = records(job, 4_000);
    const call = post(host, body);
    // Kill it once the first batch of 1,000 is stored and the next ones are on their way.
    await until("the first stored batch", () => /ingest\.batch \{"source":"http","records":1000/.test(host.output()));
    await azurite.kill();
    const res = await call;
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("10");
    expect(((await res.json()) as { error: string }).error).toMatch(/not reachable.*Send the same request again/);
    await azurite.start();
    const again = await post(host, body);
    expect(again.status).toBe(200);
    const report = (await again.json()) as { accepted: number; duplicates: number; rejectedCount: number };
    expect(report.accepted + report.duplicates).toBe(4_000);
    expect(report.rejectedCount).toBe(0);
    expect(await audit(tablesOn(azurite.port, prefix), jobKey(job, `sp-${job}`))).toEqual({ rows: 4_000, distinct: 4_000, counted: 4_000 });
    await azurite.stop();
  });

  it("the host killed between storing events and copying their counts, restarted, the request retried: exactly once, counts included", async () => {
    const prefix = `hk${randomBytes(3).toString("hex")}`;
    const proxy = await startFaultProxy(inject("azurite").port);
    let host: HostProcess | null = null;
    let killed = false;
    // The host's storage requests pass through the proxy: the first write to the counts table
    // kills the host before it reaches storage (the events and their counters are already stored).
    proxy.rule = ({ method, path, body }) => {
      if (!killed && host && method === "POST" && path.includes("$batch") && body.includes(`${prefix}counts`)) {
        killed = true;
        host.child.process.kill("SIGKILL");
        return 503;
      }
      return null;
    };
    host = await startHostProcess(proxy.port, { PROVBOT_TABLE_PREFIX: prefix, PROVBOT_ALERTS: "off" });
    const job = `Crash.${prefix}`;
    const body = records(job, 1_500);
    await expect(post(host, body)).rejects.toThrow();
    expect(killed).toBe(true);
    const factory = tablesOn(inject("azurite").port, prefix);
    const before = await audit(factory, jobKey(job, `sp-${job}`));
    expect(before.rows).toBeGreaterThan(0);
    expect(before.counted).toBeLessThan(before.rows);
    // Restarted (npm start does this on its own), and the caller sends the same request again.
    proxy.rule = () => null;
    const restarted = await startHostProcess(proxy.port, { PROVBOT_TABLE_PREFIX: prefix, PROVBOT_ALERTS: "off" });
    hosts.push(restarted);
    const again = await post(restarted, body);
    expect(again.status).toBe(200);
    // The counts (what statistics, lists and alert baselines read) are right at once after the retry.
    expect(await audit(factory, jobKey(job, `sp-${job}`))).toEqual({ rows: 1_500, distinct: 1_500, counted: 1_500 });
    await proxy.close();
  });
});
