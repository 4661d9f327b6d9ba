import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findPackageRoot } from "../src/packageInfo";

/**
 * `npm run stage [-- <folder>]`: what the Function App runs, staged in deploy/ (azure.yaml deploys
 * that folder): the built dist/ without the development scripts (local host, CLI, benchmarks),
 * host.json, a package.json without scripts or development dependencies, and the production
 * dependencies alone (`npm ci --omit=dev`). Run `npm run build` first. The package-size benchmark
 * stages the same way.
 */
export const KEEP_IN_DEPLOY = [".gitignore", "README.md"];

export function stage(root: string, out: string): void {
  if (!existsSync(join(root, "dist", "functions"))) throw new Error("dist/functions is missing: run `npm run build` first");
  // Empty the folder, keeping its own tracked files.
  if (existsSync(out)) for (const name of readdirSync(out)) if (!KEEP_IN_DEPLOY.includes(name)) rmSync(join(out, name), { recursive: true, force: true });
  cpSync(join(root, "dist"), join(out, "dist"), { recursive: true, filter: (src) => !src.startsWith(join(root, "dist", "scripts")) && !src.startsWith(join(root, "dist", "appPackage")) && !src.endsWith(".map") });
  cpSync(join(root, "host.json"), join(out, "host.json"));
  cpSync(join(root, "package-lock.json"), join(out, "package-lock.json"));
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as Record<string, unknown>;
  const { scripts: _scripts, devDependencies: _dev, bin: _bin, ...runtime } = pkg;
  writeFileSync(join(out, "package.json"), `${JSON.stringify(runtime, null, 2)}\n`);
  execFileSync("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: out, stdio: "inherit" });
}

if (require.main === module) {
  const root = findPackageRoot(__dirname);
  const out = process.argv[2] ?? join(root, "deploy");
  stage(root, out);
  console.log(`staged ${out}: dist/ (no scripts), host.json, package.json, production node_modules`);
}
