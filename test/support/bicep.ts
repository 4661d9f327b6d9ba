import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Language, Parser, type Node } from "web-tree-sitter";
import { ROOT } from "./stack";

/**
 * Bicep, read offline: the tree-sitter-bicep grammar (its WebAssembly build, run by web-tree-sitter;
 * no native addon, no Bicep compiler) parses the templates, and small readers pull out what the
 * deployment tests compare with the code. The compiler's own checks (types, API shapes) are for
 * `az bicep build`, which the README asks the deployer to run once.
 */
let parser: Promise<Parser> | null = null;

function bicepParser(): Promise<Parser> {
  parser ??= (async () => {
    await Parser.init();
    const language = await Language.load(readFileSync(join(ROOT, "node_modules", "tree-sitter-bicep", "tree-sitter-bicep.wasm")));
    const p = new Parser();
    p.setLanguage(language);
    return p;
  })();
  return parser;
}

/** Every syntax error (ERROR and MISSING nodes), with its line: empty when the file parses. */
export async function bicepErrors(text: string): Promise<string[]> {
  // tree-sitter-bicep 1.1.0 predates the `extension <name>` statement (Bicep 0.30): the statement is
  // checked here, whole lines only, and blanked (same length, so lines keep their numbers) before parsing.
  const errors: string[] = [];
  const source = text.replace(/^extension\b.*$/gm, (line) => {
    if (!/^extension [A-Za-z][A-Za-z0-9]*\s*$/.test(line)) errors.push(`malformed extension statement: ${line}`);
    return " ".repeat(line.length);
  });
  const tree = (await bicepParser()).parse(source);
  if (!tree) return ["the parser returned no tree"];
  const walk = (node: Node) => {
    if (node.isError || node.isMissing) errors.push(`line ${node.startPosition.row + 1}: ${node.isMissing ? `missing ${node.type}` : `unexpected ${JSON.stringify(node.text.slice(0, 40))}`}`);
    if (node.hasError) for (const child of node.children) if (child) walk(child);
  };
  walk(tree.rootNode);
  tree.delete();
  return errors;
}

/**
 * App settings as the templates list them: every `{ name: '<NAME>', value: <v> }` object; `value`
 * is what the expression comes to when it is a literal, a `var` holding one, a `param`'s default
 * (from `params`, e.g. main.bicep's) or `string()` of one of those; null when only Azure knows it.
 */
export function bicepSettings(text: string, params: Record<string, string> = {}): { name: string; value: string | null }[] {
  const resolve = (v: string): string | null => {
    const literal = /^'([^'$]*)'$/.exec(v);
    if (literal) return literal[1]!;
    const str = /^string\((\w+)\)$/.exec(v);
    if (str) return resolve(str[1]!);
    if (/^\w+$/.test(v)) return bicepStringVar(text, v) ?? params[v] ?? null;
    return null;
  };
  return [...text.matchAll(/\{\s*name:\s*'([^']+)'\s*,?\s*value:\s*([^}\n]+?)\s*\}/g)].map((m) => ({ name: m[1]!, value: resolve(m[2]!) }));
}

/** The value of `var <name> = '<literal>'`. */
export function bicepStringVar(text: string, name: string): string | undefined {
  return new RegExp(`^var ${name} = '([^']*)'`, "m").exec(text)?.[1];
}

/** Defaults of a template's `param`s that are plain values (strings unquoted, numbers and booleans as written). */
export function bicepParamDefaults(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^param (\w+) \w+ = (.+)$/gm)) {
    const v = m[2]!.trim();
    const literal = /^'([^'$]*)'$/.exec(v);
    if (literal) out[m[1]!] = literal[1]!;
    else if (/^(-?\d+|true|false)$/.test(v)) out[m[1]!] = v;
  }
  return out;
}
