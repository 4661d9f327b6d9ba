import { describe, expect, it } from "vitest";
import { generateDemo } from "../../src/core/demo/generator";
import { normaliseRecord } from "../../src/core/ingest/normalise";
import { appName, identityLabel, skipReason, type ProvisioningEvent } from "../../src/core/event";
import { appIds, eventPortalUrl } from "../../src/core/portalLinks";
import { demoGraph } from "../../src/core/demo/health";
import fc from "fast-check";
import { DEFAULT_THRESHOLDS } from "../../src/core/alerts/rules";

const NOW = new Date("2026-11-22T12:00:00Z");
const events = (): ProvisioningEvent[] =>
  [...generateDemo({ now: NOW })].map((r) => {
    const n = normaliseRecord(r);
    if (n.kind !== "event") throw new Error(`demo record did not normalise: ${n.kind === "rejected" ? n.reason : n.kind}`);
    return n.event;
  });

describe("demo tenant generator", () => {
  const all = events();

  it("carries what real records carry: every event's app side names its application id, so the admin center link is built for every demo job (issue 25, item 12)", () => {
    const byJob = new Map<string, Set<string>>();
    for (const e of all) {
      const ids = appIds(e);
      expect(ids.appId, `${e.jobId}`).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(ids.servicePrincipalId).toBe(e.servicePrincipal.id);
      expect(eventPortalUrl(e)).toContain(`/appId/${ids.appId}/objectId/${e.servicePrincipal.id}`);
      byJob.set(e.jobId, (byJob.get(e.jobId) ?? new Set()).add(ids.appId));
    }
    // One application per job, and the service principal list of the job-status demo agrees.
    for (const ids of byJob.values()) expect(ids.size).toBe(1);
    const sps = new Map(demoGraph(NOW).servicePrincipals.map((s) => [s.id, s.appId]));
    for (const e of all) expect(sps.get(e.servicePrincipal.id)).toBe(appIds(e).appId);
  });

  it("tells one story with its job status and audit trail (issue 25, item 14): a paused job logs nothing after its pause, a stopped job nothing after it stopped, and disables blamed on a scope change fail the scoping filter", () => {
    const graph = demoGraph(NOW);
    const auditAt = (id: string) => graph.audits.find((a) => String(a["id"]).includes(id))!["activityDateTime"] as string;
    const spOf = (name: RegExp) => graph.servicePrincipals.find((s) => name.test(s.displayName))!.id;
    const paused = auditAt("fabrikam-pause");
    const fabrikam = all.filter((e) => e.servicePrincipal.id === spOf(/Fabrikam/));
    expect(fabrikam.length).toBeGreaterThan(0);
    expect(fabrikam.filter((e) => e.activityDateTime > paused)).toEqual([]);
    const quarantined = auditAt("box-quarantine");
    expect(all.filter((e) => e.servicePrincipal.id === spOf(/^Box$/) && e.activityDateTime > quarantined)).toEqual([]);
    const scopeChange = auditAt("adobe-scope");
    const storm = all.filter((e) => e.servicePrincipal.id === spOf(/Adobe/) && e.action === "disable" && e.activityDateTime > scopeChange);
    expect(storm.length).toBeGreaterThanOrEqual(20);
    for (const e of storm) {
      const scoping = e.steps.find((st) => st.type === "scoping")!;
      expect(scoping.details["Scoping filter evaluation passed"]).toBe("False");
      expect(scoping.details["Active in the source system"]).toBe("True");
    }
  });

  it("is deterministic for a seed and a time", () => {
    const again = [...generateDemo({ now: NOW })];
    const first = [...generateDemo({ now: NOW })];
    expect(again).toEqual(first);
    expect([...generateDemo({ now: NOW, seed: 7 })][0]).not.toEqual(first[0]);
  });

  it("produces thousands of events with unique ids, all within the window", () => {
    expect(all.length).toBeGreaterThan(5000);
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    const from = NOW.getTime() - 7 * 86_400_000;
    expect(all.every((e) => Date.parse(e.activityDateTime) >= from && Date.parse(e.activityDateTime) <= NOW.getTime())).toBe(true);
  });

  it("covers outbound gallery apps, a SCIM custom app, Workday inbound and cross-tenant sync", () => {
    const apps = new Set(all.map(appName));
    for (const app of ["ServiceNow", "Adobe Identity Management", "Salesforce", "Dropbox Business", "AWS IAM Identity Center", "Box", "Contoso HR Portal", "Workday to Active Directory User Provisioning", "Fabrikam (cross-tenant sync)"]) {
      expect(apps).toContain(app);
    }
    const workday = all.find((e) => appName(e).startsWith("Workday"))!;
    expect(workday.sourceSystem.displayName).toBe("Workday");
    expect(workday.targetSystem.displayName).toBe("Active Directory");
    expect(all.find((e) => appName(e) === "Contoso HR Portal")!.targetSystem.displayName).toBe("customappsso");
  });

  it("has every outcome, with steps that match it", () => {
    const kinds = new Set(all.map((e) => `${e.action}/${e.status}`));
    for (const k of ["create/success", "update/success", "other/skipped", "create/skipped", "create/failure", "update/failure", "disable/success", "delete/success", "stagedDelete/skipped"]) expect(kinds).toContain(k);
    const failure = all.find((e) => e.status === "failure")!;
    expect(failure.steps.at(-1)).toMatchObject({ type: "export", status: "failure" });
    expect(failure.error?.code).toBeTruthy();
    const outOfScope = all.find((e) => skipReason(e) === "NotEffectivelyEntitled")!;
    expect(outOfScope.steps.find((s) => s.type === "scoping")?.details["Assigned to the application"]).toBe("False");
  });

  it("mines retry facts from its reason texts", () => {
    const retrying = all.find((e) => e.error?.retryCount !== null && e.error?.retryCount !== undefined)!;
    expect(retrying.error?.nextRetryAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it("contains the recent incidents: a ServiceNow failure spike, an Adobe disable storm, Dropbox staged deletes, Box gone quiet", () => {
    const recent = (minutes: number) => all.filter((e) => Date.parse(e.activityDateTime) > NOW.getTime() - minutes * 60_000);
    expect(recent(90).filter((e) => appName(e) === "ServiceNow" && e.status === "failure").length).toBeGreaterThanOrEqual(30);
    const storm = recent(60).filter((e) => appName(e) === "Adobe Identity Management" && e.action === "disable");
    expect(storm.length).toBeGreaterThanOrEqual(40);
    expect(new Set(storm.map((e) => e.cycleId)).size).toBeLessThanOrEqual(2);
    expect(recent(200).filter((e) => e.action === "stagedDelete").length).toBeGreaterThanOrEqual(10);
    expect(recent(5 * 60 - 1).filter((e) => appName(e) === "Box")).toHaveLength(0);
  });

  it("has the people the examples ask about", () => {
    const aliceFailures = all.filter((e) => identityLabel(e) === "alice.zhang@contoso.com" && appName(e) === "ServiceNow" && e.status === "failure");
    expect(aliceFailures.length).toBeGreaterThanOrEqual(1);
    expect(all.some((e) => identityLabel(e) === "bob.li@contoso.com" && appName(e) === "Salesforce" && e.status === "skipped")).toBe(true);
    expect(all.some((e) => identityLabel(e) === "carol.okafor@contoso.com" && appName(e) === "Dropbox Business" && e.status === "failure")).toBe(true);
    expect(all.some((e) => identityLabel(e) === "alice.martin@contoso.com")).toBe(true);
  });

  it("scales with perCycle (the incidents and the Workday backlog are fixed in size)", () => {
    const bigger = [...generateDemo({ now: NOW, perCycle: 9, days: 2, incidents: false })].length;
    const smaller = [...generateDemo({ now: NOW, perCycle: 3, days: 2, incidents: false })].length;
    expect(bigger).toBeGreaterThan(smaller * 2);
  });
});

describe("one consistent story per identity and app (issue 10, item 11)", () => {
  const records = [...generateDemo({ now: new Date("2026-11-22T12:00:00Z"), days: 7, perCycle: 3 })];
  type R = { activityDateTime: string; jobId: string; provisioningAction: string; sourceIdentity: { id: string }; targetIdentity: { id: string }; provisioningStatusInfo: { status: string; errorInformation: { reason: string } | null } };
  const byObject = new Map<string, R[]>();
  for (const r of records as unknown as R[]) {
    const k = `${r.jobId}|${r.sourceIdentity.id}`;
    byObject.set(k, [...(byObject.get(k) ?? []), r]);
  }

  it("nothing happens to an object in an app after it was deleted there", () => {
    const bad: string[] = [];
    for (const [k, list] of byObject) {
      const sorted = [...list].sort((a, b) => a.activityDateTime.localeCompare(b.activityDateTime));
      const del = sorted.findIndex((r) => r.provisioningAction === "delete" && r.provisioningStatusInfo.status === "success");
      if (del >= 0 && del < sorted.length - 1) bad.push(`${k}: ${sorted.slice(del).map((r) => r.provisioningAction).join(" → ")}`);
    }
    expect(bad).toEqual([]);
  });

  it("nothing is created twice in one app", () => {
    const bad: string[] = [];
    for (const [k, list] of byObject) {
      const actions = [...list].sort((a, b) => a.activityDateTime.localeCompare(b.activityDateTime)).filter((r) => r.provisioningStatusInfo.status === "success").map((r) => r.provisioningAction);
      if (actions.filter((a) => a === "create").length > 1) bad.push(`${k}: created twice`);
    }
    expect(bad).toEqual([]);
  });

  it("an update or disable of an object that exists in the app carries its target id", () => {
    const missing = (records as unknown as R[]).filter((r) => ["update", "disable", "delete"].includes(r.provisioningAction) && r.provisioningStatusInfo.status !== "skipped" && !r.targetIdentity.id);
    expect(missing.length).toBe(0);
  });

  it("a failed create never says it could not update", () => {
    const wrong = (records as unknown as R[]).filter((r) => r.provisioningAction === "create" && /\bto update\b/i.test(r.provisioningStatusInfo.errorInformation?.reason ?? ""));
    expect(wrong).toEqual([]);
  });
});

describe("the demo tenant keeps running with the clock (issue 25, items 13 and 14)", () => {
  const graph = demoGraph(NOW);
  const live = graph.live;
  const normalise = (records: Record<string, unknown>[]) =>
    records.map((r) => {
      const n = normaliseRecord(r);
      if (n.kind !== "event") throw new Error(`live record did not normalise: ${n.kind === "rejected" ? n.reason : n.kind}`);
      return n.event;
    });
  const history = normalise([...generateDemo({ now: NOW })]);
  const spOf = (name: RegExp) => graph.servicePrincipals.find((s) => name.test(s.displayName))!.id;
  const jobOf = (name: RegExp, t: number) => graph.jobs[spOf(name)]!(t)[0] as { status: Record<string, unknown> & { lastExecution: Record<string, number | string>; synchronizedEntryCountByType: { value: number }[]; progress: { completedUnits: number; totalUnits: number }[] } };
  const H = 3_600_000;
  const t0 = NOW.getTime();

  it("a range always gives the same records, and splitting it anywhere gives the same records in two parts (re-reads store nothing twice)", () => {
    fc.assert(
      fc.property(fc.integer({ min: -5 * H, max: 30 * H }), fc.integer({ min: 1, max: 6 * H }), fc.double({ min: 0, max: 1, noNaN: true }), (from, length, cut) => {
        const a = t0 + from;
        const b = a + length;
        const m = Math.floor(a + (b - a) * cut);
        const whole = live.between(a, b);
        expect(live.between(a, b)).toEqual(whole);
        expect([...live.between(a, m), ...live.between(m, b)].map((r) => r["id"])).toEqual(whole.map((r) => r["id"]));
        for (const r of whole) expect(Date.parse(String(r["activityDateTime"]))).toBeGreaterThan(a);
      }),
      { numRuns: 40 },
    );
    const day = normalise(live.between(t0 - 5 * H, t0 + 24 * H));
    expect(new Set(day.map((e) => e.id)).size).toBe(day.length);
    const historyIds = new Set(history.map((e) => e.id));
    expect(day.filter((e) => historyIds.has(e.id))).toEqual([]);
  });

  it("the ServiceNow spike stays above the alert threshold at any time after the start, and the paused and quarantined jobs stay silent", () => {
    const servicenow = spOf(/^ServiceNow$/);
    const perWindow = (t: number) => normalise(live.between(t - 30 * 60_000, t)).filter((e) => e.servicePrincipal.id === servicenow && e.status === "failure").length;
    // The usual failures per 30 minutes in the week before the spike.
    const before = history.filter((e) => e.servicePrincipal.id === servicenow && e.status === "failure" && Date.parse(e.activityDateTime) < t0 - 90 * 60_000).length / (7 * 48);
    fc.assert(
      fc.property(fc.integer({ min: 30 * 60_000, max: 48 * H }), (after) => {
        const n = perWindow(t0 + after);
        expect(n).toBeGreaterThanOrEqual(DEFAULT_THRESHOLDS.failureMin);
        expect(n).toBeGreaterThanOrEqual(DEFAULT_THRESHOLDS.failureMultiple * before);
      }),
      { numRuns: 25 },
    );
    const later = normalise(live.between(t0, t0 + 12 * H));
    expect(later.filter((e) => [spOf(/Fabrikam/), spOf(/^Box$/), spOf(/^Dropbox/)].includes(e.servicePrincipal.id))).toEqual([]);
  });

  it("every running job's last cycle on its status has its events in the logs, whenever it is read", () => {
    fc.assert(
      fc.property(fc.integer({ min: 10 * 60_000, max: 24 * H }), (after) => {
        const t = t0 + after;
        const events = normalise(live.between(t0, t));
        for (const name of [/^ServiceNow$/, /Adobe/, /Salesforce/, /AWS/, /Contoso HR/]) {
          const began = Date.parse(String(jobOf(name, t).status.lastExecution["timeBegan"]));
          expect(began).toBeLessThanOrEqual(t);
          if (began < t0) continue;
          const inCycle = events.filter((e) => e.servicePrincipal.id === spOf(name) && Math.abs(Date.parse(e.activityDateTime) - began) < 2 * 60_000);
          expect(inCycle.length, `${name} at +${after} ms`).toBeGreaterThan(0);
        }
      }),
      { numRuns: 20 },
    );
  });

  it("Dropbox's quarantine for too many deletes is its held-back deletions: more than its threshold, nothing logged after them (issue 26: Allow deletes)", () => {
    const s = jobOf(/^Dropbox/, t0).status as unknown as { code: string; quarantine: { reason: string; currentBegan: string } };
    expect(s.code).toBe("Quarantine");
    expect(s.quarantine.reason).toBe("TooManyDeletes");
    const threshold = Number(((graph.jobs[spOf(/^Dropbox/)]!(t0)[0] as { synchronizationJobSettings: { name: string; value: string }[] }).synchronizationJobSettings.find((x) => x.name === "QuarantineTooManyDeletesThreshold"))!.value);
    const dropbox = history.filter((e) => e.servicePrincipal.id === spOf(/^Dropbox/));
    const held = dropbox.filter((e) => e.action === "stagedDelete");
    expect(held.length).toBeGreaterThan(threshold);
    const began = Date.parse(s.quarantine.currentBegan);
    expect(dropbox.filter((e) => Date.parse(e.activityDateTime) > began + 60_000)).toEqual([]);
    expect(held.every((e) => Math.abs(Date.parse(e.activityDateTime) - began) < 5 * 60_000)).toBe(true);
  });

  it("Zoom's figures are the count of its create events at any time of its initial cycle, and it completes with every user in scope created", () => {
    const zoom = spOf(/^Zoom$/);
    const all = normalise(live.between(t0 - 10 * H, t0 + 10 * H)).filter((e) => e.servicePrincipal.id === zoom);
    expect(all.length).toBeGreaterThan(100);
    expect(all.every((e) => e.action === "create" && e.status === "success")).toBe(true);
    expect(new Set(all.map((e) => e.sourceIdentity.id)).size).toBe(all.length);
    fc.assert(
      fc.property(fc.integer({ min: -4 * H, max: 2 * H }), (after) => {
        const t = t0 + after;
        const created = all.filter((e) => Date.parse(e.activityDateTime) <= t).length;
        const s = jobOf(/^Zoom$/, t).status;
        expect(s.synchronizedEntryCountByType[0]!.value).toBe(created);
        expect(s.lastExecution["countExported"]).toBe(created);
        if (s.progress.length) expect(s.progress[0]).toMatchObject({ completedUnits: created, totalUnits: all.length });
        else expect(created).toBe(all.length);
      }),
      // Also just before, at and half a second after a create: a record's time is written to the second.
      { numRuns: 30, examples: all.filter((_, i) => i % 40 === 0).flatMap((e) => [-1, 0, 500].map((d) => [Date.parse(e.activityDateTime) - t0 + d] as [number])) },
    );
    // Alice Zhang is created last, at the very end of the cycle.
    expect(all.at(-1)!.sourceIdentity.displayName).toBe("Alice Zhang");
  });

  it("Workday's failing objects on its status are the objects whose latest event failed, in the history and as the clock runs", () => {
    const workday = spOf(/^Workday/);
    const failing = (events: ProvisioningEvent[]) => {
      const latest = new Map<string, ProvisioningEvent>();
      for (const e of events.filter((x) => x.servicePrincipal.id === workday).sort((a, b) => a.activityDateTime.localeCompare(b.activityDateTime))) latest.set(e.sourceIdentity.id, e);
      return [...latest.values()].filter((e) => e.status === "failure").length;
    };
    const escrowed = (t: number) => jobOf(/^Workday/, t).status.lastExecution["countEscrowed"];
    expect(failing(history)).toBe(escrowed(t0));
    expect(failing([...history, ...normalise(live.between(t0, t0 + 9 * H))])).toBe(escrowed(t0 + 9 * H));
    // Enough to be heading for quarantine (Entra evaluates escrows from 5,000), and far more than the 400 Entra users.
    expect(escrowed(t0)).toBeGreaterThanOrEqual(0.75 * 5_000);
  });
});
