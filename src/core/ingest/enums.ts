import {
  ACTIONS,
  ERROR_CATEGORIES,
  STATUSES,
  STEP_TYPES,
  type ErrorCategory,
  type ProvisioningAction,
  type ProvisioningStatus,
  type StepType,
} from "../event";

/**
 * Enum values arrive as camelCase, PascalCase or lower-case strings, or as integers in the Event
 * Hub stream (the Graph enum's member order). Unknown values never throw.
 */
function byLower<T extends string>(values: readonly T[]): Map<string, T> {
  return new Map(values.map((v) => [v.toLowerCase(), v]));
}

const ACTION_BY_LOWER = byLower(ACTIONS);
const STATUS_BY_LOWER = byLower(STATUSES);
const STEP_BY_LOWER = byLower(STEP_TYPES);
const CATEGORY_BY_LOWER = byLower(ERROR_CATEGORIES);

/** Graph member order, as used by the numeric encoding in diagnostic-settings records. */
const STEP_BY_NUMBER: StepType[] = ["import", "scoping", "matching", "processing", "referenceResolution", "export"];
const STATUS_BY_NUMBER: ProvisioningStatus[] = ["success", "failure", "skipped", "warning"];

function lookup<T extends string>(raw: unknown, byLowerMap: Map<string, T>, byNumber: T[] | null, fallback: T): T {
  if (typeof raw === "number") return (byNumber && byNumber[raw]) ?? fallback;
  if (typeof raw !== "string") return fallback;
  const t = raw.trim();
  if (byNumber && /^\d+$/.test(t)) return byNumber[Number(t)] ?? fallback;
  return byLowerMap.get(t.toLowerCase().replace(/[\s_-]/g, "")) ?? fallback;
}

export const toAction = (raw: unknown): ProvisioningAction => lookup(raw, ACTION_BY_LOWER, null, "unknownFutureValue");
export const toStatus = (raw: unknown): ProvisioningStatus => lookup(raw, STATUS_BY_LOWER, STATUS_BY_NUMBER, "unknownFutureValue");
export const toStepType = (raw: unknown): StepType => lookup(raw, STEP_BY_LOWER, STEP_BY_NUMBER, "unknownFutureValue");
export const toErrorCategory = (raw: unknown): ErrorCategory | null =>
  raw === null || raw === undefined || raw === "" ? null : lookup(raw, CATEGORY_BY_LOWER, null, "unknownFutureValue");
