import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { AddressInfo } from "node:net";
import { Cron } from "croner";
import { HttpRequest, HttpResponse, InvocationContext, type HttpResponseInit } from "@azure/functions";
import { compileRoute, type RouteMatcher } from "./routes";
import { loadFunctionApp, type RegisteredFunction } from "./registry";
import { queueSettings, startQueueTrigger, type QueueListener } from "./queues";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A small stand-in for the Azure Functions host (Core Tools cannot be installed here): serves the
 * HTTP functions on /api/<route> with their methods and authLevel, fires timers on their NCRONTAB
 * schedule, runs queue triggers against the storage account's queue service (Azurite's, locally)
 * and runs any function on demand via POST /admin/functions/<name>.
 */
export interface LocalHostOptions {
  root: string;
  port?: number;
  /** The function key; generated when absent. */
  functionKey?: string;
  log?: (line: string) => void;
  /** Timers are on by default; tests switch them off to stay deterministic. */
  timers?: boolean;
  /** Queue triggers are on by default. */
  queues?: boolean;
  /** App settings for binding expressions and connections (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Host names the host answers besides the loopback ones (a dev tunnel's, for Teams): from
   * PROVBOT_LOCAL_HOST_NAMES by default. Every other Host header is refused, so a web page cannot
   * reach the unauthenticated local data by DNS rebinding.
   */
  hostNames?: string[];
}

const LOOPBACK_NAMES = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** The name of a Host header without its port, lower case; null when it is not a plain host[:port]. */
export function hostNameOf(header: string | undefined): string | null {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/i.exec((header ?? "").trim());
  return m ? m[1]!.toLowerCase() : null;
}

export interface LocalHost {
  url: string;
  port: number;
  functionKey: string;
  functions: RegisteredFunction[];
  close(): Promise<void>;
}

interface HttpRoute {
  fn: RegisteredFunction;
  matcher: RouteMatcher;
  methods: string[];
  authLevel: string;
}

const MAX_BODY_BYTES = 100 * 1024 * 1024;

function keyMatches(expected: string, given: string | undefined | null): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

class BodyTooLarge extends Error {}

/** Like the real host (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, 100 MiB): a larger body is refused with 413. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const declared = Number(req.headers["content-length"] ?? NaN);
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.off("data", onData);
        chunks.length = 0;
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => resolvePromise(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Answers 413 and discards the rest of the upload (the client then reads the answer, not a reset). */
function refuseTooLarge(req: IncomingMessage, res: ServerResponse): void {
  const text = JSON.stringify({ error: `request body over ${MAX_BODY_BYTES / 1024 / 1024} MiB, the host's limit` });
  res.writeHead(413, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), connection: "close" });
  res.end(text);
  req.resume();
  const timer = setTimeout(() => req.destroy(), 10_000);
  timer.unref();
  req.once("end", () => clearTimeout(timer));
}

function decodePathPart(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function invocationContext(fn: RegisteredFunction, log: (line: string) => void, triggerMetadata?: Record<string, unknown>) {
  return new InvocationContext({
    invocationId: randomUUID(),
    functionName: fn.name,
    options: { trigger: { ...fn.trigger }, extraInputs: [], extraOutputs: [] },
    triggerMetadata,
    logHandler: (level, ...args) => {
      if (level === "trace" || level === "debug") return;
      log(`[${fn.name}] ${level}: ${args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : typeof a === "string" ? a : JSON.stringify(a))).join(" ")}`);
    },
  });
}

export function timerInput(isPastDue = false) {
  return { isPastDue, schedule: { adjustForDST: false } };
}

export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const log = options.log ?? ((line: string) => console.log(line));
  const functionKey = options.functionKey ?? randomBytes(24).toString("base64url");
  const functions = loadFunctionApp(options.root);

  const routes: HttpRoute[] = functions
    .filter((fn) => fn.trigger.type.toLowerCase() === "httptrigger")
    .map((fn) => ({
      fn,
      matcher: compileRoute(fn.trigger.route ?? fn.name),
      methods: (fn.trigger.methods ?? ["GET", "POST"]).map((m) => m.toUpperCase()),
      authLevel: (fn.trigger.authLevel ?? "anonymous").toLowerCase(),
    }));

  async function invokeHttp(route: HttpRoute, params: Record<string, string>, req: IncomingMessage, res: ServerResponse, url: URL) {
    const body = await readBody(req);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const request = new HttpRequest({
      method: req.method ?? "GET",
      url: url.toString(),
      headers,
      query: Object.fromEntries(url.searchParams),
      params,
      body: body.length > 0 ? { bytes: body } : undefined,
    });
    const result = (await route.fn.handler(request, invocationContext(route.fn, log))) as HttpResponseInit | HttpResponse | undefined;
    const response = result instanceof HttpResponse ? result : new HttpResponse(result ?? { status: 204 });
    const outHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => (outHeaders[name] = value));
    // A body given as a stream (a download) is written as it is produced, as the real host does
    // with HTTP streaming on; any other body is sent whole with its length.
    const streamed = !(result instanceof HttpResponse) && result?.body !== undefined && result.body !== null && typeof (result.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === "function";
    if (streamed && response.body) {
      res.writeHead(response.status, outHeaders);
      try {
        for await (const chunk of response.body) if (!res.write(chunk)) await new Promise((r) => res.once("drain", r));
        res.end();
      } catch (err) {
        log(`[${route.fn.name}] the streamed response failed midway: ${err instanceof Error ? err.message : String(err)}`);
        res.destroy(err instanceof Error ? err : undefined);
      }
      return;
    }
    const payload = Buffer.from(await response.arrayBuffer());
    outHeaders["content-length"] = String(payload.length);
    res.writeHead(response.status, outHeaders);
    res.end(payload);
  }

  async function invokeAdmin(name: string, req: IncomingMessage, res: ServerResponse) {
    const fn = functions.find((f) => f.name.toLowerCase() === name.toLowerCase());
    if (!fn) return sendJson(res, 404, { error: `no function named "${name}"` });
    if (fn.trigger.type.toLowerCase() === "httptrigger") {
      return sendJson(res, 400, { error: `"${fn.name}" is an HTTP function; call its route instead` });
    }
    const raw = (await readBody(req)).toString("utf8");
    let input: unknown = undefined;
    if (raw.trim()) {
      try {
        const parsed = JSON.parse(raw) as { input?: unknown };
        input = typeof parsed.input === "string" ? tryJson(parsed.input) : parsed.input;
      } catch {
        return sendJson(res, 400, { error: 'body must be JSON: {"input": "..."}' });
      }
    }
    const arg = fn.trigger.type.toLowerCase() === "timertrigger" ? timerInput() : input;
    // Like the real host: accept at once, run in the background, report in the log.
    res.writeHead(202).end();
    runBackground(fn, arg, "admin");
  }

  function runBackground(fn: RegisteredFunction, arg: unknown, reason: string) {
    const started = performance.now();
    Promise.resolve()
      .then(() => fn.handler(arg, invocationContext(fn, log)))
      .then(
        () => log(`[${fn.name}] ${reason} run succeeded in ${Math.round(performance.now() - started)} ms`),
        (err: unknown) => log(`[${fn.name}] ${reason} run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`),
      );
  }

  const extraNames = new Set((options.hostNames ?? (options.env ?? process.env)["PROVBOT_LOCAL_HOST_NAMES"]?.split(",") ?? []).map((n) => n.trim().toLowerCase()).filter(Boolean));
  const server: Server = createServer((req, res) => {
    const started = performance.now();
    const name = hostNameOf(req.headers.host);
    if (name === null || (!LOOPBACK_NAMES.has(name) && !extraNames.has(name))) {
      log(`${req.method} refused: Host ${JSON.stringify(String(req.headers.host ?? "").slice(0, 80))} is not a loopback name (PROVBOT_LOCAL_HOST_NAMES adds a tunnel's)`);
      return sendJson(res, 421, { error: "this local host answers only to loopback host names (127.0.0.1, localhost)" });
    }
    const url = new URL(req.url ?? "/", `http://${name}`);
    const path = url.pathname;
    const done = () => {
      if (!path.endsWith("/health")) log(`${req.method} ${path} -> ${res.statusCode} (${(performance.now() - started).toFixed(1)} ms)`);
    };
    res.on("finish", done);
    const handle = async () => {
      const givenKey = (req.headers["x-functions-key"] as string | undefined) ?? url.searchParams.get("code");
      const admin = /^\/admin\/functions\/([^/]+)\/?$/.exec(path);
      if (admin) {
        if (req.method !== "POST") return sendJson(res, 405, { error: "use POST" });
        if (!keyMatches(functionKey, givenKey)) return sendJson(res, 401, { error: "missing or wrong x-functions-key" });
        const name = decodePathPart(admin[1] ?? "");
        if (name === null) return sendJson(res, 400, { error: "the function name in the path is not valid percent-encoding" });
        return invokeAdmin(name, req, res);
      }
      if (!path.startsWith("/api/") && path !== "/api") return sendJson(res, 404, { error: "not found" });
      const sub = path.slice(4);
      let methodMismatch = false;
      for (const route of routes) {
        const params = route.matcher.match(sub);
        if (!params) continue;
        if (!route.methods.includes(req.method ?? "GET")) {
          methodMismatch = true;
          continue;
        }
        if (route.authLevel !== "anonymous" && !keyMatches(functionKey, givenKey)) {
          return sendJson(res, 401, { error: "this function needs a key: x-functions-key header or ?code=" });
        }
        return invokeHttp(route, params, req, res, url);
      }
      return sendJson(res, methodMismatch ? 405 : 404, { error: methodMismatch ? "method not allowed" : "no function serves this route" });
    };
    handle().catch((err: unknown) => {
      if (err instanceof BodyTooLarge) return refuseTooLarge(req, res);
      log(`${req.method} ${path} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (!res.headersSent) sendJson(res, 500, { error: "function failed; see the host log" });
      else res.end();
    });
  });
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 7071, "127.0.0.1", () => resolvePromise());
  });
  const port = (server.address() as AddressInfo).port;

  const crons: Cron[] = [];
  if (options.timers !== false) {
    for (const fn of functions.filter((f) => f.trigger.type.toLowerCase() === "timertrigger")) {
      const schedule = String(fn.trigger.schedule ?? "");
      crons.push(new Cron(schedule, { timezone: "UTC", protect: true }, () => runBackground(fn, timerInput(), "timer")));
      if (fn.trigger.runOnStartup) runBackground(fn, timerInput(), "startup");
    }
  }

  const listeners: QueueListener[] = [];
  const hostJson = join(options.root, "host.json");
  const settings = queueSettings(existsSync(hostJson) ? JSON.parse(readFileSync(hostJson, "utf8")) : {});
  if (options.queues !== false) {
    for (const fn of functions.filter((f) => f.trigger.type.toLowerCase() === "queuetrigger")) {
      listeners.push(
        startQueueTrigger(fn, {
          env: options.env ?? process.env,
          settings,
          log,
          invoke: async (f, input, triggerMetadata) => {
            await f.handler(input, invocationContext(f, log, triggerMetadata));
          },
        }),
      );
    }
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    functionKey,
    functions,
    close: async () => {
      for (const c of crons) c.stop();
      await Promise.all(listeners.map((l) => l.stop()));
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
