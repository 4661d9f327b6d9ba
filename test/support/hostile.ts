import fc from "fast-check";
import { sampleJson, sampleNdjson } from "./samples";

/**
 * Hostile input for property-based tests: strings that real tenants and attackers produce (SCIM
 * error texts with template syntax, markdown, lone surrogates, emoji cut by truncation, control
 * characters, huge values), deep nesting, wrong types and impossible dates, applied to the real
 * records in test/fixtures/samples.
 */
const PIECES = [
  "${x}", "${$root}", "${name}", "Invalid value ${userName} for attribute userName", "$", "${", "}",
  "**bold** _it_ [link](https://evil.example) <at>Everyone</at> <script>alert(1)</script>", "# heading\n- bullet\n1. one",
  "\ud800", "\udfff", "😀", "👩🏽‍💻", "\u202e", "\u0000", "\u0007", "\r\n", "\t", "｛全角｝", "O'Brien; DROP TABLE users;--",
  "PartitionKey eq 'x' or true", "%ZZ", "/\\#?|", "null", "undefined", "__proto__", "constructor",
];

export const hostilePiece = fc.constantFrom(...PIECES);

/** A hostile string: mixed pieces and random text, sometimes very long. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.oneof(hostilePiece, fc.string({ unit: "binary", maxLength: 20 })), { minLength: 1, maxLength: 6 }).map((a) => a.join("")) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom("N", "😀", "\ud800", "${x}", "é"), fc.constantFrom(187, 200, 1_025, 33_000, 40_000)).map(([c, n]) => c.repeat(Math.ceil(n / c.length)).slice(0, n)) },
  { weight: 1, arbitrary: fc.constantFrom(`${"x".repeat(186)}😀😀😀`, `${"y".repeat(199)}😀tail`) },
);

/** A value of any JSON type, hostile when a string. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null)) },
  { weight: 1, arbitrary: fc.constantFrom({}, [], [1, "a"], { nested: { deeper: "${x}" } }) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 6000 }).map((depth) => deepObject(depth)) },
);

export const hostileDate = fc.constantFrom("9999-12-31T00:00:00Z", "0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "", "soon", "2026-13-45T99:99:99Z", 1e20, -1, null, "2026-11-31T10:00:00Z");

/**
 * Deep values stay markers until serialised by toJsonText, so that neither fast-check's reporting
 * nor JSON.stringify in the test itself has to recurse through them.
 */
export interface Deep {
  __deep: number;
  shape: "array" | "mixed";
}

export function deepObject(depth: number): Deep {
  return { __deep: depth, shape: "mixed" };
}

export function deepArray(depth: number): Deep {
  return { __deep: depth, shape: "array" };
}

function deepText(d: Deep): string {
  if (d.shape === "array") return `${"[".repeat(d.__deep)}${"]".repeat(d.__deep)}`;
  let open = "";
  let close = "";
  for (let i = 0; i < d.__deep; i++) {
    open += i % 2 ? '{"k":' : "[";
    close = (i % 2 ? "}" : "]") + close;
  }
  return `${open}"bottom \${x}"${close}`;
}

/** JSON text of a test value, deep markers expanded by string building. */
export function toJsonText(value: unknown): string {
  const deep: Deep[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === "object" && "__deep" in v) {
      deep.push(v as Deep);
      return `\u0001deep${deep.length - 1}\u0001`;
    }
    return v;
  });
  return text.replace(/"\\u0001deep(\d+)\\u0001"/g, (_m, i: string) => deepText(deep[Number(i)]!));
}

/** Paths of Graph-shaped records that mutations hit. */
export const PATHS = [
  "id", "changeId", "cycleId", "jobId", "tenantId", "activityDateTime", "provisioningAction",
  "sourceIdentity.displayName", "sourceIdentity.id", "sourceIdentity.details.UserPrincipalName", "targetIdentity.id", "targetIdentity.displayName",
  "servicePrincipal.displayName", "servicePrincipal.id", "sourceSystem.displayName", "targetSystem.displayName",
  "provisioningStatusInfo.status", "provisioningStatusInfo.errorInformation", "provisioningStatusInfo.errorInformation.errorCode", "provisioningStatusInfo.errorInformation.reason",
  "provisioningSteps", "provisioningSteps.0.name", "provisioningSteps.0.description", "provisioningSteps.0.details", "provisioningSteps.0.details.SkipReason",
  "modifiedProperties", "modifiedProperties.0.oldValue", "modifiedProperties.0.displayName",
] as const;

export type Mutation = { kind: "set"; path: string; value: unknown } | { kind: "delete"; path: string } | { kind: "replace"; value: unknown };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("set" as const), path: fc.constantFrom(...PATHS), value: hostileValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("set" as const), path: fc.constant("activityDateTime"), value: hostileDate }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), path: fc.constantFrom(...PATHS) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("replace" as const),
      value: fc.oneof(fc.constant(deepArray(100_000)), hostileString, fc.integer(), fc.constant(null), fc.constant([])),
    }),
  },
);

export function applyMutations(record: Record<string, unknown>, mutations: Mutation[]): unknown {
  let out: unknown = structuredClone(record);
  for (const m of mutations) {
    if (m.kind === "replace") {
      out = m.value;
      continue;
    }
    if (!out || typeof out !== "object") continue;
    const parts = m.path.split(".");
    let node = out as Record<string, unknown>;
    for (const p of parts.slice(0, -1)) {
      const next = node[p];
      if (!next || typeof next !== "object") node[p] = /^\d+$/.test(parts[parts.indexOf(p) + 1] ?? "") ? [{}] : {};
      node = node[p] as Record<string, unknown>;
    }
    const last = parts[parts.length - 1]!;
    if (m.kind === "delete") delete node[last];
    else node[last] = m.value;
  }
  return out;
}

/** The real Graph-shaped records of the samples (Graph v1.0, legacy beta, live SCIM record). */
export function realGraphRecords(): Record<string, unknown>[] {
  const list = sampleJson<{ value: Record<string, unknown>[] }>("graph-v1.0-list-example2-failure.json").value;
  const beta = sampleJson<{ value: Record<string, unknown>[] }>("graph-beta-list-box-failure-statusInfo.json").value;
  const live = sampleJson<Record<string, unknown>>("graph-v1.0-live-record-scim-group-skipped-redundantexport.json");
  return [...list, ...beta, live];
}

/** The real Event Hub records of the samples (diagnostic settings shape). */
export function realEventHubRecords(): Record<string, unknown>[] {
  return sampleNdjson("eventhub-provisioninglogs-elastic-test-raw.ndjson") as Record<string, unknown>[];
}

/** A real record made unique and recent: its own id and changeId, in one job, at `at`. */
export function freshen(record: Record<string, unknown>, n: number, tag: string, jobId: string, at: string): Record<string, unknown> {
  const r = structuredClone(record);
  if (r["properties"] && typeof r["properties"] === "object") {
    const p = r["properties"] as Record<string, unknown>;
    Object.assign(p, { id: `${tag}-${n}`, changeId: `${tag}-chg-${n}`, jobId, activityDateTime: at });
    r["time"] = at;
    return r;
  }
  return Object.assign(r, { id: `${tag}-${n}`, changeId: `${tag}-chg-${n}`, jobId, activityDateTime: at });
}
