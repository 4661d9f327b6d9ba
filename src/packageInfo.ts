import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** Finds the provbot package root from compiled (dist/...) or source (src/..., scripts/...) code. */
export function findPackageRoot(from: string = __dirname): string {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, "utf8")) as { name?: string };
      if (pkg.name === "provbot") return dir;
    }
    dir = dirname(dir);
  }
  throw new Error(`cannot find the provbot package.json above ${from}`);
}

export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(findPackageRoot(), "package.json"), "utf8")) as { version?: string };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}
