import { list, record, scalar } from "./untrusted";

/**
 * The provisioning audit trail: Microsoft Entra audit records of the "Account Provisioning"
 * service (category ProvisioningManagement), from `GET /auditLogs/directoryAudits`. Who changed a
 * job's configuration, started, paused or restarted it, and when Entra quarantined it. Read from
 * untrusted JSON into a typed value; pure.
 */
export type AuditKind = "mappings" | "settings" | "credentials" | "start" | "pause" | "restart" | "add" | "delete" | "quarantine" | "import" | "other";

export interface ProvisioningAudit {
  id: string;
  at: string;
  activity: string;
  kind: AuditKind;
  result: string;
  resultReason: string;
  /** The user's UPN or the app's name that made the change ("" for the service itself). */
  by: string;
  /** The service principal the record is about (its target resource), "" when none is named. */
  servicePrincipalId: string;
  appName: string;
  /** Job ids named in the record (target resources or details), when it names any. */
  jobIds: string[];
  /** Modified properties, old → new, capped. */
  changes: { name: string; old: string; new: string }[];
  /** additionalDetails, capped. */
  details: { key: string; value: string }[];
}

const str = (v: unknown, max = 500): string => scalar(v, max);

const KINDS: [RegExp, AuditKind][] = [
  [/quarantin/i, "quarantine"],
  [/attribute mapping|scope|schema|scoping/i, "mappings"],
  [/setting/i, "settings"],
  [/credential|secret|token|connection/i, "credentials"],
  [/restart|clear state/i, "restart"],
  [/disable|pause|stop/i, "pause"],
  [/enable|start/i, "start"],
  [/^add|create/i, "add"],
  [/^delete|remove/i, "delete"],
  [/import|export|synchroniz|escrow/i, "import"],
  [/update/i, "settings"],
];

/** What an activity name is about ("Update attribute mappings or scope" -> mappings). */
export function auditKind(activity: string): AuditKind {
  for (const [re, kind] of KINDS) if (re.test(activity)) return kind;
  return "other";
}

/** Human words for a kind, for cards. */
export const AUDIT_KIND_WORDS: Record<AuditKind, string> = {
  mappings: "attribute mappings or scope updated",
  settings: "provisioning settings or credentials updated",
  credentials: "admin credentials updated",
  start: "provisioning started",
  pause: "provisioning paused or disabled",
  restart: "provisioning restarted",
  add: "provisioning configuration added",
  delete: "provisioning configuration deleted",
  quarantine: "quarantine",
  import: "import or synchronization record",
  other: "other provisioning activity",
};

/** Configuration changes: what could explain a burst or a spike that follows. */
export const CONFIG_KINDS: ReadonlySet<AuditKind> = new Set(["mappings", "settings", "credentials", "start", "pause", "restart", "add", "delete"]);

const JOB_ID_RE = /\b[A-Za-z0-9]+\.[0-9a-f]{32}\.[0-9a-f-]{36}\b/i;

export function parseAudit(raw: unknown): ProvisioningAudit | null {
  const a = record(raw);
  const id = str(a["id"], 300);
  const at = Date.parse(str(a["activityDateTime"], 64));
  if (!id || !Number.isFinite(at)) return null;
  const activity = str(a["activityDisplayName"], 300) || str(a["operationType"], 100) || "(no activity name)";
  const initiated = record(a["initiatedBy"]);
  const user = record(initiated["user"]);
  const app = record(initiated["app"]);
  const by = str(user["userPrincipalName"], 300) || str(user["displayName"], 300) || str(app["displayName"], 300) || str(app["servicePrincipalName"], 300);
  const targets = list(a["targetResources"]).slice(0, 20).map(record);
  const sp = targets.find((t) => /serviceprincipal|application/i.test(str(t["type"], 100))) ?? targets[0] ?? {};
  const changes = targets
    .flatMap((t) => list(t["modifiedProperties"]))
    .slice(0, 20)
    .map((m) => {
      const o = record(m);
      return { name: str(o["displayName"], 200), old: str(o["oldValue"], 500), new: str(o["newValue"], 500) };
    })
    .filter((c) => c.name);
  const details = list(a["additionalDetails"])
    .slice(0, 30)
    .map((d) => ({ key: str(record(d)["key"], 200), value: str(record(d)["value"], 500) }))
    .filter((d) => d.key);
  const jobIds = new Set<string>();
  for (const text of [...targets.map((t) => str(t["id"], 300)), ...targets.map((t) => str(t["displayName"], 300)), ...details.map((d) => d.value)]) {
    const m = JOB_ID_RE.exec(text);
    if (m) jobIds.add(m[0]);
  }
  return {
    id,
    at: new Date(at).toISOString(),
    activity,
    kind: auditKind(activity),
    result: str(a["result"], 50),
    resultReason: str(a["resultReason"], 500),
    by,
    servicePrincipalId: str(sp["id"], 100).toLowerCase(),
    appName: str(sp["displayName"], 300),
    jobIds: [...jobIds].slice(0, 5),
    changes,
    details,
  };
}

/** "attribute mappings or scope updated by bob@contoso.com 14 minutes before the first delete". */
export function causeLine(a: ProvisioningAudit, beforeIso: string, what: string): string {
  const minutes = Math.max(0, Math.round((Date.parse(beforeIso) - Date.parse(a.at)) / 60_000));
  const gap = minutes < 120 ? `${minutes} minute${minutes === 1 ? "" : "s"}` : `${(minutes / 60).toFixed(1)} hours`;
  return `${AUDIT_KIND_WORDS[a.kind]} (${a.activity})${a.by ? ` by ${a.by}` : ""} ${gap} before ${what}${changeText(a)}`;
}

/** What a configuration change changed, old → new, as the audit record says (first three, each cut). */
export function changeText(a: Pick<ProvisioningAudit, "changes">): string {
  const cut = (v: string) => (v.length > 160 ? `${v.slice(0, 159)}…` : v || "(empty)");
  const shown = a.changes.slice(0, 3).map((c) => `${c.name}: ${cut(c.old)} → ${cut(c.new)}`);
  if (shown.length === 0) return "";
  return `: ${shown.join("; ")}${a.changes.length > 3 ? ` (and ${a.changes.length - 3} more)` : ""}`;
}
