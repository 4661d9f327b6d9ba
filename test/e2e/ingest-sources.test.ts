import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { provisioningRecord } from "../support/records";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { startHostProcess, ROOT, type HostProcess } from "../support/stack";
import { sampleText, SAMPLES_DIR } from "../support/samples";
import { createTableFactory } from "../../src/adapters/tables/client";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { countShardRows } from "../support/tables";

/** Every ingestion source through the built code: HTTP (function key), Event Hub handler, CLI. */
const run = promisify(execFile);
const prefix = `e${randomBytes(4).toString("hex")}`;
let host: HostProcess;
const factory = () => createTableFactory({ kind: "connectionString", connectionString: inject("azurite").connectionString }, prefix);
const store = () => new TableEventStore(factory());
const csv = (name: string) => readFileSync(join(ROOT, "test", "fixtures", "csv", name), "utf8");

beforeAll(async () => {
  host = await startHostProcess(inject("azurite").port, { PROVBOT_TABLE_PREFIX: prefix });
});
afterAll(async () => host?.stop());

const post = (body: RequestInit["body"], headers: Record<string, string> = {}) =>
  fetch(`${host.url}/api/ingest`, { method: "POST", body, headers: { "x-functions-key": host.functionKey, ...headers } });

describe("POST /api/ingest", () => {
  it("needs the function key", async () => {
    const res = await fetch(`${host.url}/api/ingest`, { method: "POST", body: sampleText("graph-v1.0-list-example2-failure.json") });
    expect(res.status).toBe(401);
  });

  it("accepts a Graph list response, then reports the same body as duplicates", async () => {
    const body = sampleText("graph-v1.0-list-example2-failure.json");
    const first = await post(body, { "content-type": "application/json" });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ accepted: 1, duplicates: 0, ignored: 0, rejected: [], rejectedCount: 0, warnings: [] });
    const second = await post(body, { "content-type": "application/json" });
    expect(await second.json()).toMatchObject({ accepted: 0, duplicates: 1 });
  });

  it("detects NDJSON and a single record without a content type", async () => {
    const nd = await post(sampleText("eventhub-provisioninglogs-elastic-test-raw.ndjson"));
    expect(await nd.json()).toMatchObject({ accepted: 2, duplicates: 1, rejected: [] });
    const single = await post(sampleText("graph-v1.0-live-record-scim-group-skipped-redundantexport.json"));
    expect(await single.json()).toMatchObject({ accepted: 1 });
  });

  it("takes the three CSV files as multipart/form-data", async () => {
    const form = new FormData();
    for (const name of ["ProvisioningLogs.csv", "ProvisioningLogs_ProvisioningSteps.csv", "ProvisioningLogs_ModifiedProperties.csv"]) {
      form.append("files", new Blob([csv(name)], { type: "text/csv" }), name);
    }
    const res = await post(form);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 2, rejected: [] });
    const [bob] = await store().getByChangeId("csv-chg-2");
    expect(bob?.modifiedProperties).toHaveLength(2);
    expect(bob?.steps).toHaveLength(2);
  });

  it("answers 400 with a message for a body it cannot parse at all", async () => {
    const res = await post("{this is not json", { "content-type": "application/json" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/not valid JSON/);
  });
});

describe("the Event Hub trigger (run through the host's admin endpoint)", () => {
  it("stores records from {records: [...]} messages once, even when the batch is delivered twice", async () => {
    const records = sampleText("eventhub-provisioninglogs-elastic-test-raw.ndjson")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { properties: { id: string }; identity: string });
    const renamed = records.map((r, i) => ({ ...r, identity: `eh-${i}`, correlationId: `eh-chg-${i}`, properties: { ...r.properties, id: `eh-${i}`, changeId: `eh-chg-${i}` } }));
    const messages = [{ records: renamed.slice(0, 2) }, JSON.stringify({ records: [renamed[2], { category: "AuditLogs", time: "2026-01-01T00:00:00Z", properties: { id: "audit" } }] })];
    for (let delivery = 0; delivery < 2; delivery++) {
      const res = await fetch(`${host.url}/admin/functions/eventHubIngest`, {
        method: "POST",
        headers: { "x-functions-key": host.functionKey },
        body: JSON.stringify({ input: JSON.stringify(messages) }),
      });
      expect(res.status).toBe(202);
    }
    await expect.poll(async () => (await store().getByChangeId("eh-chg-2"))[0]?.status, { timeout: 10_000 }).toBe("failure");
    // The second delivery, in the host's structured log: nothing new, three duplicates, one other category.
    await expect.poll(() => host.output(), { timeout: 10_000 }).toMatch(/ingest\.call \{"source":"eventhub","accepted":0,"duplicates":3,"ignored":1,"rejected":0,/);
    expect(await store().getByChangeId("audit")).toEqual([]);
  });
});

describe("npx provbot ingest", () => {
  it("ingests files with the same counts, and re-running them duplicates nothing", async () => {
    const env = { ...process.env, AzureWebJobsStorage: inject("azurite").connectionString, PROVBOT_TABLE_PREFIX: `${prefix}cli` };
    const files = [join(SAMPLES_DIR, "graph-v1.0-live-record-scim-group-skipped-redundantexport.json"), join(SAMPLES_DIR, "eventhub-provisioninglogs-elastic-test-raw.ndjson")];
    const cli = join(ROOT, "dist", "scripts", "cli.js");
    const first = await run(process.execPath, [cli, "ingest", "--json", ...files], { env });
    expect(JSON.parse(first.stdout)).toMatchObject({ accepted: 3, duplicates: 1, rejected: [] });
    const second = await run(process.execPath, [cli, "ingest", ...files], { env });
    expect(second.stdout).toContain("accepted 0, duplicates 4, rejected 0");
    const cliFactory = createTableFactory({ kind: "connectionString", connectionString: inject("azurite").connectionString }, `${prefix}cli`);
    expect(await countShardRows(cliFactory, "ev")).toBe(3);
  });

  it("streams a Graph list larger than the HTTP cap, the three CSV files, and prints where rejected records are kept", async () => {
    const env = { ...process.env, AzureWebJobsStorage: inject("azurite").connectionString, PROVBOT_TABLE_PREFIX: `${prefix}big` };
    const dir = mkdtempSync(join(tmpdir(), "provbot-cli-"));
    const big = join(dir, "download.json");
    const at = new Date(Date.now() - 3_600_000);
    const records = Array.from({ length: 2600 }, (_, i) => ({ ...provisioningRecord({ jobId: "Big.cli", app: "Big", at, user: i, id: `big-${i}` }), changeId: `big-chg-${i}` }));
    const padded = records.map((r) => ({ ...r, modifiedProperties: [{ displayName: "notes", oldValue: randomBytes(1800).toString("base64"), newValue: null }] }));
    writeFileSync(big, JSON.stringify({ value: [...padded, { id: "bad", activityDateTime: "soon", provisioningStatusInfo: { status: "success" } }] }));
    expect(statSync(big).size).toBeGreaterThan(8 * 1024 * 1024);
    const csvFiles = ["ProvisioningLogs.csv", "ProvisioningLogs_ProvisioningSteps.csv", "ProvisioningLogs_ModifiedProperties.csv"].map((n) => join(ROOT, "test", "fixtures", "csv", n));
    // Exit code 3: some records were rejected.
    const out = (await run(process.execPath, [join(ROOT, "dist", "scripts", "cli.js"), "ingest", big, ...csvFiles], { env }).catch((e: unknown) => e)) as { code?: number; stdout: string; stderr: string };
    expect(out.code, out.stderr).toBe(3);
    expect(out.stdout).toContain("accepted 2602, duplicates 0, rejected 1");
    const id = /npx provbot rejected (\S+)/.exec(out.stdout)?.[1];
    expect(id).toBeTruthy();
    const s = new TableEventStore(createTableFactory({ kind: "connectionString", connectionString: inject("azurite").connectionString }, `${prefix}big`));
    expect((await s.getByChangeId("big-chg-2599"))[0]?.id).toBe("big-2599");
    const [bob] = await s.getByChangeId("csv-chg-2");
    expect(bob?.steps).toHaveLength(2);
    expect(bob?.modifiedProperties).toHaveLength(2);
    const shown = await run(process.execPath, [join(ROOT, "dist", "scripts", "cli.js"), "rejected", id!], { env });
    expect(shown.stdout).toContain('record 2600: activityDateTime is not a date: "soon"');
    expect(shown.stdout).toContain('"id":"bad"');
  }, 60_000);
});
