import { app, type HttpRequest, type HttpResponseInit } from "@azure/functions";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/**
 * GET /api/tab (the Teams tab's page) and /api/tab/<file> (its assets, built into dist/tab by
 * `npm run build`). Only the files the build wrote are served; the page holds no data (that comes
 * from /api/dashboard with the person's token). Teams frames it; nothing else may.
 */
const DIR = join(__dirname, "..", "tab");
const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".map": "application/json", ".txt": "text/plain; charset=utf-8" };
const FRAMERS = "https://teams.microsoft.com https://*.teams.microsoft.com https://*.teams.microsoft.us https://*.skype.com https://*.office.com https://*.cloud.microsoft https://outlook.office.com";
let files: Map<string, { raw: Buffer; gzip: Buffer }> | null = null;

/** The built files, read once, with their gzip form (the bundle is about a megabyte, a quarter gzipped). */
function load(): Map<string, { raw: Buffer; gzip: Buffer }> {
  files ??= new Map(
    readdirSync(DIR)
      .filter((f) => !f.endsWith(".map"))
      .map((f) => {
        const raw = readFileSync(join(DIR, f));
        return [f, { raw, gzip: gzipSync(raw, { level: 9 }) }];
      }),
  );
  return files;
}

export async function tab(request: HttpRequest): Promise<HttpResponseInit> {
  const name = request.params["path"] || "index.html";
  let all: Map<string, { raw: Buffer; gzip: Buffer }>;
  try {
    all = load();
  } catch {
    return { status: 503, jsonBody: { error: "the tab is not built (npm run build)" } };
  }
  const file = all.get(name);
  if (!file) return { status: 404, jsonBody: { error: "not found" } };
  const ext = name.slice(name.lastIndexOf("."));
  const gzip = /\bgzip\b/.test(request.headers.get("accept-encoding") ?? "");
  return {
    status: 200,
    body: gzip ? file.gzip : file.raw,
    headers: {
      ...(gzip ? { "content-encoding": "gzip" } : {}),
      vary: "accept-encoding",
      "content-type": TYPES[ext] ?? "application/octet-stream",
      "cache-control": ext === ".html" ? "no-cache" : "public, max-age=300",
      "x-content-type-options": "nosniff",
      "content-security-policy": `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' https://res.cdn.office.net; frame-ancestors 'self' ${FRAMERS}`,
      "referrer-policy": "no-referrer",
    },
  };
}

app.http("tab", { route: "tab", methods: ["GET"], authLevel: "anonymous", handler: tab });
app.http("tabAssets", { route: "tab/{path}", methods: ["GET"], authLevel: "anonymous", handler: tab });
