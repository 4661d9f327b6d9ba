import type { ProvisioningEvent } from "./event";
import { defuseCell } from "./spreadsheetCells";

/**
 * Downloads of stored events, as the Entra admin center offers them: JSON (Graph's
 * provisioningObjectSummary, as the portal's JSON download), or CSV as three files (events; steps;
 * modified properties, joined on change ID). Both ingest back through `POST /api/ingest` and the
 * CLI unchanged (the ingest parsers read these columns), as duplicates of what is stored. Pure.
 */
export function toGraphRecord(e: ProvisioningEvent): Record<string, unknown> {
  return {
    id: e.id,
    activityDateTime: e.activityDateTime,
    tenantId: e.tenantId,
    jobId: e.jobId,
    cycleId: e.cycleId,
    changeId: e.changeId,
    provisioningAction: e.action,
    durationInMilliseconds: e.durationMs,
    initiatedBy: e.initiatedBy,
    servicePrincipal: e.servicePrincipal,
    sourceSystem: e.sourceSystem,
    targetSystem: e.targetSystem,
    sourceIdentity: e.sourceIdentity,
    targetIdentity: e.targetIdentity,
    provisioningStatusInfo: {
      status: e.status,
      errorInformation: e.error
        ? { errorCode: e.error.code, reason: e.error.reason, errorCategory: e.error.category, additionalDetails: e.error.additionalDetails, recommendedAction: e.error.recommendedAction }
        : null,
    },
    provisioningSteps: e.steps.map((s) => ({ name: s.name, provisioningStepType: s.type, status: s.status, description: s.description, details: s.details })),
    modifiedProperties: e.modifiedProperties,
  };
}

/**
 * One CSV cell (RFC 4180), defused for spreadsheets whatever its column (spreadsheetCells.ts);
 * the CSV reader undoes it, so a download re-ingests exactly.
 */
export function csvCell(value: string | number | null | undefined): string {
  const s = value === null || value === undefined ? "" : defuseCell(String(value));
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvLine = (cells: (string | number | null | undefined)[]): string => `${cells.map((c) => csvCell(c)).join(",")}\r\n`;

/** The events file: one row per event, the columns the admin center's download has. */
export const EVENT_HEADER = ["Date (UTC)", "Id", "Change ID", "Cycle ID", "Job ID", "Tenant ID", "Action", "Status", "Duration (ms)", "Initiated by", "Service principal ID", "Service principal name", "Source system", "Target system", "Source identity ID", "Source identity name", "Source identity type", "User principal name", "Target identity ID", "Target identity name", "Target identity type", "Error code", "Reason", "Error category", "Recommended action", "Additional details"];

export function eventCsvRow(e: ProvisioningEvent): string {
  const upn = e.sourceIdentity.details["UserPrincipalName"] ?? e.sourceIdentity.details["userPrincipalName"] ?? "";
  return csvLine([
    e.activityDateTime, e.id, e.changeId, e.cycleId, e.jobId, e.tenantId, e.action, e.status, e.durationMs, e.initiatedBy.displayName,
    e.servicePrincipal.id, e.servicePrincipal.displayName, e.sourceSystem.displayName, e.targetSystem.displayName,
    e.sourceIdentity.id, e.sourceIdentity.displayName, e.sourceIdentity.identityType, upn,
    e.targetIdentity.id, e.targetIdentity.displayName, e.targetIdentity.identityType,
    e.error?.code ?? "", e.error?.reason, e.error?.category ?? "", e.error?.recommendedAction, e.error?.additionalDetails,
  ]);
}

export const STEP_HEADER = ["Change ID", "Step number", "Name", "Step type", "Status", "Description", "Details"];

export function stepCsvRows(e: ProvisioningEvent): string {
  return e.steps.map((s, i) => csvLine([e.changeId, i + 1, s.name, s.type, s.status, s.description, Object.keys(s.details).length ? JSON.stringify(s.details) : ""])).join("");
}

export const MODIFIED_HEADER = ["Change ID", "Target attribute", "Old value", "New value"];

export function modifiedCsvRows(e: ProvisioningEvent): string {
  return e.modifiedProperties.map((m) => csvLine([e.changeId, m.displayName, m.oldValue, m.newValue])).join("");
}

/** The file names inside the zip, as the admin center names its three files. */
export const CSV_FILES = { events: "ProvisioningLogs.csv", steps: "ProvisioningLogs_Steps.csv", modifiedProperties: "ProvisioningLogs_ModifiedProperties.csv" } as const;
