import type { EventSource, Identity, ModifiedProperty, ProvisioningError, ProvisioningEvent, ProvisioningStep, ProvisioningSystem } from "../event";
import { toAction, toErrorCategory, toStatus, toStepType } from "./enums";
import { arr, decoded, field, isObject, obj, str, strOrNull, stringMap, type Json, type JsonObject } from "./fields";
import { mineReason } from "./reason";
import { parseUtc } from "./time";

/**
 * One normaliser for every record shape: Graph v1.0 and legacy beta (`action`/`statusInfo`), the
 * admin-center JSON download (Graph-shaped), diagnostic-settings records as Event Hub delivers
 * them (`properties`, PascalCase `Id`/`Name`, numeric step enums) and Log Analytics rows
 * (`AADProvisioningLogs` columns holding JSON text). Keys and enums are matched case-insensitively.
 */
export type NormaliseResult =
  | { kind: "event"; event: ProvisioningEvent }
  | { kind: "rejected"; reason: string }
  | { kind: "ignored"; reason: string };

export type RecordShape = "graph" | "eventHub" | "logAnalytics";

export function detectShape(record: JsonObject): RecordShape {
  if (isObject(decoded(field(record, "properties"))) && (field(record, "category") !== undefined || field(record, "operationName") !== undefined || field(record, "time") !== undefined))
    return "eventHub";
  if (field(record, "TimeGenerated") !== undefined || field(record, "AADTenantId") !== undefined || typeof field(record, "ProvisioningSteps") === "string")
    return "logAnalytics";
  return "graph";
}

function identity(v: JsonObject | undefined): Identity {
  return {
    id: str(v, "id", "Id"),
    displayName: str(v, "displayName", "Name", "DisplayName"),
    identityType: str(v, "identityType", "type"),
    details: stringMap(field(v, "details")),
  };
}

function system(v: JsonObject | undefined): ProvisioningSystem {
  return { id: str(v, "id", "Id"), displayName: str(v, "displayName", "Name"), details: stringMap(field(v, "details")) };
}

export function steps(values: Json[]): ProvisioningStep[] {
  return values.filter(isObject).map((s) => ({
    name: str(s, "name"),
    type: toStepType(field(s, "provisioningStepType", "stepType", "type")),
    status: toStatus(field(s, "status")),
    description: str(s, "description"),
    details: stringMap(field(s, "details")),
  }));
}

export function modified(values: Json[]): ModifiedProperty[] {
  return values.filter(isObject).map((p) => ({
    displayName: str(p, "displayName", "name"),
    oldValue: strOrNull(p, "oldValue"),
    newValue: strOrNull(p, "newValue"),
  }));
}

function error(status: JsonObject | undefined, fallback: { code: string; reason: string }): ProvisioningError | null {
  // v1.0: provisioningStatusInfo.errorInformation; beta legacy: statusInfo carries the fields flat.
  const info = obj(status, "errorInformation") ?? (field(status, "errorCode") !== undefined ? status : undefined);
  const code = str(info, "errorCode") || fallback.code;
  const reason = str(info, "reason") || fallback.reason;
  if (!code && !reason) return null;
  return {
    code,
    reason,
    category: toErrorCategory(field(info, "errorCategory")),
    additionalDetails: strOrNull(info, "additionalDetails"),
    recommendedAction: strOrNull(info, "recommendedAction"),
    ...mineReason(reason),
  };
}

function tenantFromResourceId(resourceId: string): string {
  return /\/tenants\/([^/]+)/i.exec(resourceId)?.[1] ?? "";
}

export function normaliseRecord(raw: unknown, source?: EventSource): NormaliseResult {
  if (!isObject(raw)) return { kind: "rejected", reason: "record is not a JSON object" };
  if (typeof field(raw, "key") === "string" && typeof field(raw, "value") === "string" && field(raw, "activityDateTime") === undefined)
    return { kind: "rejected", reason: "this is a provisionOnDemand response (key/value), not a provisioning log record" };
  const shape = detectShape(raw);
  let p: JsonObject = raw;
  let envelope: JsonObject = {};
  if (shape === "eventHub") {
    const category = str(raw, "category");
    if (category && category.toLowerCase() !== "provisioninglogs") return { kind: "ignored", reason: `category "${category}" is not ProvisioningLogs` };
    p = decoded(field(raw, "properties")) as JsonObject;
    envelope = raw;
  }

  const id = str(p, "id") || str(envelope, "identity") || str(p, "changeId") || str(envelope, "correlationId");
  if (!id) return { kind: "rejected", reason: "no id or changeId: cannot identify the event" };
  const timeRaw = str(p, "activityDateTime", "TimeGenerated") || str(envelope, "time");
  if (!timeRaw) return { kind: "rejected", reason: "activityDateTime is missing" };
  const time = parseUtc(timeRaw);
  if (!time) return { kind: "rejected", reason: `activityDateTime is not a date: "${timeRaw.slice(0, 60)}"` };

  // Status: v1.0 provisioningStatusInfo.status, EH Status (capital S), beta statusInfo, LA ResultType.
  const statusInfo = obj(p, "provisioningStatusInfo") ?? obj(p, "statusInfo");
  let statusRaw: Json | undefined = field(statusInfo, "status");
  if (statusRaw === undefined || statusRaw === null || statusRaw === "") statusRaw = field(p, "ResultType") ?? field(envelope, "resultType");
  const status = toStatus(statusRaw);
  if (statusRaw === undefined || statusRaw === null || statusRaw === "") return { kind: "rejected", reason: "status is missing (provisioningStatusInfo.status)" };

  const actionRaw = field(p, "provisioningAction") ?? field(p, "action");
  const durationRaw = field(p, "durationInMilliseconds", "DurationMs") ?? field(envelope, "durationMs");
  const duration = durationRaw === undefined || durationRaw === null || durationRaw === "" ? null : Number(durationRaw);
  const initiator = obj(p, "initiatedBy");
  const sp = obj(p, "servicePrincipal");
  const tenantId =
    shape === "logAnalytics"
      ? str(p, "AADTenantId")
      : str(p, "tenantId") || str(envelope, "tenantId") || tenantFromResourceId(str(envelope, "resourceId"));

  return {
    kind: "event",
    event: {
      id,
      changeId: str(p, "changeId") || str(envelope, "correlationId") || id,
      cycleId: str(p, "cycleId"),
      jobId: str(p, "jobId"),
      tenantId,
      activityDateTime: time,
      activityDateTimeRaw: timeRaw,
      action: toAction(actionRaw),
      status,
      durationMs: duration !== null && Number.isFinite(duration) ? duration : null,
      initiatedBy: { id: str(initiator, "id", "Id"), displayName: str(initiator, "displayName", "Name"), initiatorType: str(initiator, "initiatorType", "Type", "initiatingType") },
      servicePrincipal: { id: str(sp, "id", "Id"), displayName: str(sp, "displayName", "Name") },
      sourceSystem: system(obj(p, "sourceSystem")),
      targetSystem: system(obj(p, "targetSystem")),
      sourceIdentity: identity(obj(p, "sourceIdentity")),
      targetIdentity: identity(obj(p, "targetIdentity")),
      error: status === "failure" || field(statusInfo, "errorInformation") || field(statusInfo, "errorCode")
        ? error(statusInfo, { code: str(p, "ResultSignature").replace(/^None$/i, ""), reason: str(p, "ResultDescription") })
        : null,
      steps: steps(arr(p, "provisioningSteps")),
      modifiedProperties: modified(arr(p, "modifiedProperties")),
      source: source ?? (shape === "eventHub" ? "eventHub" : shape === "logAnalytics" ? "logAnalytics" : "graph"),
    },
  };
}
