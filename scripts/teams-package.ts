import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import AdmZip from "adm-zip";
import Ajv from "ajv-draft-04";
import addFormats from "ajv-formats";
import { findPackageRoot, packageVersion } from "../src/packageInfo";

/**
 * `npm run package [-- --env <azd environment> | --env-file <file>]`: the Teams app package to upload
 * (sideload or the org catalogue), from the deployment's outputs. They are read from the azd
 * environment (.azure/<env>/.env, which `azd up` writes; the default environment when --env is not
 * given) or the file named, and from the process environment, which wins:
 *   BOT_APP_ID (or MicrosoftAppId)        the bot's app id (the managed identity's client id)
 *   FUNCTION_APP_HOST (or PROVBOT_TAB_DOMAIN)  the Function App's host name: adds the tab
 *   TAB_CLIENT_ID (or PROVBOT_TAB_CLIENT_ID)   the tab's SSO app registration (default: the bot's id)
 *   TAB_APP_ID_URI (or PROVBOT_TAB_APP_ID_URI) default api://<host>/botid-<bot id>
 *   TEAMS_APP_ID   default: derived from the bot id (a name-based UUID), so every build of the same
 *                  deployment is the same Teams app and an upload updates it
 * The legacy form `npm run package -- <bot id> [teams app id]` still works. The manifest is checked
 * against the Teams schema kept in appPackage/schema before the zip is written to
 * dist/appPackage/provbot.zip.
 */
const root = findPackageRoot(__dirname);

/** RFC 4122 name-based UUID, version 5 (SHA-1). */
export function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ""), "hex");
  const hash = createHash("sha1").update(Buffer.concat([ns, Buffer.from(name, "utf8")])).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
/** provbot's own namespace for Teams app ids (a fixed random UUID). */
export const TEAMS_APP_NAMESPACE = "6f1d1c3e-2f67-4d5a-9a43-8f1c3b8e2d71";

/** KEY=value lines of an azd .env file (values may be double-quoted). */
export function readDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    let v = m[2]!;
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\"/g, '"');
    out[m[1]!] = v;
  }
  return out;
}

function azdEnvironment(args: string[]): Record<string, string> {
  const f = args.indexOf("--env-file");
  if (f >= 0) return readDotEnv(readFileSync(args[f + 1] ?? "", "utf8"));
  const i = args.indexOf("--env");
  let name = i >= 0 ? args[i + 1] : process.env["AZURE_ENV_NAME"];
  const config = join(root, ".azure", "config.json");
  if (!name && existsSync(config)) name = (JSON.parse(readFileSync(config, "utf8")) as { defaultEnvironment?: string }).defaultEnvironment;
  const file = name ? join(root, ".azure", name, ".env") : "";
  return file && existsSync(file) ? readDotEnv(readFileSync(file, "utf8")) : {};
}

function main(): void {
  const args = process.argv.slice(2);
  const positional = args.filter((a, i) => !a.startsWith("--") && args[i - 1] !== "--env" && args[i - 1] !== "--env-file");
  const env: Record<string, string | undefined> = { ...azdEnvironment(args), ...process.env };
  const pick = (...names: string[]) => names.map((n) => env[n]?.trim()).find((v) => v) ?? undefined;
  const botId = positional[0] ?? pick("BOT_APP_ID", "MicrosoftAppId");
  if (!botId) {
    console.error("no bot id: run `azd up` first (its outputs are read from .azure/<env>/.env), or set BOT_APP_ID, or `npm run package -- <bot app id>`");
    process.exit(2);
  }
  const tabDomain = pick("FUNCTION_APP_HOST", "PROVBOT_TAB_DOMAIN")?.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  const tabClient = pick("TAB_CLIENT_ID", "PROVBOT_TAB_CLIENT_ID") ?? botId;
  const values: Record<string, string> = {
    TAB_DOMAIN: tabDomain ?? "",
    TAB_CLIENT_ID: tabClient,
    TAB_APP_ID_URI: pick("TAB_APP_ID_URI", "PROVBOT_TAB_APP_ID_URI") ?? `api://${tabDomain}/botid-${botId}`,
    BOT_ID: botId,
    TEAMS_APP_ID: positional[1] ?? pick("TEAMS_APP_ID") ?? uuidV5(botId.toLowerCase(), TEAMS_APP_NAMESPACE),
    APP_VERSION: packageVersion(),
    DEVELOPER_NAME: pick("DEVELOPER_NAME") ?? "Contoso IT",
    DEVELOPER_URL: pick("DEVELOPER_URL") ?? "https://www.contoso.com",
  };
  const fill = (template: string) =>
    template.replace(/\$\{\{([A-Z_]+)\}\}/g, (_m, name: string) => {
      const v = values[name];
      if (v === undefined) throw new Error(`manifest placeholder ${name} has no value`);
      return v;
    });
  const parsed = JSON.parse(fill(readFileSync(join(root, "appPackage", "manifest.json"), "utf8"))) as Record<string, unknown>;
  if (tabDomain) Object.assign(parsed, JSON.parse(fill(readFileSync(join(root, "appPackage", "tabs.json"), "utf8"))));
  else console.log("no tab in the package: FUNCTION_APP_HOST (the Function App's host name) is not set");
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(join(root, "appPackage", "schema", "MicrosoftTeams.v1.19.schema.json"), "utf8")) as object);
  if (!validate(parsed)) {
    console.error(`the manifest does not pass the Teams schema (v1.19):\n${(validate.errors ?? []).map((e) => `  ${e.instancePath || "/"} ${e.message ?? ""}`).join("\n")}`);
    process.exit(1);
  }
  const zip = new AdmZip();
  zip.addFile("manifest.json", Buffer.from(JSON.stringify(parsed, null, 2), "utf8"));
  for (const icon of ["color.png", "outline.png"]) zip.addFile(icon, readFileSync(join(root, "appPackage", icon)));
  const outDir = join(root, "dist", "appPackage");
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, "provbot.zip");
  zip.writeZip(out);
  console.log(`${out} (Teams app id ${values["TEAMS_APP_ID"]}, bot ${botId}${tabDomain ? `, tab on ${tabDomain}` : ""})`);
}

if (require.main === module) main();
