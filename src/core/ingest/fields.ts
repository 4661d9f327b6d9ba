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
  return JSON.stringify(v);
}

export function strOrNull(parent: unknown, ...aliases: string[]): string | null {
  const v = field(parent, ...aliases);
  if (v === null || v === undefined) return null;
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** details: an open string map; nested values are kept as JSON text. */
export function stringMap(v: Json | undefined): Record<string, string> {
  const value = decoded(v);
  if (!isObject(value)) return {};
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(value)) {
    if (val === null || val === undefined) continue;
    out[k] = typeof val === "string" ? val : JSON.stringify(val);
  }
  return out;
}
