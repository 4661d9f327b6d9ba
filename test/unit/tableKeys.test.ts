import { describe, expect, it } from "vitest";
import { bucket, jobKey, keyPart, reverseTicks } from "../../src/adapters/tables/keys";
import { eventKey, hourOfPartition } from "../../src/adapters/tables/eventsTable";
import { identityKeyOf, storedIdentityOf } from "../../src/adapters/tables/identityIndex";
import { changeMarkerKey, cycleRefKey } from "../../src/adapters/tables/refsTable";
import { aliasKey } from "../../src/adapters/tables/directoryTable";
import { copyHours, countInputOf, countKey, decodeCounts, nextCounter, readCounter } from "../../src/adapters/tables/countsTable";
import { stateKey } from "../../src/adapters/tables/stateTable";
import { csvPartKey } from "../../src/adapters/tables/csvPartsTable";
import { mergeCycles, nextJobRow } from "../../src/adapters/tables/jobsTable";
import { periodOf, periodOfName, SHARDS, shardName } from "../../src/adapters/tables/shards";
import { sampleEvent } from "../support/records";

const FORBIDDEN = /[/\\#?\u0000-\u001f\u007f-\u009f]/;

describe("key parts", () => {
  it("escapes what Table Storage forbids and the separator, and stays well-formed when cut", () => {
    expect(keyPart("a/b\\c#d?e|f%g\u0001")).toBe("a%2Fb%5Cc%23d%3Fe%7Cf%25g%01");
    const long = "😀".repeat(300);
    const cut = keyPart(long);
    expect(cut.length).toBeLessThanOrEqual(200);
    expect(cut.isWellFormed()).toBe(true);
    expect(keyPart(`${long}x`)).not.toBe(cut);
    expect(keyPart("\ud800x")).toBe("\ufffdx");
  });

  it("orders newest first and spreads by a stable hash", () => {
    expect(reverseTicks("2026-12-01T00:00:00Z") < reverseTicks("2026-11-30T23:59:59Z")).toBe(true);
    expect(reverseTicks("2026-12-01T00:00:00Z")).toHaveLength(13);
    expect(bucket("alice", 64)).toBe(bucket("alice", 64));
    expect(Number.parseInt(bucket("alice", 16), 16)).toBeLessThan(16);
    expect(jobKey("", "sp-1")).toBe("sp:sp-1");
    expect(jobKey("", "")).toBe("unknown-job");
  });
});

describe("each table's keys", () => {
  it("events: a job's hours are one contiguous key range, newest first inside", () => {
    const a = eventKey("Job.1", "2026-12-01T13:05:00Z", "id/1");
    const b = eventKey("Job.1", "2026-12-01T13:06:00Z", "id/2");
    expect(a.partitionKey).toBe("Job.1|2026120113");
    expect(hourOfPartition(a.partitionKey)).toBe("2026120113");
    expect(b.rowKey < a.rowKey).toBe(true);
    expect(a.rowKey).not.toMatch(FORBIDDEN);
  });

  it("identities: one identity's rows share a bucket and a prefix; partitions are days, newest first", () => {
    const k = identityKeyOf("u:a|b@x.com", "2026-12-01T10:00:00Z", "e1");
    const older = identityKeyOf("u:a|b@x.com", "2026-11-30T23:00:00Z", "e2");
    const sameDay = identityKeyOf("u:a|b@x.com", "2026-12-01T23:00:00Z", "e3");
    expect(k.partitionKey.split("|")[0]).toBe(older.partitionKey.split("|")[0]);
    expect(k.partitionKey < older.partitionKey).toBe(true);
    expect(sameDay.partitionKey).toBe(k.partitionKey);
    expect(sameDay.rowKey < k.rowKey).toBe(true);
    expect(storedIdentityOf(k.rowKey)).toBe(keyPart("u:a|b@x.com"));
  });

  it("refs: a changeId is a point key; a second event under it gets its own row beside it", () => {
    expect(changeMarkerKey("C-1")).toEqual({ partitionKey: `c|${bucket("C-1", 1024)}`, rowKey: "C-1" });
    expect(changeMarkerKey("C-1", "e/2")).toEqual({ partitionKey: `c|${bucket("C-1", 1024)}`, rowKey: "C-1|e%2F2" });
    expect(cycleRefKey("cyc").partitionKey.startsWith("y|")).toBe(true);
  });

  it("directory: names and ids live in separate partitions, so suggestions read names alone", () => {
    expect(aliasKey("n", "alice zhang").partitionKey.startsWith("n|")).toBe(true);
    expect(aliasKey("g", "alice").partitionKey.startsWith("n|")).toBe(true);
    expect(aliasKey("u", "alice@x.com").partitionKey.startsWith("i|")).toBe(true);
    expect(aliasKey("i", "0000").rowKey).toBe("0000");
  });

  it("counts: one partition per month, one row per day and job, ordered by day then job", () => {
    expect(countKey("Job.1", "2026120113")).toEqual({ partitionKey: "m|202612", rowKey: "20261201|Job.1" });
  });

  it("state and csv parts", () => {
    expect(stateKey("J", "i:x").rowKey).toBe("i:x");
    expect(csvPartKey("C/1", "steps").rowKey).toBe("C%2F1|steps");
  });
});

describe("shards", () => {
  it("names a shard per period (and hash split) and parses it back", () => {
    expect(shardName(SHARDS.events, periodOf(SHARDS.events, "2026-12-01T13:00:00Z"))).toBe("ev20261201");
    expect(shardName(SHARDS.refs, periodOf(SHARDS.refs, "2026-12-01T13:00:00Z"))).toBe("rf202612");
    const ix = shardName(SHARDS.identities, "202612", "i:alice");
    expect(ix).toMatch(/^ix202612h[0-9a-f]{2}$/);
    expect(periodOfName(SHARDS.identities, ix)).toBe("202612");
    expect(periodOfName(SHARDS.events, "ev2026120")).toBeNull();
    expect(periodOfName(SHARDS.events, "events")).toBeNull();
    // Table names: letters and digits, 3 to 63 characters, starting with a letter.
    for (const name of ["ev20261201", "rf202612", ix]) expect(`provbot${name}`).toMatch(/^[A-Za-z][A-Za-z0-9]{2,62}$/);
  });
});

describe("row contents", () => {
  it("hour counters copy into day rows as typed counts, groups apart, error codes that look like prototypes kept; a copy never replaces a newer version", () => {
    const base = sampleEvent();
    const failed = sampleEvent({ status: "failure", errorCode: "__proto__" });
    const failure = { ...failed, action: "create" as const };
    const group = { ...base, action: "update" as const, status: "success" as const, error: null, sourceIdentity: { ...base.sourceIdentity, identityType: "Group" } };
    const first = nextCounter(null, "J", "2026112110", [failure].map(countInputOf));
    const second = nextCounter(readCounter("J", "2026112110", first.properties), "J", "2026112110", [failure, group].map(countInputOf));
    expect(second.snapshot.version).toBe(2);
    const late = nextCounter(null, "J", "2026112123", [group].map(countInputOf));
    const row = copyHours(undefined, [second.snapshot, late.snapshot])!;
    const [hour10, hour23, ...rest] = decodeCounts({ partitionKey: "m|202611", rowKey: "20261121|J", ...row });
    expect(rest).toEqual([]);
    expect(hour10).toMatchObject({ hour: "2026112110", jobKey: "J", total: 3 });
    expect(hour10!.cells).toEqual(expect.arrayContaining([{ action: "create", status: "failure", n: 2, groups: 0 }, { action: "update", status: "success", n: 1, groups: 1 }]));
    expect(hour10!.errors["__proto__"]).toBe(2);
    expect(hour23).toMatchObject({ hour: "2026112123", total: 1, cells: [{ action: "update", status: "success", n: 1, groups: 1 }] });
    // An older version (a slow writer, a replay) changes nothing; the same version again neither.
    expect(copyHours(row, [first.snapshot])).toBeNull();
    expect(copyHours(row, [second.snapshot])).toBeNull();
    // An unreadable row reads as empty, never as a crash.
    expect(decodeCounts({ partitionKey: "m|202611", rowKey: "20261121|J", chunks: 1, p0: new Uint8Array([1, 2, 3]) })).toEqual([]);
  });

  it("jobs keep the earliest first event, the latest last event and the newest names", () => {
    const e = sampleEvent();
    const older = { ...e, activityDateTime: "2026-11-01T00:00:00.000Z", cycleId: "c1", servicePrincipal: { id: "sp", displayName: "Old name" } };
    const newer = { ...e, activityDateTime: "2026-11-02T00:00:00.000Z", cycleId: "c2", servicePrincipal: { id: "sp", displayName: "New name" } };
    const first = nextJobRow("J", null, [newer]);
    const second = nextJobRow("J", first, [older]);
    expect(second).toMatchObject({ firstAt: older.activityDateTime, lastAt: newer.activityDateTime, app: "New name", lastCycleId: "c2" });
    expect(mergeCycles(second["cycles"], []).map(([id]) => id)).toEqual(["c1", "c2"]);
  });
});
