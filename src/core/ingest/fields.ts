/**
 * Case-insensitive field access with aliases: Graph says `displayName`, Event Hub `Name`,
 * Log Analytics `Name` inside JSON text. Values that are JSON text are decoded on demand.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const keyCache = new WeakMap<object, Map<string, string>>();

function lowerKeys(obj: JsonObject): Map<string, string> {
  let map = keyCache.get(obj);
  if (!map) {
    map = new Map();
    for (const k of Object.keys(obj)) if (!map.has(k.toLowerCase())) map.set(k.toLowerCase(), k);
    keyCache.set(obj, map);
  }
  return map;
}

/** The first alias present (case-insensitive), or undefined. */
export function field(obj: unknown, ...aliases: string[]): Json | undefined {
  if (!isObject(obj)) return undefined;
  const keys = lowerKeys(obj);
  for (const alias of aliases) {
    const key = keys.get(alias.toLowerCase());
    if (key !== undefined && obj[key] !== undefined) return obj[key];
  }
  return undefined;
}

/** Decodes JSON text ("{...}" or "[...]"), possibly nested more than once. */
export function decoded(v: Json | undefined): Json | undefined {
  let value = v;
  for (let i = 0; i < 3 && typeof value === "string"; i++) {
    const t = value.trim();
    if (!(t.startsWith("{") || t.startsWith("["))) break;
    try {
      value = JSON.parse(t) as Json;
    } catch {
      break;
    }
  }
  return value;
}

export function obj(parent: unknown, ...aliases: string[]): JsonObject | undefined {
  const v = decoded(field(parent, ...aliases));
  if (Array.isArray(v)) return v.find(isObject); // servicePrincipal documented as a collection
  return isObject(v) ? v : undefined;
}

export function arr(parent: unknown, ...aliases: string[]): Json[] {
  const v = decoded(field(parent, ...aliases));
  return Array.isArray(v) ? v : [];
}

export function str(parent: unknown, ...aliases: string[]): string {
  const v = field(parent, ...aliases);
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return boundedJson(v);
}

export function strOrNull(parent: unknown, ...aliases: string[]): string | null {
  const v = field(parent, ...aliases);
  if (v === null || v === undefined) return null;
  return typeof v === "string" ? v : boundedJson(v);
}

/** Nesting kept when a nested value is turned into text; deeper levels become "…". */
export const MAX_JSON_DEPTH = 32;

/**
 * JSON text of any value, however deep or large: at most `maxDepth` levels (deeper ones are
 * replaced by "…") and about `maxChars` characters (the rest is dropped, and the text ends in
 * "…"). JSON.stringify recurses and overflows the stack on deeply nested input; this never does,
 * and its cost is bounded by `maxChars`, not by the size of the value.
 */
export function boundedJson(value: unknown, maxChars = 100_000, maxDepth = MAX_JSON_DEPTH): string {
  const out: string[] = [];
  let size = 0;
  const push = (s: string) => {
    out.push(s);
    size += s.length;
  };
  const walk = (v: unknown, depth: number): void => {
    if (size > maxChars) return;
    if (v === null || v === undefined || typeof v === "function" || typeof v === "symbol") return push("null");
    if (typeof v === "string") return push(JSON.stringify(v.length > maxChars ? v.slice(0, maxChars) : v));
    if (typeof v === "number") return push(Number.isFinite(v) ? String(v) : "null");
    if (typeof v === "boolean") return push(String(v));
    if (typeof v === "bigint") return push(String(v));
    if (depth >= maxDepth) return push('"…"');
    if (Array.isArray(v)) {
      push("[");
      for (let i = 0; i < v.length && size <= maxChars; i++) {
        if (i > 0) push(",");
        walk(v[i], depth + 1);
      }
      return push("]");
    }
    push("{");
    let first = true;
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (size > maxChars) break;
      if (val === undefined) continue;
      if (!first) push(",");
      first = false;
      push(`${JSON.stringify(k)}:`);
      walk(val, depth + 1);
    }
    push("}");
  };
  walk(value, 0);
  const text = out.join("");
  return size > maxChars ? `${text.slice(0, maxChars)}…` : text;
}

/** details: an open string map; nested values are kept as JSON text. */
export function stringMap(v: Json | undefined): Record<string, string> {
  const value = decoded(v);
  if (!isObject(value)) return {};
  const out: [string, string][] = [];
  for (const [k, val] of Object.entries(value)) {
    if (val === null || val === undefined) continue;
    out.push([k, typeof val === "string" ? val : boundedJson(val)]);
  }
  return Object.fromEntries(out); // own properties only: "__proto__" stays a key
}
