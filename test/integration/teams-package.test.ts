import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { join } from "node:path";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { uuidV5 } from "../../scripts/teams-package";
import AdmZip from "adm-zip";
import Ajv from "ajv-draft-04";
import addFormats from "ajv-formats";
import { ROOT } from "../support/stack";

const run = promisify(execFile);

describe("Teams app package", () => {
  it("fills the manifest placeholders and ships both icons at the sizes Teams requires", async () => {
    await run(process.execPath, [join(ROOT, "dist", "scripts", "teams-package.js"), "0000000b-0000-4000-8000-000000000123", "0000000a-0000-4000-8000-000000000456"]);
    const zip = new AdmZip(join(ROOT, "dist", "appPackage", "provbot.zip"));
    const manifest = JSON.parse(zip.readAsText("manifest.json")) as { id: string; version: string; bots: { botId: string; scopes: string[] }[] };
    expect(JSON.stringify(manifest)).not.toContain("${{");
    expect(manifest.id).toBe("0000000a-0000-4000-8000-000000000456");
    expect(manifest.bots[0]).toMatchObject({ botId: "0000000b-0000-4000-8000-000000000123", scopes: ["personal", "team", "groupChat"] });
    expect(manifest.version).toMatch(/^\d+\.\d+\.\d+$/);
    const size = (name: string) => {
      const png = zip.readFile(name)!;
      expect(png.subarray(1, 4).toString()).toBe("PNG");
      return [png.readUInt32BE(16), png.readUInt32BE(20)];
    };
    expect(size("color.png")).toEqual([192, 192]);
    expect(size("outline.png")).toEqual([32, 32]);
  });

  it("builds a manifest the official Teams schema (v1.19, kept in test/fixtures/teams) accepts", async () => {
    await run(process.execPath, [join(ROOT, "dist", "scripts", "teams-package.js"), "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"]);
    const manifest = JSON.parse(new AdmZip(join(ROOT, "dist", "appPackage", "provbot.zip")).readAsText("manifest.json")) as Record<string, unknown>;
    const schema = JSON.parse(readFileSync(join(ROOT, "appPackage", "schema", "MicrosoftTeams.v1.19.schema.json"), "utf8")) as object;
    expect(manifest["manifestVersion"]).toBe("1.19");
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    const ok = validate(manifest);
    expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([]);
    expect(ok).toBe(true);
  });

  it("with a tab domain, adds the personal and configurable tabs, the domain and Teams SSO, and the schema accepts it", async () => {
    await run(process.execPath, [join(ROOT, "dist", "scripts", "teams-package.js"), "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"], {
      env: { ...process.env, PROVBOT_TAB_DOMAIN: "https://provbot-contoso.azurewebsites.net/", PROVBOT_TAB_CLIENT_ID: "00000000-0000-0000-0000-000000000003" },
    });
    const manifest = JSON.parse(new AdmZip(join(ROOT, "dist", "appPackage", "provbot.zip")).readAsText("manifest.json")) as Record<string, unknown> & { staticTabs: { contentUrl?: string }[]; configurableTabs: { configurationUrl: string }[] };
    expect(manifest.staticTabs[0]!.contentUrl).toBe("https://provbot-contoso.azurewebsites.net/api/tab");
    expect(manifest.configurableTabs[0]!.configurationUrl).toBe("https://provbot-contoso.azurewebsites.net/api/tab/config.html");
    expect(manifest["validDomains"]).toEqual(["provbot-contoso.azurewebsites.net"]);
    expect(manifest["webApplicationInfo"]).toEqual({ id: "00000000-0000-0000-0000-000000000003", resource: "api://provbot-contoso.azurewebsites.net/botid-00000000-0000-0000-0000-000000000001" });
    const schema = JSON.parse(readFileSync(join(ROOT, "appPackage", "schema", "MicrosoftTeams.v1.19.schema.json"), "utf8")) as object;
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    validate(manifest);
    expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([]);
  });

  it("the schema check can fail: a 33-character command title is refused", async () => {
    await run(process.execPath, [join(ROOT, "dist", "scripts", "teams-package.js"), "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"]);
    const schema = JSON.parse(readFileSync(join(ROOT, "appPackage", "schema", "MicrosoftTeams.v1.19.schema.json"), "utf8")) as object;
    const manifest = JSON.parse(new AdmZip(join(ROOT, "dist", "appPackage", "provbot.zip")).readAsText("manifest.json")) as { bots: { commandLists: { commands: { title: string }[] }[] }[] };
    manifest.bots[0]!.commandLists[0]!.commands[0]!.title = "why did alice fail in ServiceNow?";
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    expect(ajv.validate(schema, manifest)).toBe(false);
    expect(JSON.stringify(ajv.errors)).toContain("maxLength");
  });

  it("from the deployment's outputs (an azd .env file): the tab on the Function App's host, and a Teams app id that stays the same for the same bot", async () => {
    const dir = mkdtempSync(join(tmpdir(), "provbot-azd-"));
    const envFile = join(dir, ".env");
    const build = async (bot: string) => {
      writeFileSync(envFile, [`BOT_APP_ID="${bot}"`, 'FUNCTION_APP_HOST="func-provbot-abc.azurewebsites.net"', 'TAB_CLIENT_ID="11111111-2222-3333-4444-555555555555"', `TAB_APP_ID_URI="api://func-provbot-abc.azurewebsites.net/botid-${bot}"`].join("\n"));
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !["BOT_APP_ID", "MicrosoftAppId", "FUNCTION_APP_HOST", "PROVBOT_TAB_DOMAIN", "TAB_CLIENT_ID", "TEAMS_APP_ID", "AZURE_ENV_NAME"].includes(k)));
      await run(process.execPath, [join(ROOT, "dist", "scripts", "teams-package.js"), "--env-file", envFile], { env });
      return JSON.parse(new AdmZip(join(ROOT, "dist", "appPackage", "provbot.zip")).readAsText("manifest.json")) as { id: string; bots: { botId: string }[]; webApplicationInfo: { id: string; resource: string }; validDomains: string[] };
    };
    const bots = ["aaaaaaaa-0000-4000-8000-000000000001", "aaaaaaaa-0000-4000-8000-000000000002"];
    const first = await build(bots[0]!);
    const again = await build(bots[0]!);
    const other = await build(bots[1]!);
    expect(first.bots[0]!.botId).toBe(bots[0]);
    expect(first.validDomains).toEqual(["func-provbot-abc.azurewebsites.net"]);
    expect(first.webApplicationInfo).toEqual({ id: "11111111-2222-3333-4444-555555555555", resource: `api://func-provbot-abc.azurewebsites.net/botid-${bots[0]}` });
    expect(first.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(again.id).toBe(first.id);
    expect(other.id).not.toBe(first.id);
  });

  it("uuidV5 is RFC 4122's name-based UUID (the RFC's own example: www.example.com in the DNS namespace)", () => {
    expect(uuidV5("www.example.com", "6ba7b810-9dad-11d1-80b4-00c04fd430c8")).toBe("2ed6657d-e927-568b-95e1-2665a8aea6a2");
  });

  it("refuses to write a package the Teams schema rejects", async () => {
    // A developer URL that is not a URL fails the schema's format check.
    await expect(run(process.execPath, [join(ROOT, "dist", "scripts", "teams-package.js"), "00000000-0000-0000-0000-000000000001"], { env: { ...process.env, DEVELOPER_URL: "not a url" } })).rejects.toMatchObject({ code: 1 });
  });

  it("refuses to build without a bot id", async () => {
    await expect(run(process.execPath, [join(ROOT, "dist", "scripts", "teams-package.js")], { env: { PATH: process.env["PATH"] ?? "" } })).rejects.toMatchObject({ code: 2 });
  });
});
