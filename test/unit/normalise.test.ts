import { describe, expect, it } from "vitest";
import { normaliseRecord } from "../../src/core/ingest/normalise";
import { parseUtc } from "../../src/core/ingest/time";
import { mineReason } from "../../src/core/ingest/reason";
import { toAction, toStatus, toStepType } from "../../src/core/ingest/enums";
import { appName, identityLabel, skipReason, type ProvisioningEvent } from "../../src/core/event";
import { sampleJson, sampleNdjson } from "../support/samples";

function event(raw: unknown): ProvisioningEvent {
  const r = normaliseRecord(raw);
  if (r.kind !== "event") throw new Error(`expected an event, got ${r.kind}: ${r.reason}`);
  return r.event;
}

const steps = (e: ProvisioningEvent) => e.steps.map((s) => `${s.name}:${s.type}:${s.status}`);

describe("normalising the real samples", () => {
  it("Graph v1.0 list, failed group create with ContosoEntryConflict", () => {
    const list = sampleJson<{ value: unknown[] }>("graph-v1.0-list-example2-failure.json");
    const e = event(list.value[0]);
    expect(e).toMatchObject({
      id: "gc532ff9-r265-ec76-861e-42e2970a8218",
      changeId: "eaad2f8b-e6e3-409b-83bd-e4e2e57177d5",
      action: "create",
      status: "failure",
      activityDateTime: "2019-06-24T20:53:08.000Z",
      activityDateTimeRaw: "2019-06-24T20:53:08Z",
      jobId: "ContosoOutDelta.7928d5b574424a97ne2d66f9j9972ecn",
      source: "graph",
    });
    expect(e.sourceIdentity).toMatchObject({ displayName: "Self-service Pilot", identityType: "Group" });
    expect(appName(e)).toBe("Contoso");
    expect(e.error).toMatchObject({ code: "ContosoEntryConflict", category: "nonServiceFailure" });
    expect(e.error?.reason).toContain("HTTP status code 409");
    expect(e.error?.httpStatus).toBe("Conflict");
    expect(steps(e)).toEqual(["EntryImportAdd:import:success", "EntrySynchronizationAdd:matching:success", "EntryExportAdd:export:failure"]);
  });

  it("legacy beta shape: action + statusInfo with flat errorCode, PascalCase category", () => {
    const list = sampleJson<{ value: unknown[] }>("graph-beta-list-box-failure-statusInfo.json");
    const e = event(list.value[0]);
    expect(e.action).toBe("create");
    expect(e.status).toBe("failure");
    expect(e.error).toMatchObject({ code: "BoxEntryConflict", category: "nonServiceFailure" });
    expect(appName(e)).toBe("Box"); // no servicePrincipal: falls back to the target's SP display name
    expect(e.sourceIdentity.displayName).toBe("Self-service Pilot");
  });

  it("live SCIM record: skipped, RedundantExport, non-gallery app named by its service principal", () => {
    const e = event(sampleJson("graph-v1.0-live-record-scim-group-skipped-redundantexport.json"));
    expect(e).toMatchObject({ action: "other", status: "skipped", error: null });
    expect(appName(e)).toBe("Grafana PS");
    expect(e.targetSystem.displayName).toBe("customappsso");
    expect(skipReason(e)).toBe("RedundantExport");
    expect(e.sourceIdentity).toMatchObject({ displayName: "macos-servers-dynamic", identityType: "Group" });
    expect(steps(e)).toEqual([
      "EntryImportUpdate:import:success",
      "EntryImport:matching:success",
      "EntrySynchronizationScoping:scoping:success",
      "EntrySynchronizationSkip:export:skipped",
    ]);
  });

  it("Event Hub records: PascalCase Id/Name, capital-S Status, numeric step enums", () => {
    const [skipped, created, variant] = sampleNdjson("eventhub-provisioninglogs-elastic-test-raw.ndjson").map(event);
    expect(skipped).toMatchObject({ id: "d6cbb0bd-c3ec-6455-bd3e-4282141ce369", action: "create", status: "skipped", source: "eventHub", durationMs: 828 });
    expect(skipped!.activityDateTime).toBe("2022-08-23T13:36:50.353Z");
    expect(skipped!.activityDateTimeRaw).toBe("2022-08-23T13:36:50.3538931Z");
    expect(appName(skipped!)).toBe("Dropbox Business");
    expect(identityLabel(skipped!)).toBe("ellie@mauriziobrancaoutlook.onmicrosoft.com");
    expect(skipReason(skipped!)).toBe("AttributeValidationFailed");
    expect(steps(skipped!)).toEqual([
      "EntryImportAdd:import:success",
      "EntrySynchronizationScoping:scoping:success",
      "EntrySynchronizationAdd:matching:success",
      "EntrySynchronizationSkip:processing:skipped",
    ]);
    expect(created).toMatchObject({ action: "create", status: "success", error: null });
    expect(created!.sourceIdentity.displayName).toBe("Joel Miller");
    expect(created!.steps.at(-1)).toMatchObject({ name: "EntryExportAdd", type: "export", status: "success" });
    expect(created!.modifiedProperties.length).toBeGreaterThan(0);
    expect(variant).toMatchObject({ status: "failure", error: { code: "ContosoEntryConflict", category: "nonServiceFailure", additionalDetails: "details (test value)" } });
  });

  it("rejects the provisionOnDemand response with a clear reason", () => {
    const r = normaliseRecord(sampleJson("graph-v1.0-provisionOnDemand-response-redundantexport.json"));
    expect(r).toEqual({ kind: "rejected", reason: expect.stringContaining("provisionOnDemand") });
  });
});

describe("Log Analytics rows (AADProvisioningLogs columns, JSON text values)", () => {
  const row = {
    TenantId: "workspace-guid",
    AADTenantId: "entra-tenant",
    TimeGenerated: "2026-03-24T07:17:42.1234567Z",
    Id: "la-1",
    ChangeId: "chg-la-1",
    CycleId: "cyc",
    JobId: "scim.x.y",
    ProvisioningAction: "disable",
    ResultType: "Failure",
    ResultSignature: "SystemForCrossDomainIdentityManagementBadRequest",
    ResultDescription: "StatusCode: BadRequest\r\nMessage: nope. This operation was retried 2 times. It will be retried again after this date: 2026-03-24T13:23:44.9198514Z UTC",
    ServicePrincipal: '{"Id":"sp1","Name":"ServiceNow"}',
    SourceIdentity: '{"identityType":"User","details":{"UserPrincipalName":"alice@contoso.com"},"Id":"obj-a","Name":"Alice"}',
    ProvisioningSteps: '[{"name":"EntryExportUpdateSoftDelete","provisioningStepType":"5","status":"1","description":"d","details":{}}]',
    ModifiedProperties: '[{"displayName":"active","oldValue":"True","newValue":"False"}]',
  };
  it("uses AADTenantId (not the workspace TenantId) and decodes JSON text columns", () => {
    const e = event(row);
    expect(e).toMatchObject({ tenantId: "entra-tenant", id: "la-1", action: "disable", status: "failure", source: "logAnalytics" });
    expect(e.servicePrincipal).toEqual({ id: "sp1", displayName: "ServiceNow" });
    expect(identityLabel(e)).toBe("alice@contoso.com");
    expect(e.steps[0]).toMatchObject({ type: "export", status: "failure" });
    expect(e.modifiedProperties).toEqual([{ displayName: "active", oldValue: "True", newValue: "False" }]);
    expect(e.error).toMatchObject({ code: "SystemForCrossDomainIdentityManagementBadRequest", httpStatus: "BadRequest", retryCount: 2, nextRetryAt: "2026-03-24T13:23:44.919Z" });
  });
});

describe("rejections and tolerance", () => {
  it.each([
    [42, "not a JSON object"],
    [[1], "not a JSON object"],
    [{ activityDateTime: "2026-01-01T00:00:00Z", provisioningStatusInfo: { status: "success" } }, "no id or changeId"],
    [{ id: "x", provisioningStatusInfo: { status: "success" } }, "activityDateTime is missing"],
    [{ id: "x", activityDateTime: "yesterday-ish", provisioningStatusInfo: { status: "success" } }, 'not a date: "yesterday-ish"'],
    [{ id: "x", activityDateTime: "2026-01-01T00:00:00Z" }, "status is missing"],
  ])("%j is rejected: %s", (raw, reason) => {
    const r = normaliseRecord(raw);
    expect(r.kind).toBe("rejected");
    expect(r.kind === "rejected" && r.reason).toContain(reason);
  });

  it("ignores other diagnostic categories sharing the hub", () => {
    expect(normaliseRecord({ time: "2026-01-01T00:00:00Z", category: "SignInLogs", properties: { id: "s" } }).kind).toBe("ignored");
  });

  it("maps unknown enum values to unknownFutureValue instead of throwing", () => {
    const e = event({ id: "u", activityDateTime: "2026-01-01T00:00:00Z", provisioningAction: "teleport", provisioningStatusInfo: { status: "maybe" }, provisioningSteps: [{ name: "X", provisioningStepType: 99, status: "weird" }] });
    expect(e.action).toBe("unknownFutureValue");
    expect(e.status).toBe("unknownFutureValue");
    expect(e.steps[0]).toMatchObject({ type: "unknownFutureValue", status: "unknownFutureValue" });
  });

  it("accepts servicePrincipal as an array and durations as strings", () => {
    const e = event({ id: "a", activityDateTime: "2026-01-01T00:00:00Z", provisioningStatusInfo: { status: "success" }, servicePrincipal: [{ id: "sp", displayName: "AWS" }], durationInMilliseconds: "828" });
    expect(e.servicePrincipal).toEqual({ id: "sp", displayName: "AWS" });
    expect(e.durationMs).toBe(828);
  });
});

describe("enums", () => {
  it.each([
    ["stageddelete", "stagedDelete"],
    ["StagedDelete", "stagedDelete"],
    ["Create", "create"],
    ["DISABLE", "disable"],
  ])("action %s -> %s", (raw, expected) => expect(toAction(raw)).toBe(expected));
  it.each([
    [0, "success"],
    [1, "failure"],
    [2, "skipped"],
    ["Skipped", "skipped"],
    ["3", "warning"],
  ])("status %j -> %s", (raw, expected) => expect(toStatus(raw)).toBe(expected));
  it.each([
    [0, "import"],
    [1, "scoping"],
    [2, "matching"],
    [5, "export"],
    ["Import", "import"],
    ["referenceresolution", "referenceResolution"],
  ])("step type %j -> %s", (raw, expected) => expect(toStepType(raw)).toBe(expected));
});

describe("times are UTC, whatever the input", () => {
  it.each([
    ["2026-07-17T12:31:10Z", "2026-07-17T12:31:10.000Z"],
    ["2022-08-23T13:36:52.8695470Z", "2022-08-23T13:36:52.869Z"],
    ["2022-08-23T13:36:52.869547Z", "2022-08-23T13:36:52.869Z"],
    ["2026-03-24T07:17:42", "2026-03-24T07:17:42.000Z"],
    ["2026-03-24T09:17:42+02:00", "2026-03-24T07:17:42.000Z"],
    ["3/24/2026 7:17:42 AM", "2026-03-24T07:17:42.000Z"],
    ["11/14/2025 1:48:53 PM", "2025-11-14T13:48:53.000Z"],
    ["1/9/2007 10:41:00 AM +01:00", "2007-01-09T09:41:00.000Z"],
  ])("%s -> %s", (raw, expected) => expect(parseUtc(raw)).toBe(expected));
  it("returns null for text that is not a time", () => expect(parseUtc("soon")).toBeNull());
});

describe("reason mining", () => {
  it("finds the HTTP status, the retry count and the next retry time", () => {
    const facts = mineReason(
      "StatusCode: Conflict\r\nMessage: exists\r\nWeb Response: \r\n{\"detail\":\"x\"}. This operation was retried 1 times. It will be retried again after this date: 2026-03-24T13:23:44.9198514Z UTC",
    );
    expect(facts).toEqual({ httpStatus: "Conflict", retryCount: 1, nextRetryAt: "2026-03-24T13:23:44.919Z" });
  });
  it("maps numeric codes in prose and returns nulls when nothing is there", () => {
    expect(mineReason("returned an error response with the HTTP status code 409.").httpStatus).toBe("Conflict");
    expect(mineReason("something else")).toEqual({ httpStatus: null, retryCount: null, nextRetryAt: null });
  });
});

describe("keys from data that name Object.prototype members", () => {
  it("keeps a details key __proto__ as data", () => {
    const raw = JSON.parse('{"id":"p1","activityDateTime":"2026-11-20T10:00:00Z","provisioningStatusInfo":{"status":"success"},"sourceIdentity":{"details":{"__proto__":"x","constructor":"y"}}}') as unknown;
    const e = event(raw);
    expect(Object.getPrototypeOf(e.sourceIdentity.details)).toBe(Object.prototype);
    expect(Object.entries(e.sourceIdentity.details)).toEqual([["__proto__", "x"], ["constructor", "y"]]);
  });
});
