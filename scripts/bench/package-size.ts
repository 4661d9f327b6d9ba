import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findPackageRoot } from "../../src/packageInfo";
import { machineLine, writeSection } from "./report";

/**
 * `npm run bench:package`: what `func azure functionapp publish` would upload: dist/, host.json,
 * package.json and the production dependencies (npm ci --omit=dev), as a zip.
 */
const root = findPackageRoot(__dirname);
const dir = mkdtempSync(join(tmpdir(), "provbot-package-"));
try {
  for (const f of ["dist", "host.json", "package.json", "package-lock.json"]) cpSync(join(root, f), join(dir, f), { recursive: true });
  rmSync(join(dir, "dist", "scripts"), { recursive: true, force: true });
  execFileSync("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: dir, stdio: "ignore" });
  const du = (p: string) => execFileSync("du", ["-sh", p], { encoding: "utf8" }).split("\t")[0];
  execFileSync("python3", ["-c", `import shutil; shutil.make_archive(${JSON.stringify(join(dir, "..", "provbot-package"))}, "zip", ${JSON.stringify(dir)})`]);
  const zip = join(dir, "..", "provbot-package.zip");
  const zipMiB = (statSync(zip).size / 2 ** 20).toFixed(1);
  rmSync(zip);
  const md = [
    "## Deployable package",
    "",
    `Command: \`npm run bench:package\` · Machine: ${machineLine()}`,
    "",
    `| part | size |`,
    `|---|---|`,
    `| production \`node_modules\` | ${du(join(dir, "node_modules"))} |`,
    `| \`dist/\` without scripts | ${du(join(dir, "dist"))} |`,
    `| whole package on disk | ${du(dir)} |`,
    `| zipped (what is uploaded) | ${zipMiB} MiB |`,
  ].join("\n");
  writeSection("package", md);
  console.log(md);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
