import { appName, identityKind, identityLabel, skipReason, type ProvisioningEvent } from "../../core/event";

/**
 * ProvisioningEvent <-> Table entity. Summary fields are columns (filterable); the nested parts
 * are one JSON payload split over 30,000-character properties (a string property holds 64 KiB of
 * UTF-16). A record too large for one entity (1 MiB) is trimmed step by step, and marked so.
 */
export const CHUNK_CHARS = 30_000;
export const MAX_PAYLOAD_CHARS = 14 * CHUNK_CHARS;

export interface EventEntity {
  partitionKey: string;
  rowKey: string;
  [key: string]: unknown;
}

interface Payload {
  initiatedBy: ProvisioningEvent["initiatedBy"];
  sourceSystem: ProvisioningEvent["sourceSystem"];
  targetSystem: ProvisioningEvent["targetSystem"];
  sourceIdentity: ProvisioningEvent["sourceIdentity"];
  targetIdentity: ProvisioningEvent["targetIdentity"];
  error: ProvisioningEvent["error"];
  steps: ProvisioningEvent["steps"];
  modifiedProperties: ProvisioningEvent["modifiedProperties"];
}

export function fitPayload(e: ProvisioningEvent): { json: string; truncated: string | null } {
  const payload: Payload = {
    initiatedBy: e.initiatedBy,
    sourceSystem: e.sourceSystem,
    targetSystem: e.targetSystem,
    sourceIdentity: e.sourceIdentity,
    targetIdentity: e.targetIdentity,
    error: e.error,
    steps: e.steps,
    modifiedProperties: e.modifiedProperties,
  };
  let json = JSON.stringify(payload);
  if (json.length <= MAX_PAYLOAD_CHARS) return { json, truncated: null };
  const cut = (s: string | null, n: number) => (s && s.length > n ? `${s.slice(0, n)}… [truncated]` : s);
  const trimmed: Payload = {
    ...payload,
    sourceIdentity: { ...payload.sourceIdentity, details: {} },
    targetIdentity: { ...payload.targetIdentity, details: {} },
    steps: payload.steps.map((s) => ({ ...s, description: cut(s.description, 2000) ?? "", details: Object.fromEntries(Object.entries(s.details).slice(0, 40).map(([k, v]) => [k, cut(v, 500) ?? ""])) })),
    modifiedProperties: payload.modifiedProperties.slice(0, 200).map((m) => ({ ...m, oldValue: cut(m.oldValue, 500), newValue: cut(m.newValue, 500) })),
    error: payload.error ? { ...payload.error, reason: cut(payload.error.reason, 20_000) ?? "" } : null,
  };
  json = JSON.stringify(trimmed);
  if (json.length <= MAX_PAYLOAD_CHARS) return { json, truncated: "details trimmed: record exceeded the 1 MiB entity limit" };
  const minimal: Payload = { ...trimmed, steps: trimmed.steps.map((s) => ({ ...s, details: {} })), modifiedProperties: trimmed.modifiedProperties.slice(0, 20) };
  return { json: JSON.stringify(minimal).slice(0, MAX_PAYLOAD_CHARS), truncated: "steps and properties trimmed: record exceeded the 1 MiB entity limit" };
}

export function toEventEntity(e: ProvisioningEvent, partitionKey: string, rowKey: string, jobKeyValue: string): EventEntity {
  const { json, truncated } = fitPayload(e);
  const entity: EventEntity = {
    partitionKey,
    rowKey,
    id: e.id,
    changeId: e.changeId,
    cycleId: e.cycleId,
    jobId: e.jobId,
    jobKey: jobKeyValue,
    tenantId: e.tenantId,
    at: e.activityDateTime,
    atRaw: e.activityDateTimeRaw,
    action: e.action,
    status: e.status,
    durationMs: e.durationMs ?? undefined,
    app: appName(e),
    servicePrincipalId: e.servicePrincipal.id,
    spName: e.servicePrincipal.displayName,
    sourceSystem: e.sourceSystem.displayName,
    targetSystem: e.targetSystem.displayName,
    identity: identityLabel(e),
    identityName: e.sourceIdentity.displayName || e.targetIdentity.displayName,
    identityType: identityKind(e.sourceIdentity.identityType || e.targetIdentity.identityType),
    sourceId: e.sourceIdentity.id,
    targetId: e.targetIdentity.id,
    errorCode: e.error?.code ?? "",
    skipReason: skipReason(e) ?? "",
    source: e.source,
    chunks: Math.ceil(json.length / CHUNK_CHARS),
  };
  if (truncated) entity["truncated"] = truncated;
  for (let i = 0; i * CHUNK_CHARS < json.length; i++) entity[`p${i}`] = json.slice(i * CHUNK_CHARS, (i + 1) * CHUNK_CHARS);
  return entity;
}

export function fromEventEntity(entity: Record<string, unknown>): ProvisioningEvent & { truncated?: string } {
  const chunks = Number(entity["chunks"] ?? 0);
  let json = "";
  for (let i = 0; i < chunks; i++) json += String(entity[`p${i}`] ?? "");
  const payload = JSON.parse(json || "{}") as Payload;
  const s = (k: string) => String(entity[k] ?? "");
  const event: ProvisioningEvent & { truncated?: string } = {
    id: s("id"),
    changeId: s("changeId"),
    cycleId: s("cycleId"),
    jobId: s("jobId"),
    tenantId: s("tenantId"),
    activityDateTime: s("at"),
    activityDateTimeRaw: s("atRaw"),
    action: s("action") as ProvisioningEvent["action"],
    status: s("status") as ProvisioningEvent["status"],
    durationMs: typeof entity["durationMs"] === "number" ? entity["durationMs"] : null,
    servicePrincipal: { id: s("servicePrincipalId"), displayName: s("spName") },
    source: s("source") as ProvisioningEvent["source"],
    ...payload,
  };
  if (entity["truncated"]) event.truncated = s("truncated");
  return event;
}

/** The few columns a list row or an index entry needs, copied onto index entities. */
export function summaryOf(entity: EventEntity): Record<string, unknown> {
  return {
    epk: entity.partitionKey,
    erk: entity.rowKey,
    id: entity["id"],
    changeId: entity["changeId"],
    at: entity["at"],
    app: entity["app"],
    jobKey: entity["jobKey"],
    identity: entity["identity"],
    identityName: entity["identityName"],
    identityType: entity["identityType"],
    action: entity["action"],
    status: entity["status"],
    errorCode: entity["errorCode"],
  };
}

/** Approximate wire size of an entity, for keeping batches under 4 MiB. */
export function approxSize(entity: Record<string, unknown>): number {
  let n = 0;
  for (const [k, v] of Object.entries(entity)) n += k.length * 2 + (typeof v === "string" ? v.length * 2 : 16) + 32;
  return n;
}
