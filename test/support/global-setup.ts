import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { rmSync } from "node:fs";
import type { TestProject } from "vitest/node" with { "resolution-mode": "import" };
import { freePort, startAzurite, startAzuriteQueue, stopChild, type Child } from "../../scripts/processes";
import { AZURITE_CONNECTION_STRING } from "../../src/config";

/**
 * Once per `npm test`: compile to dist/ (end-to-end tests run the built output under plain Node,
 * as Azure will) and start a real Azurite (table and queue services) in memory on free loopback ports.
 */
const root = join(__dirname, "..", "..");
let azurite: Child | undefined;
let azuriteQueue: Child | undefined;

declare module "vitest" {
  export interface ProvidedContext {
    azurite: { port: number; queuePort: number; connectionString: string };
  }
}

export async function setup(project: TestProject): Promise<void> {
  // A clean build: a module left behind by a rename would still load from dist/.
  rmSync(join(root, "dist"), { recursive: true, force: true });
  execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(root, "tsconfig.json")], { stdio: "inherit" });
  // The Teams tab's page, as `npm run build` builds it (esbuild).
  execFileSync(process.execPath, [join(root, "dist", "scripts", "build-tab.js")], { stdio: "inherit" });
  const port = await freePort();
  const queuePort = await freePort();
  [azurite, azuriteQueue] = await Promise.all([startAzurite({ root, port, quiet: true }), startAzuriteQueue({ root, port: queuePort, quiet: true })]);
  project.provide("azurite", { port, queuePort, connectionString: AZURITE_CONNECTION_STRING(port, queuePort) });
}

export async function teardown(): Promise<void> {
  await Promise.all([azurite, azuriteQueue].map((c) => (c ? stopChild(c) : undefined)));
}
