import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableQueryStore } from "../../src/adapters/tables/queryStore";
import { jobKey } from "../../src/adapters/tables/keys";
import { canonicalIdentityKey } from "../../src/core/identityKeys";
import type { ProvisioningEvent } from "../../src/core/event";
import type { EventRow, ListQuery, QueryStore } from "../../src/app/queryPorts";
import { MemoryStore } from "../support/memoryStore";
import { sampleEvent } from "../support/records";
import { testTables } from "../support/tables";

/**
 * Contract: the in-memory fake of the storage ports (test/support/memoryStore.ts) and the real
 * Table Storage adapters on Azurite answer every query alike, for random event sets spread over
 * days and months (so over several time shards) and random queries. Use-case tests may then run
 * on the fake; this suite is the proof that it tells the truth.
 */
const { factory } = testTables();
const tableStore = new TableEventStore(factory);
const tableQuery = new TableQueryStore(tableStore);
const RUNS = Number(process.env["PROVBOT_PROPERTY_RUNS"] ?? 12);
const START = Date.parse("2026-10-20T00:00:00Z");
const SPAN_MS = 20 * 86_400_000; // across a month end: several day shards and two month shards

const eventSpec = fc.record({
  job: fc.nat(2),
  user: fc.nat(4),
  group: fc.boolean(),
  offsetMin: fc.nat(Math.floor(SPAN_MS / 60_000)),
  action: fc.constantFrom("create", "update", "delete", "disable", "stagedDelete"),
  status: fc.constantFrom("success", "failure", "skipped"),
  code: fc.constantFrom("ErrA", "ErrB"),
  cycle: fc.nat(3),
});

const querySpec = fc.record({
  fromMin: fc.nat(Math.floor(SPAN_MS / 60_000)),
  spanMin: fc.integer({ min: 30, max: Math.floor(SPAN_MS / 60_000) }),
  status: fc.option(fc.constantFrom("success", "failure", "skipped"), { nil: undefined }),
  actions: fc.option(fc.subarray(["create", "update", "delete", "disable", "stagedDelete"] as const, { minLength: 1 }), { nil: undefined }),
  identityType: fc.option(fc.constantFrom("User", "Group"), { nil: undefined }),
  limit: fc.integer({ min: 1, max: 12 }),
  offset: fc.nat(15),
  jobs: fc.subarray([0, 1, 2], { minLength: 1 }),
});

type QuerySpec = typeof querySpec extends fc.Arbitrary<infer T> ? T : never;
const view = (rows: EventRow[]) => rows.map((r) => `${r.at} ${r.jobKey} ${r.action} ${r.status} ${r.changeId} ${r.identityType} ${r.errorCode}`);
const iso = (ms: number) => new Date(ms).toISOString();
let run = 0;

async function compare(a: QueryStore, b: QueryStore, events: ProvisioningEvent[], jobs: string[], q: QuerySpec): Promise<void> {
  const from = iso(START + q.fromMin * 60_000);
  const to = iso(START + (q.fromMin + q.spanMin) * 60_000);
  const list: ListQuery = { jobKeys: q.jobs.map((j) => jobs[j]!), from, to, status: q.status, actions: q.actions ? [...q.actions] : undefined, identityType: q.identityType, limit: q.limit, offset: q.offset };
  const [la, lb] = await Promise.all([a.listEvents(list), b.listEvents(list)]);
  expect(view(la.rows), "listEvents rows").toEqual(view(lb.rows));
  expect({ more: la.more, total: la.total, exact: la.exact }).toEqual({ more: lb.more, total: lb.total, exact: lb.exact });
  expect(await a.countEvents(list)).toEqual(await b.countEvents(list));
  const sortCounts = (cs: Awaited<ReturnType<QueryStore["counts"]>>) => cs.map((c) => `${c.jobKey} ${c.hour} ${c.total} ${c.cells.map((x) => `${x.action}/${x.status}/${x.n}/${x.groups}`).sort().join(",")} ${JSON.stringify(Object.entries(c.errors).sort())}`).sort();
  expect(sortCounts(await a.counts(list.jobKeys, from, to))).toEqual(sortCounts(await b.counts(list.jobKeys, from, to)));
  expect(view(await a.windowEvents(jobs[q.jobs[0]!]!, from, to, 50))).toEqual(view(await b.windowEvents(jobs[q.jobs[0]!]!, from, to, 50)));
  for (const e of events.slice(0, 4)) {
    const key = canonicalIdentityKey(e);
    expect(view(await a.identityEvents(key, from, to, 20)), "identityEvents").toEqual(view(await b.identityEvents(key, from, to, 20)));
    const state = async (s: QueryStore) => (await s.lastKnownState(key, jobKey(e.jobId, ""), iso(START + SPAN_MS))) ?? null;
    const [sa, sb] = [await state(a), await state(b)];
    expect(sa && `${sa.at} ${sa.action} ${sa.status}`).toEqual(sb && `${sb.at} ${sb.action} ${sb.status}`);
    expect((await a.getByChangeId(e.changeId)).map((x) => x.id)).toEqual((await b.getByChangeId(e.changeId)).map((x) => x.id));
    // A cycle names its job and the time of one of its events (which one is the store's choice).
    const [ca, cb] = [await a.cycle(e.cycleId), await b.cycle(e.cycleId)];
    expect(ca?.jobKey).toEqual(cb?.jobKey);
    expect(events.filter((x) => x.cycleId === e.cycleId).map((x) => x.activityDateTime)).toContain(ca?.at);
    expect((await a.findIdentities(e.sourceIdentity.displayName)).map((c) => c.identityKey).sort()).toEqual((await b.findIdentities(e.sourceIdentity.displayName)).map((c) => c.identityKey).sort());
  }
}

describe("the in-memory storage fake and the Table Storage adapters (contract, property)", () => {
  it("answer every query alike over random events across shards", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eventSpec, { minLength: 1, maxLength: 40 }), fc.array(querySpec, { minLength: 1, maxLength: 4 }), async (specs, queries) => {
        const tag = `k${++run}${Date.now().toString(36)}`;
        const jobs = [0, 1, 2].map((j) => `Contract${j}.${tag}`);
        const events = specs.map((s, n) => {
          const e = sampleEvent({ jobId: jobs[s.job]!, app: `App${s.job}`, at: iso(START + s.offsetMin * 60_000), user: s.user, action: s.action, status: s.status, errorCode: s.status === "failure" ? s.code : undefined, cycleId: `${tag}-cyc-${s.job}-${s.cycle}`, id: `${tag}-e${n}` });
          const name = `Person ${s.user} ${tag}`;
          return { ...e, changeId: `${tag}-chg-${n}`, sourceIdentity: { ...e.sourceIdentity, id: `${tag}-obj-${s.user}`, displayName: name, identityType: s.group ? "Group" : "User" } };
        });
        const memory = new MemoryStore();
        // Twice, in two batches: redelivery must be harmless in both.
        for (const store of [tableStore, memory]) {
          await store.write(events.slice(0, Math.ceil(events.length / 2)));
          await store.write(events);
        }
        for (const q of queries) await compare(tableQuery, memory, events, jobs.map((j) => jobKey(j, "")), q);
      }),
      { numRuns: RUNS },
    );
  }, 240_000);
});
