import { startGraphEmulator, type Fault, type GraphState } from "../../scripts/graph-emulator";

/**
 * The loopback Microsoft Graph of scripts/graph-emulator.ts (the one `npm start` runs), for tests:
 * the documented paging and filters, scripted faults, records published late, service principals
 * and their provisioning jobs, and the provisioning audit trail.
 */
export type { Fault };
export type GraphServer = GraphState;

export function startGraphServer(events: Record<string, unknown>[] = [], init: Parameters<typeof startGraphEmulator>[0] = {}): Promise<GraphServer> {
  return startGraphEmulator({ ...init, events });
}

/** A Graph-shaped record for tests. */
export function graphRecord(i: number, atIso: string): Record<string, unknown> {
  return {
    id: `graph-evt-${i}`,
    activityDateTime: atIso,
    changeId: `graph-chg-${i}`,
    cycleId: "graph-cycle-1",
    jobId: "ServiceNowOutDelta.t.j",
    provisioningAction: i % 5 === 0 ? "disable" : "update",
    provisioningStatusInfo: { status: i % 7 === 0 ? "failure" : "success", errorInformation: i % 7 === 0 ? { errorCode: "ServiceNowEntryConflict", reason: "StatusCode: Conflict" } : null },
    servicePrincipal: { id: "sp-snow", displayName: "ServiceNow" },
    sourceIdentity: { id: `obj-${i}`, displayName: `User ${i}`, identityType: "User", details: {} },
    targetIdentity: { id: "", displayName: "", identityType: "User", details: {} },
    provisioningSteps: [],
    modifiedProperties: [],
  };
}
