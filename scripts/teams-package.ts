import { readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import AdmZip from "adm-zip";
import { findPackageRoot, packageVersion } from "../src/packageInfo";

/**
 * `npm run package:teams -- <botAppId> [teamsAppId]`: the Teams app package to sideload or upload
 * to the org catalogue: appPackage/manifest.json with its placeholders filled, and the two icons.
 * With PROVBOT_TAB_DOMAIN (the Function App's host name), the tab is added from appPackage/tabs.json:
 * a personal tab, a configurable tab for channels and group chats, the domain, and Teams SSO
 * (PROVBOT_TAB_CLIENT_ID, default the bot's id; PROVBOT_TAB_APP_ID_URI, default
 * api://<domain>/<client id>). Written to dist/appPackage/provbot.zip.
 */
const root = findPackageRoot(__dirname);
const botId = process.argv[2] ?? process.env["MicrosoftAppId"];
if (!botId) {
  console.error("usage: npm run package:teams -- <bot app id (MicrosoftAppId)> [teams app id]");
  process.exit(2);
}
const tabDomain = process.env["PROVBOT_TAB_DOMAIN"]?.trim().replace(/^https?:\/\//, "").replace(/\/.*$/, "");
const tabClient = process.env["PROVBOT_TAB_CLIENT_ID"] ?? botId;
const values: Record<string, string> = {
  TAB_DOMAIN: tabDomain ?? "",
  TAB_CLIENT_ID: tabClient,
  TAB_APP_ID_URI: process.env["PROVBOT_TAB_APP_ID_URI"] ?? `api://${tabDomain}/${tabClient}`,
  BOT_ID: botId,
  TEAMS_APP_ID: process.argv[3] ?? process.env["TEAMS_APP_ID"] ?? randomUUID(),
  APP_VERSION: packageVersion(),
  DEVELOPER_NAME: process.env["DEVELOPER_NAME"] ?? "Contoso IT",
  DEVELOPER_URL: process.env["DEVELOPER_URL"] ?? "https://www.contoso.com",
};
const fill = (template: string) =>
  template.replace(/\$\{\{([A-Z_]+)\}\}/g, (_m, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`manifest placeholder ${name} has no value`);
    return v;
  });
const parsed = JSON.parse(fill(readFileSync(join(root, "appPackage", "manifest.json"), "utf8"))) as Record<string, unknown>;
if (tabDomain) Object.assign(parsed, JSON.parse(fill(readFileSync(join(root, "appPackage", "tabs.json"), "utf8"))));
else console.log("no tab in the package: set PROVBOT_TAB_DOMAIN to the Function App's host name to add it");
const manifest = JSON.stringify(parsed, null, 2);
const zip = new AdmZip();
zip.addFile("manifest.json", Buffer.from(manifest, "utf8"));
for (const icon of ["color.png", "outline.png"]) zip.addFile(icon, readFileSync(join(root, "appPackage", icon)));
const outDir = join(root, "dist", "appPackage");
mkdirSync(outDir, { recursive: true });
const out = join(outDir, "provbot.zip");
zip.writeZip(out);
console.log(`${out} (Teams app id ${values["TEAMS_APP_ID"]}, bot ${botId})`);
