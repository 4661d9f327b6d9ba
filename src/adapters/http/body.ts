import type { HttpRequest } from "@azure/functions";

/**
 * Reads a request body up to a cap without holding more than the cap: a declared Content-Length
 * over it is refused before anything is read, and a body that grows past it while streaming is
 * dropped at that point.
 */
export type CappedBody = { kind: "ok"; bytes: Uint8Array } | { kind: "tooLarge"; declared: number | null };

export async function readCappedBody(request: HttpRequest, maxBytes: number): Promise<CappedBody> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) return { kind: "tooLarge", declared };
  const body = request.body;
  if (!body) return { kind: "ok", bytes: new Uint8Array(0) };
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return { kind: "tooLarge", declared: null };
    }
    parts.push(value);
  }
  return { kind: "ok", bytes: Buffer.concat(parts) };
}

export function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
}
