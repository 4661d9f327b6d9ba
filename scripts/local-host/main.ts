import { ConfigError, loadConfig } from "../../src/config";
import { findPackageRoot } from "../../src/packageInfo";
import { applyLocalSettings } from "../local-settings";
import { startLocalHost } from "./server";

/** `node dist/scripts/local-host/main.js`: the local Functions host as a process of its own. */
async function main(): Promise<void> {
  const startedAt = performance.now();
  const root = findPackageRoot(__dirname);
  const { file } = applyLocalSettings(root);
  process.env["PROVBOT_LOCAL_HOST"] = "true";
  try {
    const config = loadConfig(process.env);
    if (config.access.mode === "tenant") {
      console.warn("[provbot] warning: PROVBOT_ACCESS=tenant: anyone in the allowed tenants may ask, with no role check (allowed on the local host only; deployed, provbot checks Entra roles through Microsoft Graph).");
    }
    if (config.allowedTenants === null) {
      console.warn("[provbot] warning: bot authentication is off and PROVBOT_ALLOWED_TENANTS is not set: any tenant may talk to this bot and every tenant's records are stored (the local demo). Set PROVBOT_ALLOWED_TENANTS to apply the tenant rule.");
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const generatedKey = !process.env["FUNCTION_KEY"];
  const host = await startLocalHost({
    root,
    port: process.env["PORT"] ? Number(process.env["PORT"]) : 7071,
    functionKey: process.env["FUNCTION_KEY"] || undefined,
    timers: process.env["PROVBOT_TIMERS"] !== "off",
  });
  console.log(`provbot local Functions host ready in ${Math.round(performance.now() - startedAt)} ms (settings: ${file ?? "embedded defaults"})`);
  for (const fn of host.functions) {
    const t = fn.trigger;
    const what =
      t.type.toLowerCase() === "httptrigger"
        ? `${(t.methods ?? ["GET", "POST"]).join(",")} ${host.url}/api/${t.route ?? fn.name} [${t.authLevel ?? "anonymous"}]`
        : `${t.type}${t.schedule ? ` ${String(t.schedule)}` : ""} (run now: POST ${host.url}/admin/functions/${fn.name})`;
    console.log(`  ${fn.name}: ${what}`);
  }
  if (generatedKey) console.log(`  function key (x-functions-key): ${host.functionKey}`);
  const stop = () => {
    host.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
