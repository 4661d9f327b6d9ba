import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findPackageRoot } from "../../src/packageInfo";
import { machineLine, writeSection } from "./report";
import { stage } from "../stage";

/**
 * `npm run bench:package`: what `azd deploy` uploads: deploy/ as `npm run stage` builds it (dist/
 * without the scripts, host.json, package.json and the production dependencies), as a zip.
 */
const root = findPackageRoot(__dirname);

/** The `n` largest packages under node_modules (scoped packages counted one by one), as "name size". */
function largest(modules: string, n: number): string {
  const out = execFileSync("sh", ["-c", `cd ${JSON.stringify(modules)} && du -sk * @*/* 2>/dev/null | grep -v '\t@[^/]*$' | sort -rn | head -${n}`], { encoding: "utf8" });
  return out
    .trim()
    .split("\n")
    .map((l) => l.split("\t"))
    .filter((p) => p.length === 2 && !(p[1]!.startsWith("@") && !p[1]!.includes("/")))
    .map(([kb, name]) => `${name} ${(Number(kb) / 1024).toFixed(0)} MiB`)
    .join(", ");
}
const dir = mkdtempSync(join(tmpdir(), "provbot-package-"));
try {
  stage(root, dir);
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
    "",
    `Where the size goes (largest production packages): ${largest(join(dir, "node_modules"), 6)}. The CLI's own libraries (commander, cli-progress), the local host, Azurite, the Playground and the test tools are development dependencies and are not in it.`,
  ].join("\n");
  writeSection("package", md);
  console.log(md);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
