import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { TestProject } from "vitest/node" with { "resolution-mode": "import" };
import { freePort, startAzurite, stopChild, type Child } from "../../scripts/processes";
import { AZURITE_CONNECTION_STRING } from "../../src/config";

/**
 * Once per `npm test`: compile to dist/ (end-to-end tests run the built output under plain Node,
 * as Azure will) and start a real Azurite table service in memory on a free loopback port.
 */
const root = join(__dirname, "..", "..");
let azurite: Child | undefined;

declare module "vitest" {
  export interface ProvidedContext {
    azurite: { port: number; connectionString: string };
  }
}

export async function setup(project: TestProject): Promise<void> {
  execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(root, "tsconfig.json")], { stdio: "inherit" });
  const port = await freePort();
  azurite = await startAzurite({ root, port, quiet: true });
  project.provide("azurite", { port, connectionString: AZURITE_CONNECTION_STRING(port) });
}

export async function teardown(): Promise<void> {
  if (azurite) await stopChild(azurite);
}
