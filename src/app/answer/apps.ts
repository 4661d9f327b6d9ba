import { kindsForStatus } from "../../core/actions";
import { sumCells } from "../../core/counts";
import { dayLabel, minuteLabel } from "../../core/timeBuckets";
import { type TimeRange } from "../../core/ask/timeRange";
import { info, stats, type Answer } from "../../core/ask/views";
import { remedyFor, retryText } from "../../core/remediation";
import type { JobInfo } from "../queryPorts";
import { plural } from "../../core/text";
import { DEFAULT_THRESHOLDS, usualCycleMinutes } from "../../core/alerts/rules";
import { AUDIT_KIND_WORDS, CONFIG_KINDS } from "../../core/jobs/audit";
import { initialCycleComplete, initialCycleText, inScopeText, quarantineText, scheduleText, severity, stateWord } from "../../core/jobs/report";
import { intervalMinutes } from "../../core/jobs/status";
import { type AnswerDeps, ask, jobsFor, appOrAsk, isAnswer, codeAndFix, portalOf, jobName, appScope, scopedCounts, DAY_MS, ago, statusesOf, NO_STATUS, auditsOf, auditLine, statusVerdict, statusFacts } from "./common";

/** Questions about apps and jobs: top errors, activity, error codes, health, job status, configuration changes, quarantine history, role imports. */

/** "What does X mean?": the catalogue's cause, fix and retry, and where the code was seen this week. */
export async function answerExplain(code: string, deps: AnswerDeps, now: string): Promise<Answer> {
  const r = remedyFor(code, null, null);
  const from = new Date(Date.parse(now) - 7 * 86_400_000).toISOString();
  const [jobs, counts] = await Promise.all([deps.store.jobs(), deps.store.counts(null, from, now)]);
  const byApp = new Map<string, number>();
  for (const c of counts) {
    const n = Object.hasOwn(c.errors, code) ? c.errors[code]! : 0;
    const app = jobName(c.jobKey, jobs);
    if (n > 0) byApp.set(app, (byApp.get(app) ?? 0) + n);
  }
  const seen = [...byApp.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const facts = [
    { title: "Cause", value: r.cause },
    { title: "What to do", value: r.fix },
    { title: "Retry", value: retryText(r.retry, null) },
    ...(r.base ? [{ title: "Base code", value: `${r.base} (the app's name is in front of it)` }] : []),
    { title: "Seen in the last 7 days", value: seen.length ? seen.map(([app, n]) => `${plural(n, "failure")} in ${app}`).join(", ") : "not in the stored events" },
  ];
  const known = r.source === "catalogue" || r.source === "pattern";
  return info(`${code}${known ? "" : " (not in the catalogue)"}`, known ? "What this provisioning error means, and what to do about it." : "provbot's catalogue does not have this code; this is the general guidance.", facts, seen.slice(0, 3).map(([app]) => ask(`Failures in ${app}`.slice(0, 60), `failures with ${code} in ${app}`)));
}

export async function answerTopErrors(appPhrase: string | null, range: TimeRange, deps: AnswerDeps): Promise<Answer> {
  const s = await scopedCounts(appPhrase, range, deps);
  if (isAnswer(s)) return s;
  const totals = new Map<string, { n: number; apps: Set<string> }>();
  for (const c of s.counts) {
    for (const [code, n] of Object.entries(c.errors)) {
      const t = totals.get(code) ?? { n: 0, apps: new Set<string>() };
      t.n += n;
      t.apps.add(jobName(c.jobKey, s.allJobs));
      totals.set(code, t);
    }
  }
  const top = [...totals.entries()].sort((a, b) => b[1].n - a[1].n || a[0].localeCompare(b[0])).slice(0, 10);
  const failures = sumCells(s.counts, (cell) => cell.status === "failure");
  return stats(
    `Top errors · ${s.label} · ${range.label}`,
    `${failures} failures in ${s.counts.reduce((n, c) => n + c.total, 0)} events`,
    ["Count", "Error code · what to do", "Apps"],
    top.map(([code, t]) => [String(t.n), codeAndFix(code), [...t.apps].join(", ")]),
    [],
    "No failures in this window.",
  );
}

export async function answerActivity(appPhrase: string | null, range: TimeRange, deps: AnswerDeps): Promise<Answer> {
  const s = await scopedCounts(appPhrase, range, deps);
  if (isAnswer(s)) return s;
  const actions = ["create", "update", "disable", "delete", "stagedDelete", "other"];
  const days = new Map<string, Record<string, number>>();
  for (const c of s.counts) {
    const day = dayLabel(c.hour);
    const d = days.get(day) ?? {};
    for (const cell of c.cells) {
      d[cell.action] = (d[cell.action] ?? 0) + cell.n;
      if (cell.status === "failure") d["failures"] = (d["failures"] ?? 0) + cell.n;
    }
    days.set(day, d);
  }
  const rows = [...days.entries()].sort((a, b) => b[0].localeCompare(a[0])).map(([day, d]) => [day, ...actions.map((a) => String(d[a] ?? 0)), String(d["failures"] ?? 0)]);
  return stats(`Activity by action per day · ${s.label} · ${range.label}`, "Counts of events per action (all outcomes), and failures", ["Day", "Create", "Update", "Disable", "Delete", "Staged", "Other", "Failures"], rows);
}

export async function answerHealth(appPhrase: string, range: TimeRange, deps: AnswerDeps, now: string, only?: JobInfo): Promise<Answer> {
  const s = only ? { jobs: [only], label: only.app, counts: await deps.store.counts([only.jobKey], range.from, range.to), allJobs: [only] } : await scopedCounts(appPhrase, range, deps);
  if (isAnswer(s)) return s;
  let total = 0;
  let failures = 0;
  let skipped = 0;
  const errors = new Map<string, number>();
  for (const c of s.counts) {
    total += c.total;
    for (const cell of c.cells) {
      if (cell.status === "failure") failures += cell.n;
      if (cell.status === "skipped") skipped += cell.n;
    }
    for (const [code, n] of Object.entries(c.errors)) errors.set(code, (errors.get(code) ?? 0) + n);
  }
  const statuses = await statusesOf(s.jobs, deps);
  const changes = (await auditsOf(s.jobs, new Date(Date.parse(now) - DAY_MS).toISOString(), now, deps, 10)).filter((a) => CONFIG_KINDS.has(a.kind));
  const lastAt = s.jobs.map((j) => j.lastAt).sort().at(-1) ?? "";
  const quietHours = lastAt ? (Date.parse(now) - Date.parse(lastAt)) / 3_600_000 : Infinity;
  // The same interval and silence rule as the silent-job alert, so both cards tell one story.
  const newestJob = [...s.jobs].sort((a, b) => b.lastAt.localeCompare(a.lastAt))[0];
  const scheduled = statuses.map((x) => intervalMinutes(x.status.interval)).find((m): m is number => m !== null);
  const interval = scheduled ?? usualCycleMinutes(newestJob?.cycleStarts ?? []);
  const silentAfterHours = (DEFAULT_THRESHOLDS.silentCycles * Math.max(20, interval)) / 60;
  const pct = (n: number) => (total ? `${((n / total) * 100).toFixed(1)} %` : "—");
  const top = [...errors.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 3);
  const verdict =
    statusVerdict(statuses) ??
    (quietHours >= silentAfterHours
      ? `Quiet: ${Number.isFinite(quietHours) ? `no events since ${minuteLabel(lastAt)} UTC (${quietHours.toFixed(1)} hours)` : "no events in the whole window"}; cycles ${scheduled ? "are scheduled" : "usually run"} every ${Math.round(interval)} minutes. ${statuses.length ? "The job status says it is running: the cycles find nothing to do, or the logs are late." : "Check the job's status (quarantine, credentials)."}`
      : failures / Math.max(total, 1) > 0.1
        ? `Unhealthy: ${pct(failures)} of events failed.`
        : "Healthy: events are flowing and few fail.");
  const answer = stats(
    `How is ${s.label} doing? · ${range.label}`,
    verdict,
    ["Count", "Top error · what to do"],
    top.map(([code, n]) => [String(n), codeAndFix(code)]),
    [
      ...statusFacts(statuses, now),
      ...(statuses.length === 0 ? [{ title: "Job status", value: "not read yet (provbot reads it from Microsoft Graph every 5 minutes when Graph polling is configured)" }] : []),
      ...(changes.length ? [{ title: "Configuration changes, last 24 h · audit log", value: changes.slice(0, 5).map(auditLine).join("\n") }] : []),
      { title: "Last event · logs", value: lastAt ? `${minuteLabel(lastAt)} UTC (${ago(lastAt, now)})` : "never" },
      { title: "Events · logs", value: String(total) },
      { title: "Failure rate · logs", value: pct(failures) },
      { title: "Skipped share · logs", value: `${pct(skipped)} (out-of-scope and already-in-sync objects; expected)` },
      { title: "Jobs", value: s.jobs.map((j) => `${j.jobId || j.jobKey}`).join(", ").slice(0, 300) },
    ],
    "No failures in this window.",
    portalOf(s.jobs),
  );
  // One job with a known status: the actions it allows, as buttons for those who may act (issue 26).
  const only1 = statuses.length === 1 ? statuses[0]! : null;
  return only1 ? { ...answer, offer: { servicePrincipalId: only1.servicePrincipalId, jobId: only1.jobId, app: only1.appName, kinds: kindsForStatus(only1.status) } } : answer;
}



/** "status of all apps", "which jobs are quarantined?", "what is paused?": one row per job, worst first. */
export async function answerJobs(filter: "all" | "quarantined" | "paused", deps: AnswerDeps, now: string): Promise<Answer> {
  const all = await deps.store.jobStatuses();
  if (all.length === 0) return info("No job status yet", NO_STATUS, [], [ask("Activity by day", "activity by day")]);
  const wanted = all.filter((s) => filter === "all" || (filter === "quarantined" ? s.status.code === "Quarantine" : s.status.code === "Paused" || s.status.scheduleState === "Disabled"));
  const sorted = [...wanted].sort((a, b) => severity(a.status) - severity(b.status) || a.appName.localeCompare(b.appName));
  const checked = all.map((s) => s.checkedAt).sort().at(-1) ?? now;
  const rows = sorted.slice(0, 25).map((s) => [s.appName || s.jobId, stateWord(s.status), s.status.lastExecution?.ended ? `${minuteLabel(s.status.lastExecution.ended)} UTC · ${s.status.lastExecution.state}` : "—", inScopeText(s.status), quarantineText(s.status) ?? (initialCycleComplete(s.status) ? scheduleText(s.status) : initialCycleText(s.status))]);
  const title = filter === "all" ? "Provisioning jobs" : filter === "quarantined" ? "Jobs in quarantine" : "Paused jobs";
  return stats(
    `${title} · ${plural(wanted.length, "job")}`,
    `From the job status (the provisioning summary report), read ${ago(checked, now)}; worst first${sorted.length > 25 ? " · the first 25" : ""}.`,
    ["App", "Status", "Last cycle", "In scope", "Details · what to do"],
    rows,
    [],
    filter === "quarantined" ? "No job is in quarantine." : filter === "paused" ? "No job is paused." : "No jobs.",
  );
}

export async function answerConfigChanges(appPhrase: string, range: TimeRange, deps: AnswerDeps): Promise<Answer> {
  const jobs = await jobsFor(deps, appPhrase);
  const a = await appOrAsk(appPhrase, jobs);
  if (isAnswer(a)) return a;
  const audits = await auditsOf(a.jobs, range.from, range.to, deps);
  return stats(
    `Provisioning configuration changes · ${a.label} · ${range.label}`,
    "From the Microsoft Entra audit log (service Account Provisioning): who changed what, newest first.",
    ["When (UTC)", "Change", "By", "What"],
    audits.slice(0, 20).map((x) => [minuteLabel(x.at), `${x.activity}${x.result && x.result !== "success" ? ` (${x.result})` : ""}`, x.by || "the provisioning service", x.changes.length ? x.changes.slice(0, 4).map((c) => `${c.name}${c.old || c.new ? `: ${c.old.slice(0, 60)} → ${c.new.slice(0, 60)}` : ""}`).join("\n") : AUDIT_KIND_WORDS[x.kind]]),
    [],
    `No provisioning audit records for ${a.label} in this window (provbot reads the audit log every 5 minutes when Graph polling is configured, with AuditLog.Read.All).`,
    portalOf(a.jobs),
  );
}

export async function answerQuarantineHistory(appPhrase: string, deps: AnswerDeps, now: string): Promise<Answer> {
  const jobs = await jobsFor(deps, appPhrase);
  const a = await appOrAsk(appPhrase, jobs);
  if (isAnswer(a)) return a;
  const histories = await Promise.all(a.jobs.map((j) => deps.store.statusHistory(j.jobKey, 200)));
  const rows: string[][] = [];
  for (const h of histories.flat()) {
    const t = h.transitions.filter((x) => x === "quarantined" || x === "reasonChanged" || x === "released");
    if (t.length) rows.push([h.at, t.map((x) => (x === "quarantined" ? "Quarantined" : x === "released" ? "Released" : "Reason changed")).join(", "), h.reason || "—"]);
  }
  const audits = (await auditsOf(a.jobs, new Date(Date.parse(now) - 90 * DAY_MS).toISOString(), now, deps, 100)).filter((x) => x.kind === "quarantine");
  for (const x of audits) rows.push([x.at, `${x.activity} (audit log)`, x.resultReason || x.details.map((d) => `${d.key}: ${d.value}`).join("; ").slice(0, 200) || "—"]);
  rows.sort((x, y) => y[0]!.localeCompare(x[0]!));
  const current = (await statusesOf(a.jobs, deps)).find((s) => s.status.code === "Quarantine");
  return stats(
    `Quarantine history · ${a.label}`,
    current ? `In quarantine now: ${quarantineText(current.status)}` : "Not in quarantine now (as of the last job-status read).",
    ["When (UTC)", "Change", "Reason"],
    rows.slice(0, 20).map((r) => [minuteLabel(r[0]!), r[1]!, r[2]!]),
    [],
    "No quarantine recorded: neither in the job-status history provbot keeps nor in the audit log of the last 90 days.",
    portalOf(a.jobs),
  );
}

/** "How were roles imported from AWS?": the import records of the audit log, when it holds them. */
export async function answerRoleImports(appPhrase: string | null, deps: AnswerDeps, now: string): Promise<Answer> {
  const from = new Date(Date.parse(now) - 30 * DAY_MS).toISOString();
  const scope = await appScope(appPhrase, deps);
  // An app provbot has no events for may still have audit records: say plainly what is known.
  const selected = isAnswer(scope) ? { jobs: [] as JobInfo[], label: appPhrase ?? "all apps" } : scope;
  const imports = (await auditsOf(selected.jobs, from, now, deps, 100)).filter((x) => x.kind === "import" || /role/i.test(x.activity));
  if (imports.length === 0) {
    return info(
      `No role-import records${appPhrase ? ` for ${selected.label}` : ""}`,
      `The provisioning logs do not record role imports; the Microsoft Entra audit log does (service Account Provisioning, category ProvisioningManagement). provbot holds no such record${appPhrase ? ` for ${selected.label}` : ""} from the last 30 days: either no import ran, or provbot does not read the audit log (it needs Graph polling with AuditLog.Read.All).`,
      [],
      appPhrase ? [ask(`How is ${appPhrase} doing?`, `how is ${appPhrase} doing`)] : [],
    );
  }
  return stats(
    `Role and import records · ${selected.label} · last 30 days`,
    "From the Microsoft Entra audit log (service Account Provisioning), newest first.",
    ["When (UTC)", "Activity", "Result", "Details"],
    imports.slice(0, 20).map((x) => [minuteLabel(x.at), x.activity, x.result || "—", [...x.details.map((d) => `${d.key}: ${d.value}`), ...x.changes.map((c) => `${c.name}: ${c.new}`)].join("\n").slice(0, 400) || "—"]),
  );
}
