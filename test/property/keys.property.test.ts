import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ingestPayload, type IngestDeps } from "../../src/app/ingest";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableQueryStore } from "../../src/adapters/tables/queryStore";
import { TableDeadLetterStore } from "../../src/adapters/tables/deadLetters";
import { jobKey, keyPart } from "../../src/adapters/tables/keys";
import { entityProblem } from "../../src/adapters/tables/entityLimits";
import { canonicalIdentityKey } from "../../src/core/identityKeys";
import { normaliseRecord } from "../../src/core/ingest/normalise";
import { normaliseName } from "../../src/core/names";
import { testTables } from "../support/tables";
import { freshen, realGraphRecords } from "../support/hostile";

/**
 * Property (issue 21, item 1): names, UPNs and group names drawn from all of Unicode plus the
 * characters Table Storage forbids in keys (/ \ # ?), the escape character (%) and control
 * characters are stored, found by name, by UPN and by change ID, and counted. Every B2B guest's
 * UPN holds #EXT#; a group may be called "Finance/HR".
 */
const { factory } = testTables();
const store = new TableEventStore(factory);
const query = new TableQueryStore(store);
const deadLetters = new TableDeadLetterStore(factory, { now: () => new Date() });
const deps: IngestDeps = { store, deadLetters };
const base = realGraphRecords()[0]!;

const keyHostile = fc.constantFrom("/", "\\", "#", "?", "%", "%2F", "#EXT#", "|", "\u0000", "\u0001", "\u001f", "\u007f", "\u0085", "\u009f", "\t", "\n", "\r", "\ud800", "\udfff", "😀", "\u202e", "\u200b");
const anyText = fc.string({ unit: "binary", maxLength: 12 });
/** A piece of a name: any code point, or a character keys may not hold. */
const piece = fc.array(fc.oneof(keyHostile, anyText), { minLength: 1, maxLength: 5 }).map((a) => a.join(""));

let run = 0;

describe("keys built from data (property)", () => {
  it("the guests and groups of the issue are stored, not rejected", async () => {
    const tag = `k0${Date.now().toString(36)}`;
    const at = new Date(Date.now() - 60_000).toISOString();
    const guest = freshen(base, 0, tag, `Keys.${tag}`, at) as Record<string, any>;
    guest["sourceIdentity"] = { id: `${tag}-guest`, displayName: "Guest Partner", identityType: "User", details: { UserPrincipalName: `guest_partner.example#EXT#@${tag}.onmicrosoft.com` } };
    const group = freshen(base, 1, tag, `Keys.${tag}`, at) as Record<string, any>;
    group["sourceIdentity"] = { id: `${tag}-group`, displayName: `Finance/HR ${tag}`, identityType: "Group", details: {} };
    const report = await ingestPayload([{ contentType: "application/json", text: JSON.stringify([guest, group]) }], "keys", deps);
    expect(report.rejected).toEqual([]);
    expect(report.accepted).toBe(2);
    expect((await query.findIdentities(`guest_partner.example#EXT#@${tag}.onmicrosoft.com`)).map((c) => c.identityKey)).toContain(`i:${tag}-guest`);
    expect((await query.findIdentities(`finance/hr ${tag}`)).map((c) => c.identityKey)).toContain(`i:${tag}-group`);
  });

  it("any name, UPN or group name is stored, found by name, UPN and change ID, and counted", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ name: piece, upnLocal: piece, group: fc.boolean() }), { minLength: 1, maxLength: 6 }),
        async (people) => {
          const tag = `k${++run}x${Date.now().toString(36)}`;
          const jobId = `Keys.${tag}`;
          const at = new Date(Date.now() - 60_000).toISOString();
          const records = people.map((p, n) => {
            const r = freshen(base, n, tag, jobId, at) as Record<string, any>;
            const name = `${p.name} ${tag}n${n}`;
            const upn = `${p.upnLocal}${tag}u${n}#EXT#@contoso.onmicrosoft.com`;
            r["sourceIdentity"] = { id: `${tag}-obj-${n}`, displayName: name, identityType: p.group ? "Group" : "User", details: p.group ? {} : { UserPrincipalName: upn } };
            r["targetIdentity"] = { id: `${p.name}${tag}t${n}`, displayName: name, identityType: p.group ? "Group" : "User", details: {} };
            return { r, name, upn, group: p.group };
          });
          const report = await ingestPayload([{ contentType: "application/json", text: JSON.stringify(records.map((x) => x.r)) }], "keys", deps);
          expect(report.rejected, JSON.stringify(report.rejected)).toEqual([]);
          expect(report.accepted).toBe(records.length);

          for (const [n, x] of records.entries()) {
            const event = normaliseRecord(x.r);
            if (event.kind !== "event") throw new Error("the real record no longer normalises");
            const key = canonicalIdentityKey(event.event);
            expect((await store.getByChangeId(`${tag}-chg-${n}`)).map((e) => e.id)).toEqual([`${tag}-${n}`]);
            expect((await query.findIdentities(x.name)).map((c) => c.identityKey), `by name ${JSON.stringify(x.name)}`).toContain(key);
            if (!x.group) expect((await query.findIdentities(x.upn)).map((c) => c.identityKey), `by UPN ${JSON.stringify(x.upn)}`).toContain(key);
          }
          const counted = (await store.counts.allOf(jobKey(jobId, ""))).reduce((total, c) => total + c.total, 0);
          expect(counted).toBe(records.length);
        },
      ),
      { numRuns: Number(process.env["PROVBOT_PROPERTY_RUNS"] ?? 25), interruptAfterTimeLimit: 90_000 },
    );
  }, 150_000);

  it("an encoded key part is always a key Table Storage accepts, and distinct inputs stay distinct", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(keyHostile, anyText, fc.string({ unit: "binary", maxLength: 400 })), { minLength: 1, maxLength: 4 }).map((a) => a.join("")), fc.string({ unit: "binary", maxLength: 8 }), (raw, other) => {
        const k = keyPart(raw);
        expect(entityProblem({ partitionKey: k, rowKey: keyPart(normaliseName(raw)) })).toBeNull();
        if (raw.isWellFormed() && other.isWellFormed() && raw !== other) expect(keyPart(other)).not.toBe(k);
      }),
      { numRuns: 2000 },
    );
  });
});
