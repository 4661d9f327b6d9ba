import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import net from "node:net";

/**
 * Child-process plumbing shared by `npm start`, the test setup and the benchmarks: start the
 * embedded services (Azurite, the local host, the Agents Playground) on loopback, wait until they
 * answer, and stop every one of them (process group included) on exit.
 */
export interface Child {
  name: string;
  process: ChildProcess;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<number | string>;
  /** How this child is stopped so that it keeps its state (Azurite saves its file on SIGINT only). */
  stopSignal: NodeJS.Signals;
  /** How long it may take to stop before it is killed. */
  stopGraceMs: number;
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where to write the output; default: forward to this process's output with a name prefix. */
  logFile?: string;
  quiet?: boolean;
  /** Default SIGTERM; Azurite: SIGINT (it saves its data file only then). */
  stopSignal?: NodeJS.Signals;
  stopGraceMs?: number;
}

export function startChild(options: StartOptions): Child {
  const spawnOptions: SpawnOptions = {
    cwd: options.cwd,
    env: { ...process.env, PROVBOT_PARENT_PID: String(process.pid), ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  };
  const child = spawn(options.command, options.args, spawnOptions);
  if (options.logFile) {
    mkdirSync(dirname(options.logFile), { recursive: true });
    const out = createWriteStream(options.logFile, { flags: "a" });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
  } else if (!options.quiet) {
    const prefix = (stream: NodeJS.WriteStream) => (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split(/\r?\n/)) if (line.trim()) stream.write(`[${options.name}] ${line}\n`);
    };
    child.stdout?.on("data", prefix(process.stdout));
    child.stderr?.on("data", prefix(process.stderr));
  } else {
    child.stdout?.resume();
    child.stderr?.resume();
  }
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
    child.once("error", () => resolve("spawn-error"));
  });
  return { name: options.name, process: child, exited, stopSignal: options.stopSignal ?? "SIGTERM", stopGraceMs: options.stopGraceMs ?? 5000 };
}

/**
 * Stops the child the way it keeps its state (its stop signal, to its whole process group), then
 * SIGKILL after the grace period.
 */
export async function stopChild(child: Child, graceMs = child.stopGraceMs): Promise<void> {
  const pid = child.process.pid;
  if (pid === undefined || child.process.exitCode !== null || child.process.signalCode !== null) return;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        child.process.kill(signal);
      } catch {
        /* already gone */
      }
    }
  };
  signalGroup(child.stopSignal);
  const timer = setTimeout(() => signalGroup("SIGKILL"), graceMs);
  await child.exited;
  clearTimeout(timer);
  signalGroup("SIGKILL"); // anything the child left behind in its group
}

export function killChildSync(child: Child): void {
  const pid = child.process.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    /* gone */
  }
}

export function portIsFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Polls until `probe` resolves true; fails early if the child exits, or after the timeout. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, options: { timeoutMs: number; child?: Child }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let exited: number | string | undefined;
  options.child?.exited.then((code) => (exited = code));
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`${what}: process exited (${exited}) before it was ready`);
    try {
      if (await probe()) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not ready after ${options.timeoutMs} ms`);
}

/** Waits for a child to be ready; if it never is, stops it so that nothing is left running. */
export async function readyOrStopped(child: Child, ready: () => Promise<void>): Promise<void> {
  try {
    await ready();
  } catch (err) {
    await stopChild(child, 2000);
    throw err;
  }
}

export function tcpOpen(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.ok;
}

/** Paths of the embedded tools, resolved from this package's node_modules. */
export function toolPaths(root: string) {
  return {
    azurite: join(root, "node_modules", "azurite", "dist", "src", "table", "main.js"),
    azuriteQueue: join(root, "node_modules", "azurite", "dist", "src", "queue", "main.js"),
    playground: join(root, "node_modules", "@microsoft", "m365agentsplayground", "cli.js"),
    localHost: join(root, "dist", "scripts", "local-host", "main.js"),
    childGuard: join(root, "dist", "scripts", "child-guard.js"),
  };
}

export interface AzuriteOptions {
  root: string;
  port: number;
  /** Folder for persistent data; omitted = in memory (tests). */
  location?: string;
  logFile?: string;
  quiet?: boolean;
  /** Azurite keeps every table in memory (LokiJS): large benchmarks need a larger V8 heap. */
  maxOldSpaceMiB?: number;
}

export function startAzurite(options: AzuriteOptions): Promise<Child> {
  const heap = options.maxOldSpaceMiB ? [`--max-old-space-size=${options.maxOldSpaceMiB}`] : [];
  // BENCH_PROFILE_DIR: benchmarks profile Azurite too (where the time goes on the storage side).
  const profile = process.env["BENCH_PROFILE_DIR"] ? ["--cpu-prof", `--cpu-prof-dir=${process.env["BENCH_PROFILE_DIR"]}`, "--cpu-prof-name=azurite.cpuprofile"] : [];
  return startAzuriteService("table", options, [...heap, ...profile]);
}

/**
 * Azurite's queue service (the alert outbox), a process of its own beside the table service, so
 * either can be stopped alone (the fault tests do).
 */
export function startAzuriteQueue(options: Omit<AzuriteOptions, "maxOldSpaceMiB">): Promise<Child> {
  return startAzuriteService("queue", options, []);
}

async function startAzuriteService(service: "table" | "queue", options: AzuriteOptions, nodeArgs: string[]): Promise<Child> {
  const paths = toolPaths(options.root);
  const args = [...nodeArgs, "-r", paths.childGuard, service === "table" ? paths.azurite : paths.azuriteQueue, `--${service}Host`, "127.0.0.1", `--${service}Port`, String(options.port), "--disableTelemetry", "--skipApiVersionCheck", "--silent"];
  if (service === "queue") args.push("--loose");
  if (options.location) {
    mkdirSync(options.location, { recursive: true });
    args.push("--location", options.location);
  } else args.push("--inMemoryPersistence");
  const name = service === "table" ? "Azurite" : "Azurite queue service";
  // Azurite writes its data file on SIGINT (and every few seconds); SIGTERM would lose the last writes.
  const child = startChild({ name: service === "table" ? "azurite" : "azurite-queue", command: process.execPath, args, logFile: options.logFile, quiet: options.quiet, stopSignal: "SIGINT", stopGraceMs: 30_000 });
  await readyOrStopped(child, () => waitUntil(name, () => tcpOpen(options.port), { timeoutMs: 20_000, child }));
  return child;
}

export interface PlaygroundOptions {
  root: string;
  port: number;
  botEndpoint: string;
  conversationId: string;
  logFile: string;
}

export async function startPlayground(options: PlaygroundOptions): Promise<Child> {
  const paths = toolPaths(options.root);
  const child = startChild({
    name: "playground",
    command: process.execPath,
    args: [
      "-r",
      paths.childGuard,
      paths.playground,
      "-e",
      options.botEndpoint,
      "-c",
      "msteams",
      "--conversation-id",
      options.conversationId,
      "--disable-telemetry",
      "-p",
      String(options.port),
    ],
    env: {
      APPLICATION_INSIGHTS_NO_STATSBEAT: "true",
      TEAMSAPPTESTER_BROWSER: "none",
      M365_AGENTS_PLAYGROUND_LOGFILE: options.logFile,
      TEAMSAPPTESTER_LOGFILE: options.logFile,
    },
    cwd: dirname(options.logFile),
    logFile: options.logFile.replace(/\.log$/, ".out.log"),
  });
  // The Playground mounts its API only once the bot endpoint answers.
  await readyOrStopped(child, () => waitUntil("Agents Playground", () => httpOk(`http://127.0.0.1:${options.port}/_internal/v1/config`), { timeoutMs: 30_000, child }));
  return child;
}
