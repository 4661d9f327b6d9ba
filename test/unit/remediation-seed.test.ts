import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { canonicalCode, LEARN_MORE, remedyFor, type Retry } from "../../src/core/remediation";

/**
 * The remedies against the seed's error-code tables (section 7 of the provisioning reference, kept in
 * test/fixtures/reference with its provenance): every code the seed lists is in the catalogue, with
 * the seed's retry behaviour, the seed's options and caveats where it gives them, and a Microsoft
 * page to learn more (issue 25, item 15).
 */
const seed = readFileSync(join(__dirname, "..", "fixtures", "reference", "provisioning-log-formats.md"), "utf8");

function section(title: string): string {
  const start = seed.indexOf(`### ${title}`);
  expect(start, title).toBeGreaterThan(0);
  const end = seed.indexOf("\n### ", start + 4);
  return seed.slice(start, end < 0 ? undefined : end);
}

/** Rows of a section's table: the codes of the first column (before any parenthesis) and the last column. */
function rows(title: string): { codes: string[]; retry: string }[] {
  return section(title)
    .split("\n")
    .filter((l) => l.startsWith("| `"))
    .map((l) => {
      const cells = l.split("|").slice(1, -1).map((c) => c.trim());
      const first = cells[0]!.split("(")[0]!;
      return { codes: [...first.matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]!), retry: cells[cells.length - 1]! };
    })
    .filter((r) => r.codes.length > 0);
}

/** The seed's retry words as provbot's retry classes; "partly" accepts either side. */
function retryClasses(words: string): Retry[] {
  const w = words.toLowerCase();
  if (w.startsWith("yes")) return ["automatic"];
  if (w.startsWith("cycle")) return ["nextCycle"];
  if (w.startsWith("no")) return ["manual"];
  if (w.startsWith("n/a")) return ["notApplicable"];
  if (w.startsWith("partly")) return ["automatic", "nextCycle", "manual"];
  throw new Error(`unknown retry words in the seed: ${words}`);
}

const SECTIONS = ["7.1 General provisioning codes", "7.2 SCIM codes seen in the wild", "7.3 Cross-tenant synchronization", "7.4 HR-inbound", "7.5 Entra Cloud Sync"];

describe("remedies match the seed's error tables", () => {
  const all = SECTIONS.flatMap((s) => rows(s).flatMap((r) => r.codes.map((code) => ({ section: s, code, retry: r.retry }))));

  it("reads the seed's tables (a check that cannot pass on an empty parse)", () => {
    expect(all.length).toBeGreaterThan(50);
    for (const s of SECTIONS) expect(all.some((r) => r.section === s), s).toBe(true);
  });

  it("every code the seed lists is in the catalogue, with the seed's retry behaviour (any row, when a code has two)", () => {
    const byCode = new Map<string, Retry[]>();
    for (const r of all) byCode.set(r.code, [...(byCode.get(r.code) ?? []), ...retryClasses(r.retry)]);
    for (const [code, allowed] of byCode) {
      const remedy = remedyFor(code, null, null);
      expect(remedy.source, code).toBe("catalogue");
      expect(allowed, `${code}: provbot says ${remedy.retry}`).toContain(remedy.retry);
    }
  });

  it("InsufficientRights, MethodNotAllowed, NotPermitted and Unauthorized are the seed's one case: authenticated but not authorised", () => {
    const four = ["InsufficientRights", "MethodNotAllowed", "NotPermitted", "Unauthorized"].map((c) => remedyFor(c, null, null));
    for (const r of four) {
      expect(r.cause).toBe(four[0]!.cause);
      expect(r.fix).toBe(four[0]!.fix);
    }
    expect(four[0]!.cause).toMatch(/authenticated/);
    expect(four[0]!.cause).toMatch(/not authorised/);
    expect(four[0]!.fix).toMatch(/tutorial/);
  });

  it("the options and caveats the seed gives are in the remedy", () => {
    const fix = (code: string) => remedyFor(code, null, null);
    expect(fix("InvalidAnchor").fix).toMatch(/restart/i);
    expect(fix("InvalidAnchor").fix).toMatch(/clears the job's state/);
    expect(fix("InvalidAnchor").fix).toMatch(/full initial cycle/);
    const external = fix("AzureActiveDirectoryCannotUpdateObjectsOriginatedInExternalService");
    expect(external.cause).toContain("Mail");
    expect(external.cause).toContain("showInAddressList");
    expect(external.fix).toMatch(/retry on its own without/);
    expect(fix("UnprocessableEntity").fix).toMatch(/configuration/);
    expect(fix("UnprocessableEntity").fix).toMatch(/vendor/);
    expect(fix("MandatoryFieldsMissing").fix).toMatch(/mapping/);
    expect(fix("SchemaPropertyCanOnlyAcceptValue").fix).toMatch(/single-valued/);
    expect(fix("ImportSkipped").fix).toMatch(/matching attribute/);
    expect(fix("ImportSkipped").retry).toBe("notApplicable");
  });

  it("Microsoft's current spelling of renamed codes ('Microsoft Entra ID…' for 'AzureActiveDirectory…') finds the same remedy", () => {
    const original = remedyFor("AzureActiveDirectoryCannotUpdateObjectsOriginatedInExternalService", null, null);
    for (const spelling of ["MicrosoftEntraIDCannotUpdateObjectsOriginatedInExternalService", "Microsoft Entra ID CannotUpdateObjectsOriginatedInExternalService", "Microsoft Entra ID\nCannotUpdateObjectsOriginatedInExternalService", "EntraIDCannotUpdateObjectsOriginatedInExternalService"]) {
      const r = remedyFor(spelling, null, null);
      expect(r.source, spelling).toBe("catalogue");
      expect(r.cause).toBe(original.cause);
      expect(r.code).toBe(spelling);
    }
    expect(canonicalCode("MicrosoftEntraIDQuotaLimitExceeded")).toBe("AzureActiveDirectoryQuotaLimitExceeded");
    // Not a rename: a code that merely contains the words stays as it is.
    expect(canonicalCode("ContosoEntraIdSync")).toBe("ContosoEntraIdSync");
  });

  it("every code has a Microsoft page to learn more, by family", () => {
    for (const { code } of all) expect(remedyFor(code, null, null).learnMore, code).toMatch(/^https:\/\/learn\.microsoft\.com\//);
    expect(remedyFor("SystemForCrossDomainIdentityManagementBadRequest", null, null).learnMore).toBe(LEARN_MORE.scim);
    expect(remedyFor("AzureDirectoryB2BManagementPolicyCheckFailure", null, null).learnMore).toBe(LEARN_MORE.crossTenant);
    expect(remedyFor("HybridIdentityServiceNoActiveAgents", null, null).learnMore).toBe(LEARN_MORE.cloudSync);
    expect(remedyFor("HybridSynchronizationActiveDirectoryUserPrincipalNameNotUnique", null, null).learnMore).toBe(LEARN_MORE.hrInbound);
    expect(remedyFor("SalesforceDuplicateTargetEntries", null, null).learnMore).toBe(LEARN_MORE.general);
    expect(remedyFor("NeverSeenBeforeCode", null, null).learnMore).toBe(LEARN_MORE.general);
  });
});
