import { build } from "esbuild";
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { findPackageRoot } from "../src/packageInfo";

/**
 * Builds the Teams tab (src/tab, React + Fluent UI + teams-js + chart.js) into dist/tab with
 * esbuild: one minified bundle for the page, one for the configuration page, and the two HTML
 * files. `functions/tab.ts` serves exactly the files found there.
 */
export async function buildTab(root = findPackageRoot(__dirname)): Promise<{ files: string[]; ms: number }> {
  const started = performance.now();
  const out = join(root, "dist", "tab");
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: { boot: join(root, "src/tab/boot.ts"), app: join(root, "src/tab/main.tsx"), config: join(root, "src/tab/config.ts") },
    outdir: out,
    bundle: true,
    minify: true,
    sourcemap: false,
    format: "esm",
    splitting: true,
    chunkNames: "chunk-[hash]",
    target: ["chrome110", "edge110", "safari16", "firefox110"],
    define: { "process.env.NODE_ENV": '"production"' },
    legalComments: "linked",
    logLevel: "warning",
  });
  for (const f of readdirSync(join(root, "src/tab/static"))) copyFileSync(join(root, "src/tab/static", f), join(out, f));
  return { files: readdirSync(out).sort(), ms: Math.round(performance.now() - started) };
}

if (require.main === module) {
  buildTab().then(
    (r) => console.log(`tab built in ${r.ms} ms: ${r.files.join(", ")}`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
