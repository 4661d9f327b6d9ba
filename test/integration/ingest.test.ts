import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableDeadLetterStore } from "../../src/adapters/tables/deadLetters";
import { ingestPayload, type IngestDeps } from "../../src/app/ingest";
import { PayloadError } from "../../src/core/ingest/payload";
import { appName, identityLabel } from "../../src/core/event";
import { jobKey } from "../../src/adapters/tables/keys";
import { sampleText } from "../support/samples";
import { countShardRows, testTables } from "../support/tables";

const { factory } = testTables();
const store = new TableEventStore(factory);
const deadLetters = new TableDeadLetterStore(factory, { now: () => new Date("2026-11-22T10:00:00Z") });
const deps: IngestDeps = { store, deadLetters };
const byChange = async (changeId: string) => (await store.getByChangeId(changeId))[0] ?? null;
const csv = (name: string) => readFileSync(join(__dirname, "..", "fixtures", "csv", name), "utf8");

beforeAll(async () => {
  await store.init();
});

describe("ingesting the real samples into Table Storage (Azurite)", () => {
  it("stores every sample that is a provisioning log with the right fields", async () => {
    const report = await ingestPayload(
      [
        { contentType: "application/json", text: sampleText("graph-v1.0-list-example2-failure.json") },
        { contentType: "application/json", text: sampleText("graph-v1.0-live-record-scim-group-skipped-redundantexport.json") },
        { contentType: "application/x-ndjson", text: sampleText("eventhub-provisioninglogs-elastic-test-raw.ndjson") },
      ],
      "test",
      deps,
    );
    // Event Hub line 3 is a hand-made variant that reuses line 2's id: one copy is kept (dedupe on id).
    // The beta sample shares its id with the v1.0 example (same doc record): ingested separately below.
    expect(report).toMatchObject({ accepted: 4, duplicates: 1, rejected: [] });

    const [contoso] = await store.getByChangeId("eaad2f8b-e6e3-409b-83bd-e4e2e57177d5");
    expect(contoso).toMatchObject({ action: "create", status: "failure", error: { code: "ContosoEntryConflict", httpStatus: "Conflict" } });
    expect(contoso!.steps.map((s) => s.type)).toEqual(["import", "matching", "export"]);
    expect(appName(contoso!)).toBe("Contoso");

    const grafana = await byChange("e228f043-cf65-4929-bc3f-87749ad75644");
    expect(grafana).toMatchObject({ action: "other", status: "skipped", sourceIdentity: { displayName: "macos-servers-dynamic", identityType: "Group" } });
    expect(appName(grafana!)).toBe("Grafana PS");

    const ellie = await byChange("54416401-eef2-461c-8de7-385dde2b3cba");
    expect(identityLabel(ellie!)).toBe("ellie@mauriziobrancaoutlook.onmicrosoft.com");
    expect(ellie).toMatchObject({ status: "skipped", activityDateTimeRaw: "2022-08-23T13:36:50.3538931Z", source: "eventHub" });
    expect(ellie!.steps.at(-1)?.details["SkipReason"]).toBe("AttributeValidationFailed");
  });

  it("re-ingesting the same data changes nothing", async () => {
    const before = await countShardRows(factory, "ev");
    const again = await ingestPayload([{ text: sampleText("eventhub-provisioninglogs-elastic-test-raw.ndjson") }], "test", deps);
    expect(again).toMatchObject({ accepted: 0, duplicates: 3, rejected: [] });
    expect(await byChange("e2f2b317-d848-483e-9593-e14e01edcd6d")).not.toBeNull();
    expect(await countShardRows(factory, "ev")).toBe(before);
  });

  it("treats the legacy beta record as a redelivery of the same id", async () => {
    const report = await ingestPayload([{ text: sampleText("graph-beta-list-box-failure-statusInfo.json") }], "test", deps);
    expect(report).toMatchObject({ accepted: 0, duplicates: 1 });
  });
});

describe("a batch with a malformed record", () => {
  it("stores the others and reports the bad one by index and reason, keeping its raw payload", async () => {
    const good = (id: string) => ({ id, changeId: `chg-${id}`, activityDateTime: "2026-11-21T10:00:00Z", jobId: "AdobeOutDelta.t.j", servicePrincipal: { id: "sp-adobe", displayName: "Adobe" }, provisioningAction: "disable", provisioningStatusInfo: { status: "success" }, sourceIdentity: { id: `o-${id}`, displayName: `User ${id}` } });
    const body = JSON.stringify({ value: [good("m1"), { id: "broken", activityDateTime: "not a time", provisioningStatusInfo: { status: "success" } }, good("m2")] });
    const report = await ingestPayload([{ contentType: "application/json", text: body }], "test", deps);
    expect(report.accepted).toBe(2);
    expect(report.rejected).toEqual([{ index: 1, reason: 'activityDateTime is not a date: "not a time"' }]);
    expect(await byChange("chg-m1")).not.toBeNull();
    expect(await byChange("chg-m2")).not.toBeNull();
    expect(report.deadLetterIds).toHaveLength(1);
    const dead = await deadLetters.get(report.deadLetterIds![0]!);
    expect(dead).toMatchObject({ count: 1, source: "test", rejections: [{ index: 1, reason: expect.stringContaining("not a date") }] });
    expect(dead?.raw).toEqual([{ index: 1, raw: expect.stringContaining('"id":"broken"') }]);
  });

  it("rejects an unreadable NDJSON line on its own", async () => {
    const line = (id: string) => JSON.stringify({ id, activityDateTime: "2026-11-21T11:00:00Z", provisioningStatusInfo: { status: "success" } });
    const report = await ingestPayload([{ text: `${line("n1")}\n{oops\n${line("n2")}\n` }], "test", deps);
    expect(report).toMatchObject({ accepted: 2, rejected: [{ index: 1, reason: "line 2 is not valid JSON" }] });
  });

  it("answers a body that cannot be parsed at all with a PayloadError", async () => {
    await expect(ingestPayload([{ contentType: "application/json", text: "{not json" }], "test", deps)).rejects.toBeInstanceOf(PayloadError);
    await expect(ingestPayload([{ text: "   " }], "test", deps)).rejects.toThrow(/empty/);
  });
});

describe("the admin-center CSV download", () => {
  it("joins the three files on change ID, with aliases, a BOM and multi-line quoted cells", async () => {
    const report = await ingestPayload(
      [
        { name: "ProvisioningLogs.csv", contentType: "text/csv", text: csv("ProvisioningLogs.csv") },
        { name: "ProvisioningLogs_ProvisioningSteps.csv", contentType: "text/csv", text: csv("ProvisioningLogs_ProvisioningSteps.csv") },
        { name: "ProvisioningLogs_ModifiedProperties.csv", contentType: "text/csv", text: csv("ProvisioningLogs_ModifiedProperties.csv") },
      ],
      "test",
      deps,
    );
    expect(report).toMatchObject({ accepted: 2, rejected: [] });
    expect(report.warnings).toEqual([expect.stringContaining("unknown column(s) ignored: Sensitivity Label")]);
    const alice = await byChange("csv-chg-1");
    expect(alice).toMatchObject({ action: "create", status: "failure", source: "download-csv", error: { code: "ServiceNowEntryConflict", httpStatus: "Conflict", retryCount: 2, nextRetryAt: "2026-11-20T14:15:02.000Z" } });
    expect(alice!.steps.map((s) => `${s.name}:${s.type}:${s.status}`)).toEqual([
      "EntryImportAdd:import:success",
      "EntrySynchronizationScoping:scoping:success",
      "EntrySynchronizationAdd:matching:success",
      "EntryExportAdd:export:failure",
    ]);
    const bob = await byChange("csv-chg-2");
    expect(bob!.sourceIdentity.displayName).toBe('Bob "Bobby" Li');
    expect(bob!.modifiedProperties).toEqual([
      { displayName: "title", oldValue: "Engineer", newValue: "Senior Engineer" },
      { displayName: "department", oldValue: null, newValue: "Platform" },
    ]);
  });

  it("joins files sent in separate calls, in either order", async () => {
    const rename = (text: string) => text.replace(/csv-(evt|chg)-/g, "sep-$1-");
    // Steps first (no event yet: kept pending), then events, then properties (patched in).
    const steps = await ingestPayload([{ name: "s.csv", text: rename(csv("ProvisioningLogs_ProvisioningSteps.csv")) }], "test", deps);
    expect(steps).toMatchObject({ accepted: 0, partsPending: 2 });
    const events = await ingestPayload([{ name: "e.csv", text: rename(csv("ProvisioningLogs.csv")) }], "test", deps);
    expect(events.accepted).toBe(2);
    const props = await ingestPayload([{ name: "m.csv", text: rename(csv("ProvisioningLogs_ModifiedProperties.csv")) }], "test", deps);
    expect(props).toMatchObject({ partsAttached: 1, partsPending: 0 });
    const bob = await byChange("sep-chg-2");
    expect(bob!.steps.map((s) => s.name)).toEqual(["EntryImportUpdate", "EntryExportUpdate"]);
    expect(bob!.modifiedProperties.map((m) => m.displayName)).toEqual(["title", "department"]);
  });

  it("names the missing columns of a CSV it cannot use", async () => {
    await expect(ingestPayload([{ text: "Foo,Bar\n1,2\n" }], "test", deps)).rejects.toThrow(/missing required column\(s\): activityDateTime, status, id or changeId/);
  });
});

describe("storage limits and aggregates", () => {
  it("stores an oversized record trimmed and marked, without failing its batch", async () => {
    const huge = "x".repeat(20_000);
    const big = {
      id: "big-1",
      activityDateTime: "2026-11-21T12:00:00Z",
      jobId: "scim.t.big",
      provisioningStatusInfo: { status: "failure", errorInformation: { errorCode: "SystemForCrossDomainIdentityManagementBadRequest", reason: huge } },
      provisioningSteps: Array.from({ length: 60 }, (_, i) => ({ name: `Step${i}`, provisioningStepType: "export", status: "success", description: huge, details: { a: huge } })),
    };
    const small = { id: "small-1", activityDateTime: "2026-11-21T12:00:01Z", jobId: "scim.t.big", provisioningStatusInfo: { status: "success" } };
    const report = await ingestPayload([{ text: JSON.stringify([big, small]) }], "test", deps);
    expect(report).toMatchObject({ accepted: 2, rejected: [] });
    const stored = await byChange("big-1");
    expect(stored?.trimmed).toEqual(expect.arrayContaining(["error.reason (20,000 characters, 16,000 kept)", "provisioningSteps[0].description (20,000 characters, 4,000 kept)"]));
    expect(stored?.steps).toHaveLength(60);
    expect(stored?.error?.code).toBe("SystemForCrossDomainIdentityManagementBadRequest");
  });

  it("keeps per-job hourly counts exact across redelivery", async () => {
    const job = "DropboxOutDelta.t.counts";
    const rec = (i: number, status: string, action = "create") => ({ id: `cnt-${i}`, activityDateTime: `2026-11-21T13:0${i}:00Z`, jobId: job, provisioningAction: action, provisioningStatusInfo: { status, errorInformation: status === "failure" ? { errorCode: "DropboxEntryConflict", reason: "x" } : null } });
    const batch = JSON.stringify([rec(1, "failure"), rec(2, "failure"), rec(3, "success"), rec(4, "skipped", "other")]);
    await ingestPayload([{ text: batch }], "test", deps);
    await ingestPayload([{ text: batch }], "test", deps);
    const [row, ...others] = await store.counts.allOf(jobKey(job, ""));
    expect(others).toEqual([]);
    expect(row).toMatchObject({ hour: "2026112113", total: 4 });
    expect(row!.cells.map((c) => `${c.action} ${c.status} ${c.n}`).sort()).toEqual(["create failure 2", "create success 1", "other skipped 1"]);
    expect({ ...row!.errors }).toEqual({ DropboxEntryConflict: 2 });
    const jobRow = (await store.jobs.list()).find((j) => j.jobKey === jobKey(job, ""));
    expect(jobRow).toMatchObject({ firstAt: "2026-11-21T13:01:00.000Z", lastAt: "2026-11-21T13:04:00.000Z" });
  });

  it("keeps the last known state per object even when events arrive out of order", async () => {
    const job = "BoxOutDelta.t.state";
    const rec = (id: string, at: string, action: string) => ({ id, activityDateTime: at, jobId: job, provisioningAction: action, provisioningStatusInfo: { status: "success" }, sourceIdentity: { id: "OBJ-carol", displayName: "Carol" } });
    await ingestPayload([{ text: JSON.stringify([rec("st-2", "2026-11-21T15:00:00Z", "disable")]) }], "test", deps);
    await ingestPayload([{ text: JSON.stringify([rec("st-1", "2026-11-21T14:00:00Z", "create")]) }], "test", deps);
    const state = await store.lastKnownState("i:obj-carol", jobKey(job, ""), "2026-11-22T00:00:00Z");
    expect(state).toMatchObject({ action: "disable", at: "2026-11-21T15:00:00.000Z" });
    const rows = await store.identityRows("i:obj-carol", "2026-11-01T00:00:00Z", "2026-11-22T00:00:00Z");
    expect(rows.map((r) => r.action)).toEqual(["disable", "create"]);
    expect(await store.lastKnownState("i:obj-carol", jobKey("OtherJob.t.x", ""), "2026-11-22T00:00:00Z")).toBeNull();
  });
});

describe("retention purge", () => {
  it("drops whole shards older than the cutoff, keeps the rest, and keeps the last state of aged-out objects", async () => {
    const { factory: f } = testTables();
    const s = new TableEventStore(f);
    const d = { store: s, deadLetters: new TableDeadLetterStore(f, { now: () => new Date("2026-11-22T10:00:00Z") }) };
    const job = "SalesforceOutDelta.t.purge";
    const rec = (id: string, at: string, objectId: string, action = "create") => ({ id, changeId: `c-${id}`, cycleId: `cyc-${id}`, activityDateTime: at, jobId: job, provisioningAction: action, provisioningStatusInfo: { status: "success" }, sourceIdentity: { id: objectId, displayName: objectId } });
    await ingestPayload(
      [{ text: JSON.stringify([rec("old-1", "2026-09-01T10:00:00Z", "dave"), rec("old-2", "2026-09-02T10:00:00Z", "erin", "disable"), rec("new-1", "2026-11-20T10:00:00Z", "erin")]) }],
      "test",
      d,
    );
    const shardsBefore = await s.events.shards.existing();
    expect(shardsBefore.map((x) => x.name)).toEqual(["ev20260901", "ev20260902", "ev20261120"]);
    const report = await s.purgeBefore("2026-10-23T00:00:00Z");
    // Whole tables: two event days, September's refs and September's identity shards, nothing of November.
    expect(report.tablesDropped.filter((t) => t.startsWith("ev"))).toEqual(["ev20260901", "ev20260902"]);
    expect(report.tablesDropped).toContain("rf202609");
    expect(report.tablesDropped.filter((t) => t.startsWith("ix")).every((t) => t.startsWith("ix202609"))).toBe(true);
    expect(report.tablesDropped.some((t) => /2026(10|11)/.test(t))).toBe(false);
    expect(report.statesKept).toBe(2);
    expect(report.countRows).toBe(2);
    expect(await s.getByChangeId("c-old-1")).toEqual([]);
    expect(await s.getByChangeId("c-new-1")).toHaveLength(1);
    expect((await s.events.shards.existing()).map((x) => x.name)).toEqual(["ev20261120"]);
    expect((await s.counts.allOf(jobKey(job, ""))).map((c) => c.hour)).toEqual(["2026112010"]);
    // dave's only event aged out: the state row answers; erin's newest event is still stored.
    expect(await s.lastKnownState("i:dave", jobKey(job, ""), "2026-11-22T00:00:00Z")).toMatchObject({ action: "create", at: "2026-09-01T10:00:00.000Z" });
    expect(await s.lastKnownState("i:erin", jobKey(job, ""), "2026-11-22T00:00:00Z")).toMatchObject({ at: "2026-11-20T10:00:00.000Z" });
    // A second purge has nothing left to drop.
    expect((await s.purgeBefore("2026-10-23T00:00:00Z")).tablesDropped).toEqual([]);
  });
});

describe("a store written by the earlier layout", () => {
  it("is detected (its one events table is named), and the current layout does not read it", async () => {
    const { factory: f } = testTables();
    await f.table("events").createTable();
    await f.table("events").upsertEntity({ partitionKey: "Job|2026112110", rowKey: "r", changeId: "old-layout-chg" });
    const s = new TableEventStore(f);
    expect(await s.legacyTables()).toEqual([`${f.prefix}events`]);
    expect(await s.getByChangeId("old-layout-chg")).toEqual([]);
    expect(await new TableEventStore(testTables().factory).legacyTables()).toEqual([]);
  });
});

describe("a shard dropped by another instance", () => {
  it("is created again when a late event for its day arrives, and the event is stored", async () => {
    const { factory: f } = testTables();
    const writer = new TableEventStore(f);
    const d = { store: writer, deadLetters: new TableDeadLetterStore(f, { now: () => new Date("2026-11-22T10:00:00Z") }) };
    const rec = (id: string) => ({ id, changeId: `c-${id}`, activityDateTime: "2026-09-05T10:00:00Z", jobId: "Late.t.job", provisioningAction: "create", provisioningStatusInfo: { status: "success" }, sourceIdentity: { id: `o-${id}`, displayName: id } });
    expect((await ingestPayload([{ text: JSON.stringify([rec("late-1")]) }], "test", d)).accepted).toBe(1);
    // Another instance's retention purge drops the day (and the month's refs and identities).
    const purge = await new TableEventStore(f).purgeBefore("2026-10-23T00:00:00Z");
    expect(purge.tablesDropped).toContain("ev20260905");
    // The writer still believes the shards exist; its next write for that day must not fail.
    expect((await ingestPayload([{ text: JSON.stringify([rec("late-2")]) }], "test", d)).accepted).toBe(1);
    expect((await writer.getByChangeId("c-late-2")).map((e) => e.id)).toEqual(["late-2"]);
  });
});
