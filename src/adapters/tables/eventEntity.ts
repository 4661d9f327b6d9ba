import { deflateRawSync, inflateRawSync } from "node:zlib";
import { appName, identityKind, identityLabel, skipReason, type ProvisioningEvent } from "../../core/event";

/**
 * ProvisioningEvent <-> Table entity. Summary fields are columns (filterable); the nested parts
 * (steps, details, modified properties, error) are one JSON payload, deflated and split over
 * binary properties of at most 64 KiB. Provisioning payloads compress about 4:1, which also makes
 * every write cheaper. A record whose payload still exceeds the entity budget (1 MiB per entity)
 * is trimmed step by step, and marked so.
 */
export const CHUNK_BYTES = 60_000;
export const MAX_CHUNKS = 14;
/** Uncompressed payload limit before trimming: generous, since it is stored compressed. */
export const MAX_PAYLOAD_CHARS = 2_000_000;

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
  json = JSON.stringify(minimal);
  if (json.length <= MAX_PAYLOAD_CHARS) return { json, truncated: "steps and properties trimmed: record exceeded the 1 MiB entity limit" };
  return { json: JSON.stringify({ ...minimal, steps: [], modifiedProperties: [], error: minimal.error ? { ...minimal.error, reason: cut(minimal.error.reason, 2000) ?? "" } : null }), truncated: "steps and properties dropped: record exceeded the 1 MiB entity limit" };
}

export function toEventEntity(e: ProvisioningEvent, partitionKey: string, rowKey: string, jobKeyValue: string): EventEntity {
  let { json, truncated } = fitPayload(e);
  let packed = deflateRawSync(Buffer.from(json, "utf8"));
  if (packed.length > CHUNK_BYTES * MAX_CHUNKS) {
    // Incompressible and huge: keep what fits, marked.
    json = JSON.stringify({ ...JSON.parse(json), steps: [], modifiedProperties: [] });
    truncated = "steps and properties dropped: record exceeded the 1 MiB entity limit even compressed";
    packed = deflateRawSync(Buffer.from(json, "utf8"));
  }
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
    chunks: Math.ceil(packed.length / CHUNK_BYTES),
  };
  if (truncated) entity["truncated"] = truncated;
  for (let i = 0; i * CHUNK_BYTES < packed.length; i++) entity[`p${i}`] = new Uint8Array(packed.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES));
  return entity;
}

export function fromEventEntity(entity: Record<string, unknown>): ProvisioningEvent & { truncated?: string } {
  const chunks = Number(entity["chunks"] ?? 0);
  const parts: Buffer[] = [];
  for (let i = 0; i < chunks; i++) {
    const part = entity[`p${i}`];
    if (part instanceof Uint8Array) parts.push(Buffer.from(part));
    else if (typeof part === "string") parts.push(Buffer.from(part, "base64"));
  }
  const payload = (parts.length ? JSON.parse(inflateRawSync(Buffer.concat(parts)).toString("utf8")) : {}) as Payload;
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
  };
}

/** Approximate wire size of an entity, for keeping batches under 4 MiB. */
export function approxSize(entity: Record<string, unknown>): number {
  let n = 0;
  for (const [k, v] of Object.entries(entity)) n += k.length * 2 + (typeof v === "string" ? v.length * 2 : v instanceof Uint8Array ? Math.ceil(v.length * 1.34) : 16) + 32;
  return n;
}
