import { appName, identityKind, identityLabel, skipReason, type ProvisioningEvent } from "../../core/event";
import { referenceProblemStep } from "../../core/references";
import { clipText } from "../../core/text";
import { CHUNK_BYTES, deflate, putChunks, readChunks } from "./chunks";
import { entityBytes } from "./entityLimits";

/**
 * ProvisioningEvent <-> Table entity. Summary fields are columns (filterable); the nested parts
 * (steps, details, modified properties, error) are one JSON payload, deflated and split over
 * binary properties of at most 64 KiB. Provisioning payloads compress about 4:1, which also makes
 * every write cheaper. A record whose payload still exceeds the entity budget (1 MiB per entity)
 * is trimmed step by step, and marked so.
 */
export const MAX_CHUNKS = 14;
/** Uncompressed payload limit before trimming: generous, since it is stored compressed. */
export const MAX_PAYLOAD_CHARS = 2_000_000;
/** 1 MiB less a margin for the service's own bookkeeping (Timestamp, ETag). */
export const ENTITY_BUDGET_BYTES = 1_000_000;
const TRIM_NOTE_BYTES = 8_200;

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
  const cut = (s: string | null, n: number) => (s && s.length > n ? clipText(s, n) : s);
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
  json = JSON.stringify(minimal);
  if (json.length <= MAX_PAYLOAD_CHARS) return { json, truncated: "steps and properties trimmed: record exceeded the 1 MiB entity limit" };
  return { json: JSON.stringify({ ...minimal, steps: [], modifiedProperties: [], error: minimal.error ? { ...minimal.error, reason: cut(minimal.error.reason, 2000) ?? "" } : null }), truncated: "steps and properties dropped: record exceeded the 1 MiB entity limit" };
}

export function toEventEntity(e: ProvisioningEvent, partitionKey: string, rowKey: string, jobKeyValue: string): EventEntity {
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
    skipReason: clipText(skipReason(e) ?? "", 1024),
    // Indexed for "which groups have members (which users a manager) that could not be resolved".
    refIssue: referenceProblemStep(e) !== null,
    source: e.source,
  };
  // The payload gets what the summary columns leave of the 1 MiB entity budget.
  const budget = Math.min(MAX_CHUNKS, Math.floor((ENTITY_BUDGET_BYTES - entityBytes(entity) - TRIM_NOTE_BYTES) / CHUNK_BYTES));
  let { json, truncated } = fitPayload(e);
  let packed = deflate(json);
  if (packed.length > CHUNK_BYTES * budget) {
    // Incompressible and huge: keep what fits, marked.
    json = JSON.stringify({ ...JSON.parse(json), steps: [], modifiedProperties: [] });
    truncated = "steps and properties dropped: record exceeded the 1 MiB entity limit even compressed";
    packed = deflate(json);
    if (packed.length > CHUNK_BYTES * budget) {
      json = JSON.stringify({ ...JSON.parse(json), sourceIdentity: { ...e.sourceIdentity, details: {} }, targetIdentity: { ...e.targetIdentity, details: {} }, sourceSystem: { ...e.sourceSystem, details: {} }, targetSystem: { ...e.targetSystem, details: {} } });
      truncated = "steps, properties and details dropped: record exceeded the 1 MiB entity limit even compressed";
      packed = deflate(json);
    }
  }
  putChunks(entity, packed);
  const trimmed = [...(e.trimmed ?? []), ...(truncated ? [truncated] : [])];
  if (trimmed.length > 0) entity["trimmed"] = clipText(JSON.stringify(trimmed.slice(0, 20)), 4000, "");
  return entity;
}

export function fromEventEntity(entity: Record<string, unknown>): ProvisioningEvent {
  const text = readChunks(entity);
  const payload = (text ? JSON.parse(text) : {}) as Payload;
  const s = (k: string) => String(entity[k] ?? "");
  const event: ProvisioningEvent = {
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
  const trimmed = readTrimmed(entity["trimmed"], entity["truncated"]);
  if (trimmed.length > 0) event.trimmed = trimmed;
  return event;
}

function readTrimmed(json: unknown, legacy: unknown): string[] {
  const out: string[] = [];
  if (typeof json === "string") {
    try {
      const list = JSON.parse(json) as unknown;
      if (Array.isArray(list)) out.push(...list.filter((x): x is string => typeof x === "string"));
    } catch {
      out.push("some values were trimmed");
    }
  }
  if (typeof legacy === "string" && legacy) out.push(legacy);
  return out;
}

/**
 * What an identity-index row carries: where the full record is, and what a list row or a state
 * question needs without reading it (the app and the identity's names come from the jobs and
 * directory tables).
 */
export function indexRow(entity: EventEntity): Record<string, unknown> {
  return {
    epk: entity.partitionKey,
    erk: entity.rowKey,
    at: entity["at"],
    jobKey: entity["jobKey"],
    action: entity["action"],
    status: entity["status"],
    errorCode: entity["errorCode"],
    targetId: entity["targetId"],
    changeId: entity["changeId"],
  };
}

/** Approximate wire size of an entity, for keeping batches under 4 MiB. */
export function approxSize(entity: Record<string, unknown>): number {
  let n = 0;
  for (const [k, v] of Object.entries(entity)) n += k.length * 2 + (typeof v === "string" ? v.length * 2 : v instanceof Uint8Array ? Math.ceil(v.length * 1.34) : 16) + 32;
  return n;
}
