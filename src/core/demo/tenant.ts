/**
 * The demo tenant: people, groups and provisioning jobs of a plausible mid-size company. Pure
 * data and a seeded random source; the generator turns it into Graph-shaped records.
 */
export interface DemoUser {
  objectId: string;
  displayName: string;
  givenName: string;
  upn: string;
  mailNickname: string;
  department: string;
  employeeId: string;
}

export interface DemoGroup {
  objectId: string;
  displayName: string;
}

export interface DemoErrorTemplate {
  code: string;
  category: "nonServiceFailure" | "failure";
  httpStatus: string | null;
  message: string;
  /** Whether the reason carries the "retried N times ... after this date" tail. */
  retries: boolean;
}

export interface DemoJob {
  key: string;
  jobId: string;
  appName: string;
  servicePrincipalId: string;
  sourceSystem: string;
  targetSystem: string;
  direction: "outbound" | "inbound" | "crossTenant";
  cycleMinutes: number;
  /** Share of users in scope (assigned); the rest produce out-of-scope skips. */
  scopeShare: number;
  provisionsGroups: boolean;
  identityType: string;
  errors: DemoErrorTemplate[];
}

/** mulberry32: small, fast, deterministic. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function deterministicId(rand: () => number): string {
  const hex = () => Math.floor(rand() * 0x100000000).toString(16).padStart(8, "0");
  const h = hex() + hex() + hex() + hex();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const FIRST = ["Dmitri", "Elena", "Farah", "Gustavo", "Hana", "Ines", "Jonas", "Keiko", "Liam", "Maya", "Noah", "Olivia", "Priya", "Quentin", "Rosa", "Samir", "Tomás", "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoë", "Aaron", "Bianca", "Chen", "Diego", "Emma", "Felix", "Grace", "Hugo", "Isla", "Jamal", "Kira", "Lucas", "Mina", "Nils"];
const LAST = ["Zhang", "Li", "Okafor", "Martin", "Novak", "Haddad", "Silva", "Kowalski", "Nguyen", "Müller", "Tanaka", "O'Brien", "García", "Johansson", "Patel", "Rossi", "Dubois", "Kim", "Larsen", "Ahmed", "Costa", "Fischer", "Jensen", "Moreau", "Ivanova", "Schmidt", "Yilmaz", "Park", "Andersen", "Lopez"];
const DEPARTMENTS = ["Engineering", "Sales", "Marketing", "Finance", "HR", "Support", "Legal", "Operations"];
const GROUPS = ["All Staff", "Engineering", "Sales EMEA", "Sales Americas", "Marketing", "Finance", "HR Partners", "Support Tier 1", "Support Tier 2", "Legal", "Ops On-Call", "Design", "Data Platform", "Security Champions", "Managers", "Contractors", "Interns", "Executives", "macOS Fleet", "Windows Fleet"];

const ascii = (s: string) => s.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/[^A-Za-z]/g, "").toLowerCase();

export function demoUsers(count: number, rand: () => number): DemoUser[] {
  const users: DemoUser[] = [];
  const seen = new Set<string>();
  // Fixed people the examples talk about (two Alices, so "alice" is ambiguous).
  const fixed: [string, string][] = [
    ["Alice", "Zhang"],
    ["Bob", "Li"],
    ["Carol", "Okafor"],
    ["Alice", "Martin"],
  ];
  for (let i = 0; users.length < count; i++) {
    // The example people's first names are theirs alone, except the deliberate second Alice.
    const [first, last] = fixed[i] ?? [FIRST[Math.floor(rand() * FIRST.length)]!, LAST[Math.floor(rand() * LAST.length)]!];
    let nick = `${ascii(first)}.${ascii(last)}`;
    if (seen.has(nick)) nick = `${nick}${Math.floor(rand() * 90) + 10}`;
    if (seen.has(nick)) continue;
    seen.add(nick);
    users.push({
      objectId: deterministicId(rand),
      displayName: `${first} ${last}`,
      givenName: first,
      upn: `${nick}@contoso.com`,
      mailNickname: nick,
      department: DEPARTMENTS[Math.floor(rand() * DEPARTMENTS.length)]!,
      employeeId: String(100000 + users.length),
    });
  }
  return users;
}

export function demoGroups(rand: () => number): DemoGroup[] {
  return GROUPS.map((displayName) => ({ objectId: deterministicId(rand), displayName }));
}

const E = (code: string, httpStatus: string | null, message: string, category: DemoErrorTemplate["category"] = "nonServiceFailure", retries = true): DemoErrorTemplate => ({
  code,
  category,
  httpStatus,
  message,
  retries,
});

export const TENANT_ID = "4b8c18bd-2f9f-4227-af55-9f1061cf9c32";

/**
 * The demo's story, in one place for the events (generator.ts) and the job status and audit trail
 * (health.ts): Box stopped 5 hours ago (quarantined for its credentials), and carol paused the
 * Fabrikam job 5.5 hours ago, after which it logs nothing.
 */
export const DEMO_BOX_STOPPED_HOURS = 5;
export const DEMO_FABRIKAM_PAUSED_HOURS = 5.5;
/** Dropbox held back 12 deletions 3 hours ago (its threshold is 10) and is in quarantine for too many deletes since. */
export const DEMO_DROPBOX_HELD_HOURS = 3;
export const DEMO_DROPBOX_THRESHOLD = 10;

/**
 * The application (client) id of a demo job's app: real records carry it in the app side's
 * details (ApplicationId), and the admin center's links need it. Derived from the service
 * principal's id, so the records, the job status and the service principal list agree.
 */
export function demoAppId(servicePrincipalId: string): string {
  return deterministicId(seededRandom(seedOf(servicePrincipalId)));
}

/** A seed from any parts (FNV-1a over them joined by "|"): the same parts, the same random source. */
export function seedOf(...parts: (string | number)[]): number {
  let h = 2166136261;
  for (const c of parts.join("|")) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}
const T = TENANT_ID.replace(/-/g, "");

export function demoJobs(rand: () => number): DemoJob[] {
  const job = (key: string, template: string, appName: string, rest: Omit<DemoJob, "key" | "jobId" | "appName" | "servicePrincipalId">): DemoJob => ({
    key,
    jobId: `${template}.${T}.${deterministicId(rand)}`,
    appName,
    servicePrincipalId: deterministicId(rand),
    ...rest,
  });
  const entra = "Microsoft Entra ID";
  return [
    job("servicenow", "ServiceNowOutDelta", "ServiceNow", {
      sourceSystem: entra, targetSystem: "ServiceNow", direction: "outbound", cycleMinutes: 40, scopeShare: 0.8, provisionsGroups: true, identityType: "User",
      errors: [
        E("ServiceNowEntryConflict", "Conflict", "ServiceNow returned an error response with the HTTP status code 409. A user with the same user_name already exists."),
        E("InsufficientRights", "Forbidden", "The ServiceNow admin account is not authorised to {verb} sys_user records (HTTP 403)."),
      ],
    }),
    job("adobe", "adobeIdentityManagement", "Adobe Identity Management", {
      sourceSystem: entra, targetSystem: "Adobe Identity Management", direction: "outbound", cycleMinutes: 40, scopeShare: 0.6, provisionsGroups: true, identityType: "User",
      errors: [
        E("UnprocessableEntity", "UnprocessableEntity", "Adobe rejected the payload: countryCode is required for Federated ID users."),
        E("LicenseLimitExceeded", "Forbidden", "No free Creative Cloud licences are left in the product profile."),
      ],
    }),
    job("salesforce", "salesforce", "Salesforce", {
      sourceSystem: entra, targetSystem: "Salesforce", direction: "outbound", cycleMinutes: 40, scopeShare: 0.45, provisionsGroups: false, identityType: "User",
      errors: [
        E("DuplicateTargetEntries", null, "More than one Salesforce user matches the matching attribute (Username)."),
        E("SchemaAttributeNotFound", "BadRequest", "The attribute mapping targets 'FederationIdentifier__c', which the Salesforce schema does not have."),
      ],
    }),
    job("dropbox", "DropboxSCIMOutDelta", "Dropbox Business", {
      sourceSystem: entra, targetSystem: "Dropbox", direction: "outbound", cycleMinutes: 40, scopeShare: 0.7, provisionsGroups: true, identityType: "urn:ietf:params:scim:schemas:core:2.0:User",
      errors: [E("DropboxEntryConflict", "Conflict", "Dropbox returned HTTP 409: the e-mail address is already used by another team."), E("TooManyRequests", "TooManyRequests", "Dropbox throttled the request.", "failure")],
    }),
    job("aws", "aws", "AWS IAM Identity Center", {
      sourceSystem: entra, targetSystem: "AWS IAM Identity Center", direction: "outbound", cycleMinutes: 40, scopeShare: 0.35, provisionsGroups: true, identityType: "urn:ietf:params:scim:schemas:core:2.0:User",
      errors: [E("SystemForCrossDomainIdentityManagementBadRequest", "BadRequest", "Failed to create User in customappsso; Error: SCIM endpoint is not fully compatible: 'name.familyName' is required.")],
    }),
    job("box", "BoxOutDelta", "Box", {
      sourceSystem: entra, targetSystem: "Box", direction: "outbound", cycleMinutes: 40, scopeShare: 0.5, provisionsGroups: true, identityType: "User",
      errors: [E("BoxEntryConflict", "Conflict", "Box returned an error response with the HTTP status code 409. A user or a group already exists with the same name."), E("InvalidAnchor", null, "The Box user created earlier no longer exists.", "nonServiceFailure", false)],
    }),
    job("hrportal", "scim", "Contoso HR Portal", {
      sourceSystem: entra, targetSystem: "customappsso", direction: "outbound", cycleMinutes: 40, scopeShare: 0.9, provisionsGroups: true, identityType: "urn:ietf:params:scim:schemas:core:2.0:User",
      errors: [
        E("SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering", "Conflict", "Web Response: {\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],\"status\":\"409\",\"scimType\":\"uniqueness\",\"detail\":\"userName must be unique\"}"),
        E("SystemForCrossDomainIdentityManagementMultipleEntriesInResponse", null, "The SCIM endpoint returned 2 resources for filter userName eq 'x'."),
      ],
    }),
    job("workday", "Workday2AD", "Workday to Active Directory User Provisioning", {
      sourceSystem: "Workday", targetSystem: "Active Directory", direction: "inbound", cycleMinutes: 40, scopeShare: 1, provisionsGroups: false, identityType: "User",
      errors: [
        E("HybridSynchronizationActiveDirectoryUserPrincipalNameNotUnique", null, "CONSTRAINT_ATT_TYPE - userPrincipalName: the UPN already exists in the forest.", "nonServiceFailure", false),
        E("HybridSynchronizationActiveDirectoryInsufficientAccessRights", null, "INSUFF_ACCESS_RIGHTS DSID-03150F94, problem 4003: provAgentgMSA$ cannot write to the target OU.", "nonServiceFailure", false),
      ],
    }),
    job("fabrikam", "Azure2Azure", "Fabrikam (cross-tenant sync)", {
      sourceSystem: entra, targetSystem: "Fabrikam", direction: "crossTenant", cycleMinutes: 40, scopeShare: 0.3, provisionsGroups: false, identityType: "User",
      errors: [E("AzureDirectoryB2BManagementPolicyCheckFailure", null, "Automatic redemption is not enabled in the cross-tenant access settings of the target tenant.", "nonServiceFailure", false)],
    }),
  ];
}

/**
 * Workday's backlog: it reads far more workers than Entra holds, and these fail to be written to
 * Active Directory (their UPN is taken, or the agent may not write to their OU). Each failing worker
 * has its latest retry in the logs, so the job status's escrow count is the logs' failing objects.
 */
export const DEMO_WORKDAY_WORKERS = 11_800;
export const DEMO_WORKDAY_FAILING = 4_300;

/** Workers read from HR who are not (yet) users in Entra: the Workday backlog's people. */
export function demoWorkers(count: number, rand: () => number): DemoUser[] {
  const out: DemoUser[] = [];
  for (let i = 0; i < count; i++) {
    const first = FIRST[Math.floor(rand() * FIRST.length)]!;
    const last = LAST[Math.floor(rand() * LAST.length)]!;
    const middle = String.fromCharCode(65 + Math.floor(rand() * 26));
    const nick = `${ascii(first)}.${ascii(last)}${i}`;
    // A middle initial, as HR records carry: no worker has the very name of one of the Entra users.
    out.push({ objectId: deterministicId(rand), displayName: `${first} ${middle}. ${last}`, givenName: first, upn: `${nick}@contoso.com`, mailNickname: nick, department: DEPARTMENTS[Math.floor(rand() * DEPARTMENTS.length)]!, employeeId: `W${200000 + i}` });
  }
  return out;
}

/**
 * Zoom: configured four hours before the demo's now, its initial cycle creates its users one by
 * one and completes 20 minutes after that now (the "initial cycle completed" alert).
 */
export const DEMO_ZOOM = { appName: "Zoom", template: "zoom", startedBeforeMinutes: 240, doneAfterMinutes: 20, scopeShare: 0.75 } as const;

export function demoZoomJob(): DemoJob {
  const rand = seededRandom(4242);
  const servicePrincipalId = deterministicId(rand);
  return {
    key: "zoom",
    jobId: `${DEMO_ZOOM.template}.${T}.${deterministicId(rand)}`,
    appName: DEMO_ZOOM.appName,
    servicePrincipalId,
    sourceSystem: "Microsoft Entra ID",
    targetSystem: "Zoom",
    direction: "outbound",
    cycleMinutes: 40,
    scopeShare: DEMO_ZOOM.scopeShare,
    provisionsGroups: false,
    identityType: "User",
    errors: [],
  };
}
