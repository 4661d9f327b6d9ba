import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { join } from "node:path";
import AdmZip from "adm-zip";
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

  it("refuses to build without a bot id", async () => {
    await expect(run(process.execPath, [join(ROOT, "dist", "scripts", "teams-package.js")], { env: { PATH: process.env["PATH"] ?? "" } })).rejects.toMatchObject({ code: 2 });
  });
});
