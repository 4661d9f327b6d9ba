import { demoCast } from "./generator";
import { demoLive, type DemoLive } from "./live";
import { DEMO_BOX_STOPPED_HOURS, DEMO_DROPBOX_HELD_HOURS, DEMO_DROPBOX_THRESHOLD, DEMO_FABRIKAM_PAUSED_HOURS, DEMO_WORKDAY_WORKERS, DEMO_ZOOM, demoAppId, demoZoomJob, deterministicId, seededRandom, type DemoJob } from "./tenant";

/**
 * The demo tenant as Microsoft Graph reports its jobs and their audit trail (pure data, served by
 * the loopback Graph emulator that `npm start` runs): service principals, synchronizationJob
 * objects, and Account Provisioning audit records, relative to the demo's `now`:
 * - Box is in quarantine for bad admin credentials (it went quiet five hours ago);
 * - Dropbox is in quarantine for too many deletes: it held back 12 deletions (threshold 10);
 * - Fabrikam cross-tenant sync was paused by an admin;
 * - Zoom, configured a few hours ago, is still in its initial cycle, creating its users one by one
 *   (live.ts); it completes 20 minutes after the demo starts, which raises the "initial cycle
 *   completed" alert;
 * - Workday reads far more workers than Entra holds and over a third of them fail (each failing
 *   worker's latest retry is in the logs): the forecast;
 * - Adobe's scope was changed 14 minutes before its disable storm;
 * - the running jobs' last cycles move with the clock, as their events do (live.ts).
 */
const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

export interface DemoGraph {
  servicePrincipals: { id: string; appId: string; displayName: string }[];
  /** Service principal id -> its jobs as Graph returns them at a given time. */
  jobs: Record<string, (nowMs: number) => Record<string, unknown>[]>;
  audits: Record<string, unknown>[];
  /** The tenant's events after its now (the emulator serves them as the clock reaches them). */
  live: DemoLive;
}

export const ZOOM = { appName: DEMO_ZOOM.appName, template: DEMO_ZOOM.template } as const;

function execution(began: number, minutes: number, counts: { imported: number; exported: number; escrowed?: number }, state = "Succeeded", error: { code: string; message: string } | null = null) {
  return { activityIdentifier: `${began}`, timeBegan: iso(began), timeEnded: iso(began + minutes * MINUTE), state, countImported: counts.imported, countExported: counts.exported, countEscrowed: counts.escrowed ?? 0, countEntitled: 0, error };
}

function job(j: { jobId: string; template: string }, status: Record<string, unknown>, interval = "PT40M", scheduleState = "Active", threshold = 500) {
  return {
    id: j.jobId,
    templateId: j.template,
    schedule: { expiration: null, interval, state: scheduleState },
    status: { escrowsPruned: false, countSuccessiveCompleteFailures: 0, progress: [], quarantine: null, troubleshootingUrl: null, ...status },
    synchronizationJobSettings: [{ name: "QuarantineTooManyDeletesThreshold", value: String(threshold) }],
  };
}

export function demoGraph(demoNow: Date, seed?: number): DemoGraph {
  const { jobs } = demoCast(seed === undefined ? {} : { seed });
  const now = demoNow.getTime();
  const live = demoLive(demoNow, seed);
  const rand = seededRandom(4242);
  const zoom = demoZoomJob();
  // The same random source made Zoom's ids (tenant.ts): step past them.
  deterministicId(rand);
  deterministicId(rand);
  const zoomSp = zoom.servicePrincipalId;
  const zoomJob = zoom.jobId;
  const servicePrincipals = [
    ...jobs.map((j) => ({ id: j.servicePrincipalId, appId: demoAppId(j.servicePrincipalId), displayName: j.appName })),
    { id: zoomSp, appId: demoAppId(zoomSp), displayName: ZOOM.appName },
    // Service principals without provisioning: listed by Graph, with no jobs.
    { id: deterministicId(rand), appId: deterministicId(rand), displayName: "Microsoft Graph Explorer" },
    { id: deterministicId(rand), appId: deterministicId(rand), displayName: "Contoso Expenses" },
  ];
  const steady = iso(now - 40 * 86_400_000);
  const byKey = new Map(jobs.map((j) => [j.key, j]));
  const regular = (j: DemoJob, users: number, groups: number, escrowed = 0) => (t: number) => {
    // The latest cycle that has ended by t (cycles take about four minutes).
    const began = live.lastCycleStart(j.key, t - 5 * MINUTE);
    const last = execution(began, 4, { imported: users + groups, exported: Math.round(users / 20), escrowed }, escrowed ? "EntryLevelErrors" : "Succeeded");
    return [job({ jobId: j.jobId, template: j.jobId.split(".")[0]! }, { code: "Active", lastExecution: last, lastSuccessfulExecution: last, lastSuccessfulExecutionWithExports: last, steadyStateFirstAchievedTime: steady, steadyStateLastAchievedTime: iso(began), synchronizedEntryCountByType: [{ key: "user to user", value: users }, ...(groups ? [{ key: "group to group", value: groups }] : [])] })];
  };
  const out: DemoGraph["jobs"] = {};
  for (const j of jobs) out[j.servicePrincipalId] = regular(j, Math.round(400 * j.scopeShare), j.provisionsGroups ? 20 : 0);

  const box = byKey.get("box")!;
  out[box.servicePrincipalId] = () => {
    const began = now - DEMO_BOX_STOPPED_HOURS * 60 * MINUTE;
    const error = { code: "InvalidCredentials", message: "Failed to authenticate to Box: the admin token was revoked or has expired (HTTP 401 Unauthorized)." };
    return [
      job({ jobId: box.jobId, template: "BoxOutDelta" }, {
        code: "Quarantine",
        countSuccessiveCompleteFailures: 6,
        lastExecution: execution(now - 40 * MINUTE, 1, { imported: 0, exported: 0 }, "Failed", error),
        lastSuccessfulExecution: execution(began - 40 * MINUTE, 5, { imported: 210, exported: 3 }),
        steadyStateFirstAchievedTime: steady,
        synchronizedEntryCountByType: [{ key: "user to user", value: 200 }, { key: "group to group", value: 20 }],
        quarantine: { reason: "EncounteredQuarantineException", currentBegan: iso(now - 40 * MINUTE), nextAttempt: iso(now + 80 * MINUTE), seriesBegan: iso(began), seriesCount: 6, error },
      }),
    ];
  };

  // Dropbox: quarantined for too many deletes since it held back 12 deletions (threshold 10).
  const dropbox = byKey.get("dropbox")!;
  out[dropbox.servicePrincipalId] = () => {
    const held = now - DEMO_DROPBOX_HELD_HOURS * 60 * MINUTE;
    const last = execution(held, 2, { imported: 300, exported: 0 }, "Quarantined");
    return [
      job({ jobId: dropbox.jobId, template: "DropboxSCIMOutDelta" }, {
        code: "Quarantine",
        lastExecution: last,
        lastSuccessfulExecution: execution(held - 40 * MINUTE, 4, { imported: 300, exported: 5 }),
        steadyStateFirstAchievedTime: steady,
        synchronizedEntryCountByType: [{ key: "user to user", value: 280 }, { key: "group to group", value: 20 }],
        quarantine: { reason: "TooManyDeletes", currentBegan: iso(held), nextAttempt: null, seriesBegan: iso(held), seriesCount: 1, error: { code: "TooManyDeletes", message: `The job would delete more objects than its accidental-deletion threshold (${DEMO_DROPBOX_THRESHOLD}) allows.` } },
      }, "PT40M", "Active", DEMO_DROPBOX_THRESHOLD),
    ];
  };

  const fabrikam = byKey.get("fabrikam")!;
  out[fabrikam.servicePrincipalId] = () => {
    const last = execution(now - 6 * 60 * MINUTE, 3, { imported: 120, exported: 2 });
    return [job({ jobId: fabrikam.jobId, template: "Azure2Azure" }, { code: "Paused", lastExecution: last, lastSuccessfulExecution: last, steadyStateFirstAchievedTime: steady, synchronizedEntryCountByType: [{ key: "user to user", value: 120 }] }, "PT40M", "Disabled")];
  };

  const workday = byKey.get("workday")!;
  out[workday.servicePrincipalId] = (t) => {
    const last = execution(live.lastCycleStart(workday.key, t - 13 * MINUTE), 12, { imported: DEMO_WORKDAY_WORKERS, exported: 260, escrowed: live.workdayFailing }, "EntryLevelErrors");
    return [job({ jobId: workday.jobId, template: "Workday2AD" }, { code: "Active", lastExecution: last, lastSuccessfulExecution: last, steadyStateFirstAchievedTime: steady, synchronizedEntryCountByType: [{ key: "worker to user", value: DEMO_WORKDAY_WORKERS }] })];
  };

  // Zoom: configured four hours before the demo's now; its initial cycle completes 20 minutes after
  // it. Every figure is the count of its create events so far (live.ts).
  out[zoomSp] = (t) => {
    const p = live.zoomProgress(t);
    const last = execution(Math.min(t, p.doneAt) - 10 * MINUTE, 10, { imported: p.created, exported: p.created });
    return [
      job({ jobId: zoomJob, template: ZOOM.template }, {
        code: "Active",
        lastExecution: last,
        lastSuccessfulExecution: last,
        steadyStateFirstAchievedTime: p.done ? iso(p.doneAt) : "0001-01-01T00:00:00Z",
        progress: p.done ? [] : [{ completedUnits: p.created, totalUnits: p.inScope, progressObservationDateTime: iso(t) }],
        synchronizedEntryCountByType: [{ key: "user to user", value: p.created }],
      }),
    ];
  };

  const adobe = byKey.get("adobe")!;
  const aws = byKey.get("aws")!;
  const salesforce = byKey.get("salesforce")!;
  const target = (j: { servicePrincipalId: string; appName: string }, modifiedProperties: unknown[] = []) => [{ id: j.servicePrincipalId, displayName: j.appName, type: "ServicePrincipal", modifiedProperties }];
  const audit = (id: string, at: number, activity: string, by: string | null, targets: unknown[], details: { key: string; value: string }[] = [], result = "success") => ({
    id: `demo-audit-${id}`,
    category: "ProvisioningManagement",
    correlationId: deterministicId(rand),
    loggedByService: "Account Provisioning",
    activityDateTime: iso(at),
    activityDisplayName: activity,
    operationType: "Update",
    result,
    resultReason: "",
    initiatedBy: by ? { user: { id: deterministicId(rand), userPrincipalName: by, displayName: by.split("@")[0] } } : { app: { displayName: "Azure AD Provisioning Service" } },
    targetResources: targets,
    additionalDetails: details,
  });
  const audits = [
    // 14 minutes before the first disable of Adobe's storm (20 minutes before now).
    audit("adobe-scope", now - 34 * MINUTE, "Update attribute mappings or scope", "bob.li@contoso.com", target(adobe, [{ displayName: "ScopingFilter", oldValue: '"department EQUALS Marketing OR Design"', newValue: '"department EQUALS Marketing"' }])),
    audit("fabrikam-pause", now - DEMO_FABRIKAM_PAUSED_HOURS * 60 * MINUTE, "Disable/pause provisioning", "carol.okafor@contoso.com", target(fabrikam)),
    audit("dropbox-quarantine", now - DEMO_DROPBOX_HELD_HOURS * 60 * MINUTE, "Quarantine", null, target(dropbox), [{ key: "Reason", value: "TooManyDeletes" }]),
    audit("box-quarantine", now - DEMO_BOX_STOPPED_HOURS * 60 * MINUTE, "Quarantine", null, target(box), [{ key: "Reason", value: "EncounteredQuarantineException" }]),
    audit("salesforce-settings", now - 3 * 86_400_000, "Update provisioning setting or credentials", "alice.zhang@contoso.com", target(salesforce, [{ displayName: "NotificationEmail", oldValue: '""', newValue: '"identity-team@contoso.com"' }])),
    audit("aws-import", now - 2 * 60 * MINUTE, "Import", null, target(aws), [{ key: "EntryType", value: "Role" }, { key: "Imported", value: "14 roles (AWSReservedSSO_*)" }, { key: "JobId", value: aws.jobId }]),
    audit("zoom-add", now - 4 * 60 * MINUTE - 5 * MINUTE, "Add provisioning configuration", "alice.zhang@contoso.com", target({ servicePrincipalId: zoomSp, appName: ZOOM.appName })),
    audit("zoom-start", now - 4 * 60 * MINUTE, "Enable/start provisioning", "alice.zhang@contoso.com", target({ servicePrincipalId: zoomSp, appName: ZOOM.appName })),
  ];
  return { servicePrincipals, jobs: out, audits, live };
}
