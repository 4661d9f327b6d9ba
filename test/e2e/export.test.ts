import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { unzipSync, strFromU8 } from "fflate";
import { startHostProcess, type HostProcess } from "../support/stack";
import { postDemo } from "../../scripts/demo";

/**
 * Downloads through the built host, as an admin (or the tab) fetches them: GET /api/export as JSON
 * and as the admin center's three CSV files in a zip; each file posted back to POST /api/ingest
 * unchanged is all duplicates of what is stored (the round trip), filters narrow what is written.
 */
let host: HostProcess;
const NOW = new Date();
// The demo's two days (without its incidents and Workday backlog: one upload holds the whole download), and the few older events its example people have (up to three days back).
const range = `from=${new Date(NOW.getTime() - 4 * 86_400_000).toISOString()}&to=${new Date(NOW.getTime() + 60_000).toISOString()}`;
let stored = 0;

beforeAll(async () => {
  host = await startHostProcess(inject("azurite").port, { PROVBOT_TABLE_PREFIX: `ex${Date.now().toString(36)}` });
  const loaded = await postDemo(host.url, host.functionKey, { now: NOW, days: 2, perCycle: 2, incidents: false });
  stored = loaded.accepted;
  expect(stored).toBeGreaterThan(500);
}, 120_000);

afterAll(async () => host?.stop());

const get = (query: string, key = host.functionKey) => fetch(`${host.url}/api/export?${query}`, { headers: key ? { "x-functions-key": key } : {} });
const ingest = async (body: string | FormData, contentType?: string) => {
  const res = await fetch(`${host.url}/api/ingest`, { method: "POST", headers: { "x-functions-key": host.functionKey, ...(contentType ? { "content-type": contentType } : {}) }, body });
  expect(res.status).toBe(200);
  return (await res.json()) as { accepted: number; duplicates: number; rejectedCount: number; warnings: string[] };
};

describe("downloads", () => {
  it("the JSON download holds every stored event of the range and ingests back as duplicates only", async () => {
    const res = await get(`format=json&${range}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toMatch(/attachment; filename="provisioning-logs-\d{8}-\d{4}\.json"/);
    const text = await res.text();
    const records = JSON.parse(text) as { changeId: string }[];
    expect(records.length).toBe(stored);
    expect(new Set(records.map((r) => r.changeId)).size).toBe(stored);
    const again = await ingest(text, "application/json");
    expect(again).toMatchObject({ accepted: 0, duplicates: stored, rejectedCount: 0 });
  }, 60_000);

  it("the CSV download is the three files in a zip, and the three files ingest back as duplicates only", async () => {
    const res = await get(`format=csv&${range}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/zip");
    const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
    expect(Object.keys(files).sort()).toEqual(["ProvisioningLogs.csv", "ProvisioningLogs_ModifiedProperties.csv", "ProvisioningLogs_Steps.csv"]);
    const events = strFromU8(files["ProvisioningLogs.csv"]!);
    // A UTF-8 byte order mark first (spreadsheets then read accents right), then the portal's columns.
    expect([...files["ProvisioningLogs.csv"]!.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(events.replace(/^\ufeff/, "").startsWith("Date (UTC),Id,Change ID,")).toBe(true);
    const form = new FormData();
    for (const [name, bytes] of Object.entries(files)) form.append(name, new Blob([strFromU8(bytes)], { type: "text/csv" }), name);
    const again = await ingest(form);
    expect(again).toMatchObject({ accepted: 0, duplicates: stored, rejectedCount: 0 });
    expect(again.warnings).toEqual([]);
  }, 60_000);

  it("writes only what the filters select, and refuses what it cannot read", async () => {
    const res = await get(`format=json&${range}&app=ServiceNow&status=failure`);
    const records = (await res.json()) as { servicePrincipal: { displayName: string }; provisioningStatusInfo: { status: string } }[];
    expect(records.length).toBeGreaterThan(0);
    expect(records.every((r) => r.servicePrincipal.displayName === "ServiceNow" && r.provisioningStatusInfo.status === "failure")).toBe(true);
    expect((await get(`format=xml`)).status).toBe(400);
    expect((await get(`status=broken`)).status).toBe(400);
    // Streamed, so not limited to a month: two months are fine; more than the longest retention (366 days) is refused.
    expect((await get(`from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z`)).status).toBe(200);
    expect((await get(`from=2025-01-01T00:00:00Z&to=2026-03-01T00:00:00Z`)).status).toBe(400);
    expect((await get(`app=NoSuchApp`)).status).toBe(404);
  }, 60_000);
});

describe("the tab's data API with keys from outside", () => {
  it.each([
    ["pk=a%2Fb%23c%3Fd&rk=%00%01", 404],
    ["pk=" + "x".repeat(5000) + "&rk=y", 404],
    ["changeId=%F0%9F%98%80%ED%A0%80", 404],
    ["", 400],
  ])("event?%s answers %i, never 500", async (query, status) => {
    const res = await fetch(`${host.url}/api/dashboard/event?${query}`);
    expect(res.status).toBe(status);
  });

  it("refuses unknown views and bad filters with the reason", async () => {
    expect((await fetch(`${host.url}/api/dashboard/__proto__`)).status).toBe(404);
    const bad = await fetch(`${host.url}/api/dashboard/events?status=nope`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/status/);
    expect((await fetch(`${host.url}/api/dashboard/events?page=-5&identity=${"a".repeat(2000)}`)).status).toBe(200);
  });
});
