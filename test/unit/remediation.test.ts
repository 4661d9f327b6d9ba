import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CATALOGUE_CODES, remedyFor, retryText } from "../../src/core/remediation";

const reference = readFileSync(join(__dirname, "..", "fixtures", "reference", "provisioning-log-formats.md"), "utf8");

describe("remediation catalogue", () => {
  it("covers every error code the reference's catalogue tables list", () => {
    const section = reference.slice(reference.indexOf("## 7. Error-code catalogue"), reference.indexOf("### 7.6"));
    const codes = new Set<string>();
    for (const line of section.split("\n")) {
      if (!line.startsWith("| `")) continue;
      for (const m of line.split("|")[1]!.matchAll(/`([A-Za-z]+)`/g)) codes.add(m[1]!);
    }
    expect(codes.size).toBeGreaterThan(50);
    // App-specific conflict codes (ContosoEntryConflict, BoxEntryConflict) are covered by their pattern.
    const missing = [...codes].filter((c) => remedyFor(c, null, null).source !== "catalogue" && !/.+EntryConflict$/.test(c));
    expect(missing).toEqual([]);
  });

  it("explains app-specific conflict codes by their base code, and other families by their pattern", () => {
    expect(remedyFor("ServiceNowEntryConflict", "nonServiceFailure", "Conflict")).toMatchObject({ source: "catalogue", base: "EntryConflict", retry: "nextCycle" });
    expect(remedyFor("SystemForCrossDomainIdentityManagementSomethingNew", null, null).source).toBe("pattern");
  });

  it("falls back to the HTTP status, then to the category", () => {
    expect(remedyFor("AcmeWeirdError", null, "Forbidden")).toMatchObject({ source: "httpStatus" });
    expect(remedyFor("AcmeWeirdError", "nonServiceFailure", null)).toMatchObject({ source: "category", retry: "manual" });
    expect(remedyFor("AcmeWeirdError", "failure", null)).toMatchObject({ source: "category", retry: "nextCycle" });
    expect(remedyFor("AcmeWeirdError", null, null).source).toBe("unknown");
  });

  it("has its own words for every entry", () => {
    for (const code of CATALOGUE_CODES) {
      const r = remedyFor(code, null, null);
      expect(r.cause.length).toBeGreaterThan(20);
      expect(r.fix.length).toBeGreaterThan(10);
    }
  });

  it("says when the service retries", () => {
    expect(retryText("nextCycle", "2026-11-20T14:15:02.000Z")).toBe("The service tries again after 2026-11-20 14:15:02 UTC.");
    expect(retryText("automatic", null)).toMatch(/on its own/);
  });
});

describe("codes that are also Object.prototype names", () => {
  it.each(["__proto__", "constructor", "toString", "hasOwnProperty"])("%s is an unknown code, not a prototype member", (code) => {
    const r = remedyFor(code, null, "constructor");
    expect(r.source).toBe("unknown");
    expect(typeof r.cause).toBe("string");
  });
});

describe("app-prefixed codes get their base code's remedy in full (issue 10)", () => {
  it.each([
    ["GoogleAppsInvalidAnchor", "InvalidAnchor"],
    ["SalesforceDuplicateTargetEntries", "DuplicateTargetEntries"],
    ["DropboxLicenseLimitExceeded", "LicenseLimitExceeded"],
  ])("%s → %s", (code, base) => {
    const r = remedyFor(code, null, null);
    const b = remedyFor(base, null, null);
    expect(r).toMatchObject({ source: "catalogue", base, cause: b.cause, fix: b.fix, retry: b.retry });
  });

  it("does not take a lower-case run or a short tail for a prefix", () => {
    expect(remedyFor("notaprefixInvalidAnchor", null, null).base).toBeUndefined();
    expect(remedyFor("ContosoEntryConflict", null, null).base).toBe("EntryConflict");
  });
});

describe("remedy wording", () => {
  it("the admin credential belongs to the app's provisioning job, not to provbot", () => {
    const r = remedyFor("InsufficientRights", null, null);
    expect(r.cause).not.toMatch(/provbot/);
    expect(r.cause).toMatch(/provisioning job/);
  });
});
