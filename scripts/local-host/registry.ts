import Module, { createRequire } from "node:module";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/**
 * Collects function registrations exactly as the Azure Functions Node worker does: by providing
 * the "@azure/functions-core" module that "@azure/functions" calls into (setProgrammingModel,
 * registerFunction). The function files are found through package.json "main", the same glob the
 * real host loads, so there is no second list of functions to keep in sync.
 */
export interface BindingMetadata {
  type: string;
  direction: "in" | "out";
  name: string;
  route?: string;
  methods?: string[];
  authLevel?: "anonymous" | "function" | "admin";
  schedule?: string;
  runOnStartup?: boolean;
  cardinality?: "one" | "many";
  [key: string]: unknown;
}

export interface RegisteredFunction {
  name: string;
  trigger: BindingMetadata;
  bindings: Record<string, BindingMetadata>;
  handler: (...args: unknown[]) => unknown;
}

const registered: RegisteredFunction[] = [];

const coreApi = {
  version: "local-host",
  hostVersion: "4.0.0-local",
  setProgrammingModel(_model: unknown) {},
  getProgrammingModel() {
    return undefined;
  },
  registerFunction(metadata: { name: string; bindings: Record<string, BindingMetadata> }, handler: RegisteredFunction["handler"]) {
    const bindings = Object.fromEntries(Object.entries(metadata.bindings).map(([name, b]) => [name, { ...b, name }]));
    const trigger = Object.values(bindings).find((b) => /trigger$/i.test(b.type));
    if (!trigger) throw new Error(`function "${metadata.name}" has no trigger binding`);
    if (registered.some((f) => f.name.toLowerCase() === metadata.name.toLowerCase())) {
      throw new Error(`function "${metadata.name}" is registered twice`);
    }
    registered.push({ name: metadata.name, trigger, bindings, handler });
    return { dispose() {} };
  },
  registerHook() {
    return { dispose() {} };
  },
  log(level: string, _category: string, message: string) {
    if (level === "error" || level === "critical") console.error(message);
    else if (level === "warning") console.warn(message);
  },
  Disposable: class {
    constructor(private readonly callOnDispose: () => void) {}
    dispose() {
      this.callOnDispose();
    }
  },
};

let installed = false;
export function installCoreApi(): void {
  if (installed) return;
  installed = true;
  const shimPath = join(__dirname, "__azure_functions_core__.js");
  const mod = new Module(shimPath);
  mod.filename = shimPath;
  mod.loaded = true;
  mod.exports = coreApi;
  const cache = (Module as unknown as { _cache: Record<string, Module> })._cache;
  cache[shimPath] = mod;
  const m = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const original = m._resolveFilename;
  m._resolveFilename = function (request: string, ...rest: unknown[]) {
    if (request === "@azure/functions-core") return shimPath;
    return original.call(this, request, ...rest);
  };
}

/** Expands the simple globs the worker accepts in "main" ("dist/functions/*.js", or one file). */
export function expandMain(root: string, main: string): string[] {
  const patterns = main.split(",").map((p) => p.trim()).filter(Boolean);
  const files: string[] = [];
  for (const pattern of patterns) {
    const abs = resolve(root, pattern);
    const base = abs.split("/").pop() ?? "";
    if (!base.includes("*")) {
      files.push(abs);
      continue;
    }
    const dir = dirname(abs);
    const re = new RegExp(`^${base.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`);
    for (const entry of readdirSync(dir).sort()) if (re.test(entry)) files.push(join(dir, entry));
  }
  return files;
}

export function loadFunctionApp(root: string): RegisteredFunction[] {
  installCoreApi();
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { main?: string };
  if (!pkg.main) throw new Error(`${join(root, "package.json")} has no "main": the Functions host would find no functions`);
  const load = createRequire(join(root, "package.json"));
  for (const file of expandMain(root, pkg.main)) load(file);
  return [...registered];
}
