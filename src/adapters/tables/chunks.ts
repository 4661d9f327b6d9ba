import { deflateRawSync, inflateRawSync } from "node:zlib";

/**
 * Large text kept in one entity: deflated and split over binary properties p0..pN of at most
 * CHUNK_BYTES each (Table Storage allows 64 KiB per property, 1 MiB per entity). Used for event
 * payloads and dead-letter records alike.
 */
export const CHUNK_BYTES = 60_000;

export function deflate(text: string): Buffer {
  return deflateRawSync(Buffer.from(text, "utf8"));
}

export function inflate(packed: Uint8Array): string {
  return inflateRawSync(packed).toString("utf8");
}

/** Sets p0..pN and `chunks` on the entity. */
export function putChunks(entity: Record<string, unknown>, packed: Buffer): void {
  entity["chunks"] = Math.ceil(packed.length / CHUNK_BYTES);
  for (let i = 0; i * CHUNK_BYTES < packed.length; i++) entity[`p${i}`] = new Uint8Array(packed.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES));
}

/** The text put by putChunks, or "" when the entity has none. */
export function readChunks(entity: Record<string, unknown>): string {
  const chunks = Number(entity["chunks"] ?? 0);
  const parts: Buffer[] = [];
  for (let i = 0; i < chunks; i++) {
    const part = entity[`p${i}`];
    if (part instanceof Uint8Array) parts.push(Buffer.from(part));
    else if (typeof part === "string") parts.push(Buffer.from(part, "base64"));
  }
  return parts.length ? inflateRawSync(Buffer.concat(parts)).toString("utf8") : "";
}
