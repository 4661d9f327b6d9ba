/**
 * A small tenant for the question corpus, deliberately unlike the demo tenant: other people
 * (accents, apostrophes, two surnames), other apps (Zscaler, Google Workspace, a cross-tenant
 * sync), app-prefixed error codes, a group whose members could not be resolved, updates with
 * modified properties, Other actions, and HR inbound from SuccessFactors. Records are Graph v1.0
 * shaped, so they go through the real normaliser.
 */
export const CORPUS_NOW = new Date("2026-11-25T15:30:00Z"); // a Wednesday

interface Person {
  id: string;
  name: string;
  upn: string;
  type?: "User" | "Group";
}

export const PEOPLE = {
  maria: { id: "0a1f6a51-1111-4aaa-8aaa-000000000001", name: "María José García López", upn: "mjgarcia@fabrikam.com" },
  sean: { id: "0a1f6a51-1111-4aaa-8aaa-000000000002", name: "Seán O'Brien", upn: "sean.obrien@fabrikam.com" },
  zoe: { id: "0a1f6a51-1111-4aaa-8aaa-000000000003", name: "Zoë Müller", upn: "zoe.mueller@fabrikam.com" },
  priya: { id: "0a1f6a51-1111-4aaa-8aaa-000000000004", name: "Priya Raman", upn: "priya.raman@fabrikam.com" },
  tom: { id: "0a1f6a51-1111-4aaa-8aaa-000000000005", name: "Tom Fischer", upn: "tom.fischer@fabrikam.com" },
  tomas: { id: "0a1f6a51-1111-4aaa-8aaa-000000000006", name: "Tomás Fischer", upn: "tomas.fischer@fabrikam.com" },
  sales: { id: "0a1f6a51-1111-4aaa-8aaa-000000000007", name: "Sales EMEA", upn: "", type: "Group" as const },
  leads: { id: "0a1f6a51-1111-4aaa-8aaa-000000000008", name: "Engineering Leads", upn: "", type: "Group" as const },
} satisfies Record<string, Person>;

export const APPS = {
  zscaler: { jobId: "ZscalerOutDelta.c0rpus01.aa1", sp: "5b3a0c11-2222-4bbb-9bbb-000000000001", name: "Zscaler Internet Access", target: "Zscaler" },
  google: { jobId: "GoogleAppsOutDelta.c0rpus02.bb2", sp: "5b3a0c11-2222-4bbb-9bbb-000000000002", name: "Google Workspace", target: "Google Apps" },
  salesforce: { jobId: "SalesforceOutDelta.c0rpus03.cc3", sp: "5b3a0c11-2222-4bbb-9bbb-000000000003", name: "Salesforce", target: "Salesforce" },
  dropbox: { jobId: "DropboxSCIMOutDelta.c0rpus04.dd4", sp: "5b3a0c11-2222-4bbb-9bbb-000000000004", name: "Dropbox Business", target: "Dropbox" },
  sf: { jobId: "SuccessFactorsInbound.c0rpus05.ee5", sp: "5b3a0c11-2222-4bbb-9bbb-000000000005", name: "SuccessFactors to Active Directory", target: "Active Directory", source: "SuccessFactors" },
};

type App = (typeof APPS)[keyof typeof APPS];

let n = 0;
function record(app: App, who: Person, at: Date, action: string, status: string, extra: { code?: string; reason?: string; steps?: Record<string, unknown>[]; modified?: Record<string, unknown>[]; cycle?: string } = {}): Record<string, unknown> {
  n++;
  const source = "source" in app ? app.source : "Azure Active Directory";
  return {
    id: `corpus-${n}`,
    changeId: `corpus-chg-${n}`,
    activityDateTime: at.toISOString(),
    tenantId: "fabrikam-tenant",
    jobId: app.jobId,
    cycleId: extra.cycle ?? `cycle-${app.jobId.slice(0, 6)}-${at.toISOString().slice(0, 13)}`,
    provisioningAction: action,
    durationInMilliseconds: 900,
    initiatedBy: { id: "", displayName: "Azure AD Provisioning Service", initiatorType: "system" },
    servicePrincipal: { id: app.sp, displayName: app.name },
    sourceSystem: { id: "src", displayName: source, details: {} },
    targetSystem: { id: "tgt", displayName: app.target, details: { ApplicationId: `c0ffee00-0000-4000-8000-00000000${app.sp.slice(-4)}`, ServicePrincipalId: app.sp, ServicePrincipalDisplayName: app.name } },
    sourceIdentity: { id: who.id, displayName: who.name, identityType: who.type ?? "User", details: who.upn ? { UserPrincipalName: who.upn } : {} },
    targetIdentity: { id: `t-${who.id.slice(-4)}-${app.target.slice(0, 3)}`, displayName: who.name, identityType: who.type ?? "User", details: {} },
    provisioningStatusInfo: {
      status,
      errorInformation: status === "failure" || extra.code ? { errorCode: extra.code ?? "SystemForCrossDomainIdentityManagementBadRequest", reason: extra.reason ?? "StatusCode: BadRequest", errorCategory: "nonServiceFailure", additionalDetails: null, recommendedAction: null } : null,
    },
    provisioningSteps: extra.steps ?? [
      { name: "EntryImport", provisioningStepType: "import", status: "success", description: `Retrieved ${who.name} from ${source}`, details: {} },
      { name: "EntryExportUpdate", provisioningStepType: "export", status, description: `${action} ${who.name} in ${app.target}`, details: {} },
    ],
    modifiedProperties: extra.modified ?? [],
  };
}

const h = (hoursAgo: number) => new Date(CORPUS_NOW.getTime() - hoursAgo * 3_600_000);

export function corpusRecords(): Record<string, unknown>[] {
  n = 0;
  const { maria, sean, zoe, priya, tom, tomas, sales } = PEOPLE;
  const { zscaler, google, salesforce, dropbox, sf } = APPS;
  return [
    // Salesforce: María fails with an app-prefixed duplicate, twice; Seán succeeds.
    record(salesforce, maria, h(30), "create", "failure", { code: "SalesforceDuplicateTargetEntries", reason: "StatusCode: Conflict. Two users match the same username" }),
    record(salesforce, maria, h(5), "create", "failure", { code: "SalesforceDuplicateTargetEntries", reason: "StatusCode: Conflict. Two users match the same username" }),
    record(salesforce, sean, h(6), "create", "success"),
    // Google Workspace: Zoë's anchor is invalid; Priya updated with modified properties.
    record(google, zoe, h(3), "update", "failure", { code: "GoogleAppsInvalidAnchor", reason: "The anchor value is not valid" }),
    record(google, priya, h(50), "update", "success", { modified: [{ displayName: "department", oldValue: "Sales", newValue: "Marketing" }] }),
    record(google, priya, h(2), "update", "success", { modified: [{ displayName: "jobTitle", oldValue: "Analyst", newValue: "Senior Analyst" }, { displayName: "manager", oldValue: "tom.fischer@fabrikam.com", newValue: "zoe.mueller@fabrikam.com" }] }),
    // Zscaler: Tom disabled today, Tomás deleted today, Sales EMEA created; an Other action.
    record(zscaler, tom, h(4), "disable", "success"),
    record(zscaler, tomas, h(3.5), "delete", "success"),
    record(zscaler, sales, h(20), "create", "success"),
    record(zscaler, sean, h(8), "other", "success"),
    // Dropbox: a license limit (prefixed), and a group whose members could not be resolved.
    record(dropbox, sean, h(26), "create", "failure", { code: "DropboxLicenseLimitExceeded", reason: "No licenses left" }),
    record(dropbox, sales, h(7), "update", "skipped", {
      steps: [
        { name: "EntryImport", provisioningStepType: "import", status: "success", description: "Retrieved Sales EMEA", details: {} },
        { name: "ReferenceResolution", provisioningStepType: "referenceResolution", status: "skipped", description: "Failed to resolve members: Tom Fischer, Zoë Müller", details: { ErrorCode: "UnableToResolveReferenceAttributeValue" } },
      ],
    }),
    // Google Workspace: a group update that succeeded with one member's reference skipped (issue 22:
    // found by the reference step, not the event's status); Zscaler: Seán updated, his manager not resolved.
    record(google, PEOPLE.leads, h(9), "update", "success", {
      steps: [
        { name: "EntryImport", provisioningStepType: "import", status: "success", description: "Retrieved Engineering Leads", details: {} },
        { name: "EntryReferenceResolution", provisioningStepType: "referenceResolution", status: "skipped", description: "We were unable to assign 0a1f6a51-1111-4aaa-8aaa-000000000006 as the members of Engineering Leads.", details: { ErrorCode: "UnableToResolveReferenceAttributeValue" } },
        { name: "EntryExportUpdate", provisioningStepType: "export", status: "success", description: "Engineering Leads was updated in Google Workspace", details: {} },
      ],
    }),
    record(zscaler, sean, h(9), "update", "success", {
      steps: [
        { name: "EntryImport", provisioningStepType: "import", status: "success", description: "Retrieved Seán O'Brien", details: {} },
        { name: "EntryReferenceResolution", provisioningStepType: "referenceResolution", status: "failure", description: "We were unable to assign tom.fischer@fabrikam.com as the manager of Seán O'Brien.", details: { ErrorCode: "UnableToResolveReferenceAttributeValue", ReferenceAttribute: "manager" } },
        { name: "EntryExportUpdate", provisioningStepType: "export", status: "success", description: "Seán O'Brien was updated in Zscaler Internet Access", details: {} },
      ],
    }),
    // SuccessFactors to AD: a worker created.
    record(sf, priya, h(40), "create", "success"),
  ];
}
