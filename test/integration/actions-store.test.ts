import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { TableActionStore } from "../../src/adapters/tables/actionsTable";
import type { ActionRecord, PendingAction } from "../../src/core/actions";
import { testTables } from "../support/tables";

/**
 * Issue 26's storage on Azurite: a confirmation moves on once (of two presses at the same moment,
 * exactly one wins), the action log keeps any text it is given and lists newest first, and
 * retention drops old days and expired confirmations only.
 */
const pending = (token: string, over: Partial<PendingAction> = {}): PendingAction => ({
  kind: "restart", jobKey: "k", jobId: "j", servicePrincipalId: "sp", app: "Box", tenantId: "t", token, userObjectId: "u", userName: "U", conversationId: "c",
  createdAt: "2026-12-01T10:00:00.000Z", expiresAt: "2026-12-01T10:10:00.000Z", stage: 1, state: "pending", ...over,
});
const record = (at: string, over: Partial<ActionRecord> = {}): ActionRecord => ({
  at, kind: "pause", outcome: "done", userObjectId: "u", userName: "U", app: "Box", jobId: "j", servicePrincipalId: "sp", tenantId: "t", subject: "", detail: "HTTP 204", conversationId: "c", ...over,
});

describe("the job actions' table", () => {
  it("of presses at the same moment on one confirmation, exactly one moves it on", async () => {
    const store = new TableActionStore(testTables().factory);
    for (let round = 0; round < 5; round++) {
      const token = `race-token-${round}-abcdef`;
      await store.putPending(pending(token));
      const reads = await Promise.all(Array.from({ length: 4 }, () => store.getPending(token)));
      const wins = await Promise.all(reads.map((r) => store.settle(token, r!.etag, { ...r!.pending, state: "used" })));
      expect(wins.filter(Boolean)).toHaveLength(1);
      expect((await store.getPending(token))!.pending.state).toBe("used");
    }
    // Not a token: never reaches a key.
    expect(await store.getPending("' or PartitionKey ne '")).toBeNull();
    expect(await store.getPending("no-such-token-123")).toBeNull();
  });

  it("keeps any text of an action in its log (clipped, never refused) and lists the week newest first", async () => {
    const store = new TableActionStore(testTables().factory);
    const texts = fc.sample(fc.string({ unit: "grapheme", minLength: 0, maxLength: 3000 }), 12);
    const base = Date.parse("2026-12-01T00:00:00.000Z");
    for (const [i, t] of texts.entries()) await store.record(record(new Date(base + i * 3_600_000 * 7).toISOString(), { userName: t, app: t, detail: t }));
    const listed = await store.recent("2026-11-30T00:00:00.000Z", 100);
    expect(listed).toHaveLength(texts.length);
    expect(listed.map((r) => r.at)).toEqual([...listed.map((r) => r.at)].sort().reverse());
    for (const r of listed) expect(r.userName.length).toBeLessThanOrEqual(1000);
    expect(await store.recent("2026-12-02T00:00:00.000Z", 100)).toHaveLength(listed.filter((r) => r.at >= "2026-12-02T00:00:00.000Z").length);
  });

  it("retention drops the days before the cutoff and the confirmations that expired before it, and nothing else", async () => {
    const store = new TableActionStore(testTables().factory);
    await store.record(record("2026-10-01T10:00:00.000Z"));
    await store.record(record("2026-12-01T10:00:00.000Z"));
    await store.putPending(pending("old-token-abcdefgh", { expiresAt: "2026-10-01T10:10:00.000Z" }));
    await store.putPending(pending("new-token-abcdefgh", { expiresAt: "2026-12-01T10:10:00.000Z" }));
    expect(await store.purgeBefore("2026-11-01T00:00:00.000Z")).toBe(2);
    expect((await store.recent("2026-01-01T00:00:00.000Z", 10)).map((r) => r.at)).toEqual(["2026-12-01T10:00:00.000Z"]);
    expect(await store.getPending("old-token-abcdefgh")).toBeNull();
    expect(await store.getPending("new-token-abcdefgh")).not.toBeNull();
  });
});
