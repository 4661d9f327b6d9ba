import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import AdmZip from "adm-zip";
import Ajv from "ajv-draft-04";
import addFormats from "ajv-formats";
import { ROOT } from "../support/stack";

const run = promisify(execFile);

describe("Teams app package", () => {
  it("fills the manifest placeholders and ships both icons at the sizes Teams requires", async () => {
    await run(process.execPath, [join(ROOT, "dist", "scripts", "teams-package.js"), "bot-app-id-123", "teams-app-id-456"]);
    const zip = new AdmZip(join(ROOT, "dist", "appPackage", "provbot.zip"));
    const manifest = JSON.parse(zip.readAsText("manifest.json")) as { id: string; version: string; bots: { botId: string; scopes: string[] }[] };
    expect(JSON.stringify(manifest)).not.toContain("${{");
    expect(manifest.id).toBe("teams-app-id-456");
    expect(manifest.bots[0]).toMatchObject({ botId: "bot-app-id-123", scopes: ["personal", "team", "groupChat"] });
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
    const schema = JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "teams", "MicrosoftTeams.v1.19.schema.json"), "utf8")) as object;
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
    expect(manifest["webApplicationInfo"]).toEqual({ id: "00000000-0000-0000-0000-000000000003", resource: "api://provbot-contoso.azurewebsites.net/00000000-0000-0000-0000-000000000003" });
    const schema = JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "teams", "MicrosoftTeams.v1.19.schema.json"), "utf8")) as object;
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    validate(manifest);
    expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([]);
  });

  it("the schema check can fail: a 33-character command title is refused", async () => {
    await run(process.execPath, [join(ROOT, "dist", "scripts", "teams-package.js"), "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"]);
    const schema = JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "teams", "MicrosoftTeams.v1.19.schema.json"), "utf8")) as object;
    const manifest = JSON.parse(new AdmZip(join(ROOT, "dist", "appPackage", "provbot.zip")).readAsText("manifest.json")) as { bots: { commandLists: { commands: { title: string }[] }[] }[] };
    manifest.bots[0]!.commandLists[0]!.commands[0]!.title = "why did alice fail in ServiceNow?";
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    expect(ajv.validate(schema, manifest)).toBe(false);
    expect(JSON.stringify(ajv.errors)).toContain("maxLength");
  });

  it("refuses to build without a bot id", async () => {
    await expect(run(process.execPath, [join(ROOT, "dist", "scripts", "teams-package.js")], { env: { PATH: process.env["PATH"] ?? "" } })).rejects.toMatchObject({ code: 2 });
  });
});
