import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AZURITE_CONNECTION_STRING } from "../src/config";

/**
 * Core Tools copies local.settings.json "Values" into the worker's environment; the local host does
 * the same. Variables already set in the environment win. Without the file, the embedded defaults
 * point at Azurite on loopback, so `npm start` works on a fresh clone.
 */
export const DEFAULT_AZURITE_PORT = 10002;
export const DEFAULT_AZURITE_QUEUE_PORT = 10001;

export function localDefaults(azuritePort = DEFAULT_AZURITE_PORT, queuePort = DEFAULT_AZURITE_QUEUE_PORT): Record<string, string> {
  return {
    FUNCTIONS_WORKER_RUNTIME: "node",
    AzureWebJobsStorage: AZURITE_CONNECTION_STRING(azuritePort, queuePort),
    // The alert outbox's queue: the alertsSend trigger names it as %PROVBOT_ALERT_QUEUE%.
    PROVBOT_ALERT_QUEUE: "provbot-alerts",
  };
}

export function applyLocalSettings(root: string, env: NodeJS.ProcessEnv = process.env): { file: string | null } {
  const file = join(root, "local.settings.json");
  let values: Record<string, string> = {};
  if (existsSync(file)) {
    let parsed: { Values?: Record<string, unknown> };
    try {
      parsed = JSON.parse(readFileSync(file, "utf8")) as { Values?: Record<string, unknown> };
    } catch (err) {
      throw new Error(`local.settings.json is not valid JSON: ${(err as Error).message}`);
    }
    values = Object.fromEntries(Object.entries(parsed.Values ?? {}).map(([k, v]) => [k, String(v)]));
  }
  const port = Number(env["AZURITE_TABLE_PORT"] ?? DEFAULT_AZURITE_PORT);
  const queuePort = Number(env["AZURITE_QUEUE_PORT"] ?? DEFAULT_AZURITE_QUEUE_PORT);
  for (const [k, v] of Object.entries({ ...localDefaults(port, queuePort), ...values })) {
    if (env[k] === undefined) env[k] = v;
  }
  return { file: existsSync(file) ? file : null };
}
