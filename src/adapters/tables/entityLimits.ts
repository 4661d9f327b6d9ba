/**
 * Table Storage's limits on one entity, checked before anything is sent, so that a record the
 * service would refuse is rejected alone instead of failing the transaction it shares with others:
 * 1 MiB per entity, 255 properties (3 are the service's own), 32,767 UTF-16 code units per string
 * property, 64 KiB per binary property, keys of at most 1 KiB without / \ # ? or control
 * characters, and every string well-formed UTF-16 (a lone surrogate fails the request's encoding).
 */
export const MAX_ENTITY_BYTES = 1024 * 1024;
export const MAX_PROPERTIES = 252;
export const MAX_STRING_CHARS = 32_767;
export const MAX_BINARY_BYTES = 64 * 1024;
export const MAX_KEY_CHARS = 1024;

// eslint-disable-next-line no-control-regex
const FORBIDDEN_KEY_CHARS = /[/\\#?\u0000-\u001f\u007f-\u009f]/;

/** Table Storage's own accounting of an entity's size: keys, property names and values. */
export function entityBytes(entity: Record<string, unknown>): number {
  let n = 4;
  for (const [k, v] of Object.entries(entity)) {
    if (k === "partitionKey" || k === "rowKey") n += String(v).length * 2;
    else if (typeof v === "string") n += 8 + k.length * 2 + 4 + v.length * 2;
    else if (v instanceof Uint8Array) n += 8 + k.length * 2 + 4 + v.length;
    else if (v !== undefined && v !== null) n += 8 + k.length * 2 + 8;
  }
  return n;
}

function keyProblem(name: string, value: unknown): string | null {
  if (typeof value !== "string") return `${name} is not text`;
  if (value.length > MAX_KEY_CHARS) return `${name} is ${value.length} characters (at most ${MAX_KEY_CHARS})`;
  if (!value.isWellFormed()) return `${name} is not well-formed UTF-16`;
  if (FORBIDDEN_KEY_CHARS.test(value)) return `${name} holds a character keys may not contain`;
  return null;
}

/** Why the service would refuse this entity, or null when it fits. */
export function entityProblem(entity: Record<string, unknown>): string | null {
  const pk = keyProblem("PartitionKey", entity["partitionKey"]) ?? keyProblem("RowKey", entity["rowKey"]);
  if (pk) return pk;
  let properties = 0;
  for (const [k, v] of Object.entries(entity)) {
    if (k === "partitionKey" || k === "rowKey" || v === undefined) continue;
    properties++;
    if (typeof v === "string") {
      if (v.length > MAX_STRING_CHARS) return `property ${k} is ${v.length} characters (at most ${MAX_STRING_CHARS})`;
      if (!v.isWellFormed()) return `property ${k} is not well-formed UTF-16`;
    } else if (v instanceof Uint8Array && v.length > MAX_BINARY_BYTES) return `property ${k} is ${v.length} bytes (at most ${MAX_BINARY_BYTES})`;
  }
  if (properties > MAX_PROPERTIES) return `${properties} properties (at most ${MAX_PROPERTIES})`;
  const bytes = entityBytes(entity);
  if (bytes > MAX_ENTITY_BYTES) return `${bytes} bytes (at most ${MAX_ENTITY_BYTES})`;
  return null;
}
