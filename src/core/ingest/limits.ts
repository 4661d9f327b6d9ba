import type { ProvisioningEvent } from "../event";
import { clipText, plural } from "../text";


/**
 * What provbot keeps of one record, field by field, decided once here and applied to every
 * source before anything is written. Ids are what questions and keys are built from: one that is
 * too long to be real is a reason to reject the record (trimming could merge two records). Names
 * and texts are kept up to a limit and clipped beyond it, with the event marked so that its card
 * says what was cut. Every string is made well-formed UTF-16 (a lone surrogate becomes U+FFFD),
 * which Table Storage keys and the SDK's URL encoding require.
 */
export const FIELD_LIMITS = {
  /** ids: id, changeId, cycleId, jobId, tenantId, object, service principal and system ids. */
  id: 1024,
  /** display names: people, groups, apps, systems, steps, properties, the initiator. */
  name: 1024,
  errorCode: 256,
  reason: 16_000,
  /** step descriptions, detail values, additional details, recommended actions. */
  text: 4_000,
  detailKey: 256,
  /** modified-property old and new values. */
  value: 8_000,
  steps: 200,
  modifiedProperties: 500,
  detailsPerMap: 200,
} as const;

/** The provisioning service did not exist before this; no real event can be older. */
export const EARLIEST_EVENT = "2015-01-01T00:00:00.000Z";
/** Clock skew allowed for events stamped ahead of the receiving host. */
export const MAX_FUTURE_MS = 24 * 3_600_000;

export type FitResult = { kind: "event"; event: ProvisioningEvent } | { kind: "rejected"; reason: string };

const fmt = (n: number) => n.toLocaleString("en-US");

class Fitter {
  readonly trimmed: string[] = [];
  rejected: string | null = null;

  id(path: string, value: string): string {
    const text = value.isWellFormed() ? value : value.toWellFormed();
    if (text.length > FIELD_LIMITS.id && !this.rejected) this.rejected = `${path} is ${fmt(text.length)} characters long; ids are at most ${fmt(FIELD_LIMITS.id)}`;
    return text;
  }

  text(path: string, value: string, max: number): string {
    const out = clipText(value, max);
    if (value.length > max) this.trimmed.push(`${path} (${fmt(value.length)} characters, ${fmt(max)} kept)`);
    return out;
  }

  nullable(path: string, value: string | null, max: number): string | null {
    return value === null ? null : this.text(path, value, max);
  }

  details(path: string, map: Record<string, string>): Record<string, string> {
    const entries = Object.entries(map);
    if (entries.length > FIELD_LIMITS.detailsPerMap) this.trimmed.push(`${path} (${fmt(entries.length)} entries, ${FIELD_LIMITS.detailsPerMap} kept)`);
    const out: [string, string][] = [];
    let keyTrims = 0;
    let valueTrims = 0;
    for (const [k, v] of entries.slice(0, FIELD_LIMITS.detailsPerMap)) {
      const key = clipText(k, FIELD_LIMITS.detailKey);
      const val = clipText(v, FIELD_LIMITS.text);
      if (k.length > FIELD_LIMITS.detailKey) keyTrims++;
      if (v.length > FIELD_LIMITS.text) valueTrims++;
      out.push([key, val]);
    }
    if (keyTrims > 0) this.trimmed.push(`${path}: ${plural(keyTrims, "key")} over ${FIELD_LIMITS.detailKey} characters`);
    if (valueTrims > 0) this.trimmed.push(`${path}: ${plural(valueTrims, "value")} over ${fmt(FIELD_LIMITS.text)} characters`);
    // fromEntries defines own properties: a key named "__proto__" is kept as data, never a prototype.
    return Object.fromEntries(out);
  }

  list<T>(path: string, items: T[], max: number): T[] {
    if (items.length <= max) return items;
    this.trimmed.push(`${path} (${fmt(items.length)} entries, ${fmt(max)} kept)`);
    return items.slice(0, max);
  }
}

/**
 * Applies the field limits and the time range to a normalised event. `nowMs` is the receiving
 * host's clock (the core reads no clock). The result is either an event that every table and card
 * can hold, marked with what was trimmed, or a reason to reject this record alone.
 */
export function fitEvent(e: ProvisioningEvent, nowMs: number): FitResult {
  const at = Date.parse(e.activityDateTime);
  if (!Number.isFinite(at)) return { kind: "rejected", reason: `activityDateTime is not a date: "${clipText(e.activityDateTimeRaw, 60, "…")}"` };
  if (at < Date.parse(EARLIEST_EVENT)) return { kind: "rejected", reason: `activityDateTime ${e.activityDateTime} is before ${EARLIEST_EVENT.slice(0, 10)}, earlier than any provisioning event can be` };
  if (at > nowMs + MAX_FUTURE_MS) return { kind: "rejected", reason: `activityDateTime ${e.activityDateTime} is more than 24 hours ahead of this host's clock (${new Date(nowMs).toISOString()})` };

  const f = new Fitter();
  const L = FIELD_LIMITS;
  const event: ProvisioningEvent = {
    ...e,
    id: f.id("id", e.id),
    changeId: f.id("changeId", e.changeId),
    cycleId: f.id("cycleId", e.cycleId),
    jobId: f.id("jobId", e.jobId),
    tenantId: f.id("tenantId", e.tenantId),
    activityDateTimeRaw: clipText(e.activityDateTimeRaw, 100, "…"),
    initiatedBy: {
      id: f.id("initiatedBy.id", e.initiatedBy.id),
      displayName: f.text("initiatedBy.displayName", e.initiatedBy.displayName, L.name),
      initiatorType: f.text("initiatedBy.initiatorType", e.initiatedBy.initiatorType, L.name),
    },
    servicePrincipal: { id: f.id("servicePrincipal.id", e.servicePrincipal.id), displayName: f.text("servicePrincipal.displayName", e.servicePrincipal.displayName, L.name) },
    sourceSystem: system(f, "sourceSystem", e.sourceSystem),
    targetSystem: system(f, "targetSystem", e.targetSystem),
    sourceIdentity: identity(f, "sourceIdentity", e.sourceIdentity),
    targetIdentity: identity(f, "targetIdentity", e.targetIdentity),
    error: e.error && {
      ...e.error,
      code: f.text("error.code", e.error.code, L.errorCode),
      reason: f.text("error.reason", e.error.reason, L.reason),
      additionalDetails: f.nullable("error.additionalDetails", e.error.additionalDetails, L.text),
      recommendedAction: f.nullable("error.recommendedAction", e.error.recommendedAction, L.text),
      httpStatus: e.error.httpStatus === null ? null : clipText(e.error.httpStatus, 64, "…"),
      nextRetryAt: e.error.nextRetryAt === null ? null : clipText(e.error.nextRetryAt, 64, "…"),
    },
    steps: f.list("provisioningSteps", e.steps, L.steps).map((s, i) => ({
      ...s,
      name: f.text(`provisioningSteps[${i}].name`, s.name, L.name),
      description: f.text(`provisioningSteps[${i}].description`, s.description, L.text),
      details: f.details(`provisioningSteps[${i}].details`, s.details),
    })),
    modifiedProperties: f.list("modifiedProperties", e.modifiedProperties, L.modifiedProperties).map((m, i) => ({
      displayName: f.text(`modifiedProperties[${i}].displayName`, m.displayName, L.name),
      oldValue: f.nullable(`modifiedProperties[${i}].oldValue`, m.oldValue, L.value),
      newValue: f.nullable(`modifiedProperties[${i}].newValue`, m.newValue, L.value),
    })),
  };
  if (f.rejected) return { kind: "rejected", reason: f.rejected };
  if (!event.id) return { kind: "rejected", reason: "no id or changeId: cannot identify the event" };
  if (f.trimmed.length > 0) event.trimmed = [...(e.trimmed ?? []), ...f.trimmed];
  return { kind: "event", event };
}

function system(f: Fitter, path: string, s: ProvisioningEvent["sourceSystem"]): ProvisioningEvent["sourceSystem"] {
  return { id: f.id(`${path}.id`, s.id), displayName: f.text(`${path}.displayName`, s.displayName, FIELD_LIMITS.name), details: f.details(`${path}.details`, s.details) };
}

function identity(f: Fitter, path: string, i: ProvisioningEvent["sourceIdentity"]): ProvisioningEvent["sourceIdentity"] {
  return {
    id: f.id(`${path}.id`, i.id),
    displayName: f.text(`${path}.displayName`, i.displayName, FIELD_LIMITS.name),
    identityType: f.text(`${path}.identityType`, i.identityType, FIELD_LIMITS.name),
    details: f.details(`${path}.details`, i.details),
  };
}
