import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The real records copied into test/fixtures/samples (provenance in SOURCES.md there). */
export const SAMPLES_DIR = join(__dirname, "..", "fixtures", "samples");

export function sampleText(name: string): string {
  return readFileSync(join(SAMPLES_DIR, name), "utf8");
}

export function sampleJson<T = unknown>(name: string): T {
  return JSON.parse(sampleText(name)) as T;
}

export function sampleNdjson(name: string): unknown[] {
  return sampleText(name)
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as unknown);
}
