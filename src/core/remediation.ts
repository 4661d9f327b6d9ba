import type { ErrorCategory } from "./event";

/**
 * What an error code means and what to do about it, in this project's words, for every code in
 * the provisioning reference: general codes, SCIM, cross-tenant synchronization, HR-inbound and
 * Cloud Sync agent codes. Unknown codes are explained from their prefix, their category and the
 * HTTP status found in the reason.
 */
export type Retry = "automatic" | "nextCycle" | "manual" | "notApplicable";

export interface Remedy {
  code: string;
  cause: string;
  fix: string;
  retry: Retry;
  /** Where the guidance came from: the catalogue, a pattern, or the fallback. */
  source: "catalogue" | "pattern" | "category" | "httpStatus" | "unknown";
  /** For an app-prefixed code (SalesforceDuplicateTargetEntries), the catalogue code it ends in. */
  base?: string;
  /** Microsoft's page that documents the code (or its family). */
  learnMore: string;
}

/** Microsoft's pages that document the codes, by family (the seed's [DOC: …] sources). */
export const LEARN_MORE = {
  general: "https://learn.microsoft.com/entra/identity/monitoring-health/howto-analyze-provisioning-logs#error-codes",
  scim: "https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups",
  crossTenant: "https://learn.microsoft.com/entra/identity/multi-tenant-organizations/cross-tenant-synchronization-configure#troubleshooting-tips",
  hrInbound: "https://learn.microsoft.com/entra/identity/app-provisioning/hr-attribute-retrieval-issues",
  cloudSync: "https://learn.microsoft.com/entra/identity/hybrid/cloud-sync/reference-error-codes",
} as const;

/** The family of a code: where Microsoft documents it. */
function familyOf(code: string): keyof typeof LEARN_MORE {
  if (/^SystemForCrossDomainIdentityManagement/.test(code)) return "scim";
  if (/^(Invitation|AzureDirectoryB2B)|^AzureActiveDirectory(CannotUpdateObjectsMasteredOnPremises|QuotaLimitExceeded|Forbidden|InsufficientRights)$/.test(code)) return "crossTenant";
  if (/^HybridIdentityService|^AzureDirectoryService|^AzureActiveDirectory(InvalidCredential|ExpiredCredentials|AuthenticationFailed)$|^TimeOut$|^HybridSynchronizationActiveDirectory(InternalServerError|UnexpectedDuplicateEntriesFound)$/.test(code)) return "cloudSync";
  if (/^HybridSynchronizationActiveDirectory|^EntrySynchronizationError$|^EndpointUnavailable$|^AzureActiveDirectoryInvalidUserPrincipalName$/.test(code)) return "hrInbound";
  return "general";
}

type Entry = [cause: string, fix: string, retry: Retry];

const CATALOGUE: Record<string, Entry> = {
  UnableToResolveReferenceAttributeValue: ["A reference (a group member, a manager) points at an object that is not provisioned in the app: out of scope, not assigned, or failing itself.", "Assign the referenced user to the app (or fix its own failure); the reference resolves in a later cycle once the member exists in the app.", "nextCycle"],
  // General provisioning codes
  Conflict: ["The app already has an object with one of the unique values being written (an HTTP 409).", "Find the conflicting account in the app and either remove it, or change the matching attribute so that the existing account is matched and taken over.", "nextCycle"],
  EntryConflict: ["The app already has an object with one of the unique values being written (an HTTP 409).", "Find the conflicting account in the app and either remove it, or change the matching attribute so that the existing account is matched and taken over.", "nextCycle"],
  TooManyRequests: ["The app throttled the provisioning service.", "Nothing to do: the service waits and tries again.", "automatic"],
  InternalServerError: ["The app answered with a server error.", "Check the app's service health; the service tries again in about 40 minutes.", "automatic"],
  // InsufficientRights, MethodNotAllowed, NotPermitted and Unauthorized are one case (below).
  UnprocessableEntity: ["The app rejected the data that was sent (the payload).", "Check the app's own configuration and the attribute mappings against what the app requires (required fields, formats, allowed values); if they match, contact the app vendor with the reason text.", "nextCycle"],
  WebExceptionProtocolError: ["An HTTP protocol error happened while talking to the app.", "Nothing to do unless it persists: the service tries again in about 40 minutes.", "automatic"],
  InvalidAnchor: ["An account created or matched earlier no longer exists in the app.", "Recreate or restore the account in the app, or restart the job (Restart provisioning, or a restart through Microsoft Graph) so that it matches again. A restart clears the job's state and runs a full initial cycle, which can take many hours in a large tenant: prefer fixing the account.", "manual"],
  NotImplemented: ["The app does not implement this operation or endpoint.", "Check the app tutorial for what is supported; contact the vendor.", "nextCycle"],
  MandatoryFieldsMissing: ["A required attribute is empty in the source.", "Fill in the attribute for this identity in the source, or fix the attribute mapping (the right source attribute, or a default value for it).", "manual"],
  MissingValues: ["A required attribute is empty in the source.", "Fill in the attribute for this identity in the source, or fix the attribute mapping (the right source attribute, or a default value for it).", "manual"],
  SchemaAttributeNotFound: ["A mapping writes to an attribute the app's schema does not have.", "Fix or remove the attribute mapping, or add the attribute to the target schema.", "manual"],
  InternalError: ["The provisioning service itself failed.", "Nothing to do: it is retried in about 40 minutes. Open a support case if it repeats for a day.", "automatic"],
  InvalidDomain: ["A value contains a domain the app does not accept.", "Change the identity's domain, or verify or allow the domain in the app.", "manual"],
  Timeout: ["The app took too long to answer.", "Nothing to do unless it persists: retried in about 40 minutes.", "automatic"],
  LicenseLimitExceeded: ["The app has no free licences left.", "Buy more licences, free unused ones, or narrow who is assigned to the app.", "manual"],
  DuplicateTargetEntries: ["More than one account in the app matches this identity.", "Remove the duplicate in the app, or choose a matching attribute that is unique there.", "manual"],
  DuplicateSourceEntries: ["More than one source object matches the same account.", "Remove the duplicate in the source, or choose a matching attribute that is unique there.", "manual"],
  ImportSkipped: ["The source object has no value for the matching attribute, so nothing else was evaluated.", "Give the object a value for the matching attribute (or match on another attribute); until then it is skipped in every cycle, which is not a failure and raises no error count.", "notApplicable"],
  EntrySynchronizationSkipped: ["The object was evaluated and nothing needed doing: it is out of scope or already in sync.", "Usually nothing; if it should be provisioned, check its assignment and the scoping filters.", "notApplicable"],
  SystemForCrossDomainIdentityManagementMultipleEntriesInResponse: ["The SCIM endpoint returned more than one resource for a filter that should match one.", "Fix the SCIM server's filter handling (for example userName eq), so that a filter returns only matching resources.", "manual"],
  SystemForCrossDomainIdentityManagementServiceIncompatible: ["The SCIM endpoint's answer could not be understood.", "Make the SCIM server follow the Entra SCIM behaviour (PATCH operation casing, value types, response shapes).", "manual"],
  SchemaPropertyCanOnlyAcceptValue: ["A multi-valued source attribute is mapped to a single-valued target attribute.", "Map a single-valued source attribute instead, or reduce the source to one value in the mapping's expression (for example SingleAppRoleAssignment or Item); the target cannot hold more than one.", "manual"],
  // SCIM codes seen in the wild
  SystemForCrossDomainIdentityManagementBadRequest: ["The SCIM endpoint rejected the request (HTTP 400).", "Read the Web Response in the reason for the field it objects to, and fix the SCIM server or the mapping.", "nextCycle"],
  SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering: ["The create conflicted with an existing resource that the SCIM filter did not find (HTTP 409, uniqueness).", "Make the SCIM filter on the matching attribute (userName or externalId) find existing resources, or claim or remove the conflicting one.", "nextCycle"],
  SystemForCrossDomainIdentityManagementBadResponse: ["The target (often the Active Directory agent) rejected a value, for example a string over the attribute's length limit.", "Shorten the value in the mapping (for example with Mid()) or map it to another attribute.", "manual"],
  // Cross-tenant synchronization
  AzureActiveDirectoryCannotUpdateObjectsOriginatedInExternalService: ["The target property is owned by another source of authority: for example Mail or showInAddressList, or extensionAttributes mastered in Exchange (HR inbound).", "Update it in the system that owns it (or in the target tenant), or stop mapping it. For showInAddressList the service may retry on its own without that property.", "automatic"],
  AzureDirectoryB2BManagementPolicyCheckFailure: ["Automatic redemption is not enabled in the cross-tenant access settings.", "Enable automatic redemption for outbound access in the source tenant and inbound access in the target tenant.", "manual"],
  AzureActiveDirectoryQuotaLimitExceeded: ["The target tenant reached its object quota.", "Raise the quota or remove objects in the target tenant.", "manual"],
  InvitationCreationFailure: ["The B2B invitation for the user failed.", "Check the target tenant's external collaboration settings; open a support case if they allow the invitation.", "manual"],
  AzureActiveDirectoryForbidden: ["The target tenant does not allow anyone to invite guests.", "Relax the guest invitation setting in the target tenant's external collaboration settings.", "manual"],
  InvitationCreationFailureInvalidPropertyValue: ["The invitation has an invalid value: the primary SMTP address, a userType other than Guest or Member, or a mail address used by a group.", "Fix the source mail or userType mapping, or the object that uses the same address.", "manual"],
  InvitationCreationFailureAmbiguousUser: ["A proxy address collides with a member of the target tenant.", "Remove the conflicting address in the target, or take the user out of scope.", "manual"],
  AzureActiveDirectoryCannotUpdateObjectsMasteredOnPremises: ["The target user is still mastered on premises.", "Cross-tenant synchronization cannot update it; manage it on premises or convert it to a cloud user.", "manual"],
  AzureActiveDirectoryInsufficientRights: ["Deleting a B2B user who holds an admin role is not allowed.", "Remove the role from the user in the target tenant, then let the job retry.", "manual"],
  // HR inbound (Workday / SuccessFactors) and API-driven inbound
  HybridSynchronizationActiveDirectoryCannotFindAttribute: ["The attribute is not in the Active Directory schema the provisioning agent cached.", "Restart the provisioning agent after the schema change.", "manual"],
  HybridSynchronizationActiveDirectoryInsufficientAccessRights: ["The agent's gMSA cannot write to the object: inheritance is off on the OU, or the user is in a protected group.", "Enable inheritance on the OU, or grant the gMSA rights (protected groups: AdminSDHolder).", "manual"],
  HybridSynchronizationActiveDirectoryUserPrincipalNameNotUnique: ["The userPrincipalName already exists in the forest: matching failed, or the UPN rule produced a duplicate.", "Fix the matching attribute (employeeID) or make the UPN expression unique (for example with SelectUniqueValue).", "manual"],
  EntrySynchronizationError: ["A synchronization rule failed while evaluating the object (for example the agent could not reach Active Directory).", "Read the error code in the step description; check the provisioning agent and its event log.", "nextCycle"],
  EndpointUnavailable: ["The provisioning agent could not read Active Directory.", "Check the agent's event log on the agent server.", "nextCycle"],
  AzureActiveDirectoryInvalidUserPrincipalName: ["The UPN built from the inbound record is not valid.", "Build the UPN with the documented Join/Replace/DefaultDomain() expression.", "manual"],
  // Cloud Sync agent codes
  TimeOut: ["The provisioning agent's request timed out.", "Check the agent (service running, connectivity); it is retried next cycle.", "nextCycle"],
  HybridSynchronizationActiveDirectoryInternalServerError: ["The agent could not process the request.", "Open a support case with the job id if it persists.", "nextCycle"],
  HybridIdentityServiceNoAgentsAssigned: ["No agent is registered for the domain.", "Install or register a provisioning agent for the domain.", "manual"],
  HybridIdentityServiceNoActiveAgents: ["The agent is not running or cannot reach the service.", "Start the agent; allow its outbound connections through the proxy or firewall.", "manual"],
  HybridIdentityServiceInvalidResource: ["The agent registration is broken.", "Re-register the agent and restart the configuration.", "manual"],
  HybridIdentityServiceAgentSignalingError: ["The service cannot reach the agent.", "Nothing to do unless it persists; then open a support case.", "nextCycle"],
  AzureDirectoryServiceServerBusy: ["Microsoft Entra ID was busy.", "Nothing to do: retried automatically. Escalate after 24 hours.", "automatic"],
  AzureActiveDirectoryInvalidCredential: ["The sync service account is missing.", "Repair it with Repair-AADCloudSyncToolsAccount.", "manual"],
  AzureActiveDirectoryExpiredCredentials: ["The sync service account's token expired.", "Repair the service account.", "manual"],
  AzureActiveDirectoryAuthenticationFailed: ["An unknown authentication error happened.", "Open a support case.", "nextCycle"],
  AzureDirectoryServiceAuthorizationFailed: ["The synchronization service principal is missing.", "Restore the service principal (third-party report; confirm with support).", "manual"],
  HybridSynchronizationActiveDirectoryUnexpectedDuplicateEntriesFound: ["Two objects carry the same msDS-ExternalDirectoryObjectId.", "Clear the duplicate value on one of them (third-party report).", "manual"],
};

/** Entra authenticated to the app but is not authorised for the operation: one case, four codes. */
const NOT_AUTHORISED: Entry = ["Entra authenticated to the app, but the admin credential or token of the app's provisioning job (on the app's Provisioning page) is not authorised for this operation.", "Give that admin account or token the permissions the app's tutorial lists (or use one that has them), then test the connection.", "nextCycle"];
for (const code of ["InsufficientRights", "MethodNotAllowed", "NotPermitted", "Unauthorized"]) CATALOGUE[code] = NOT_AUTHORISED;

const PATTERNS: [RegExp, Entry][] = [
  [/EntryConflict$/, CATALOGUE["Conflict"]!],
  [/^SystemForCrossDomainIdentityManagement/, ["The SCIM endpoint (a custom or gallery SCIM app) rejected or mis-answered the request.", "Read the Web Response in the reason and fix the SCIM server or the attribute mapping.", "nextCycle"]],
  [/^HybridSynchronizationActiveDirectory/, ["Active Directory, through the provisioning agent, refused the change.", "Read the reason for the AD error (constraint, rights, schema) and fix the mapping or the AD permissions.", "manual"]],
  [/^HybridIdentityService/, ["The provisioning agent could not be reached or used.", "Check that the agent is installed, registered and running.", "manual"]],
  [/^AzureActiveDirectory|^AzureDirectory/, ["Microsoft Entra ID refused the change in the target directory.", "Read the reason; check ownership of the attribute and the target tenant's settings.", "manual"]],
  [/^Invitation/, ["A B2B invitation in the target tenant failed.", "Check the target tenant's external collaboration settings and the user's mail.", "manual"]],
];

const BY_HTTP: Record<string, Entry> = {
  BadRequest: ["The app rejected the request as malformed (HTTP 400).", "Check the mapped values the app objects to in the reason.", "nextCycle"],
  Unauthorized: NOT_AUTHORISED,
  Forbidden: ["The app refused the operation (HTTP 403).", "Check the permissions of the credential the job uses.", "nextCycle"],
  NotFound: ["The app does not know the object or endpoint (HTTP 404).", "Check the tenant URL, or whether the object was deleted in the app.", "nextCycle"],
  Conflict: CATALOGUE["Conflict"]!,
  UnprocessableEntity: CATALOGUE["UnprocessableEntity"]!,
  TooManyRequests: CATALOGUE["TooManyRequests"]!,
  InternalServerError: CATALOGUE["InternalServerError"]!,
  BadGateway: ["A gateway in front of the app failed (HTTP 502).", "Nothing to do unless it persists.", "automatic"],
  ServiceUnavailable: ["The app is unavailable (HTTP 503).", "Check the app's service health; retried automatically.", "automatic"],
  GatewayTimeout: CATALOGUE["Timeout"]!,
};

export const CATALOGUE_CODES = Object.keys(CATALOGUE);
/** Longest first, so "DuplicateTargetEntries" wins over a shorter code it ends in. */
const BY_LENGTH = [...CATALOGUE_CODES].sort((a, b) => b.length - a.length);

/**
 * Real records put the app's name in front of the base code (GoogleAppsInvalidAnchor,
 * SalesforceDuplicateTargetEntries, DropboxLicenseLimitExceeded): the catalogue code the code ends
 * in, after a prefix of whole capitalised words, or null.
 */
export function baseCode(code: string): string | null {
  for (const base of BY_LENGTH) {
    if (base.length < 6 || base === code || !code.endsWith(base)) continue;
    const prefix = code.slice(0, code.length - base.length);
    if (/^[A-Z][A-Za-z0-9]+$/.test(prefix)) return base;
  }
  return null;
}

/**
 * The code as the catalogue spells it. Microsoft's renamed pages write "Microsoft Entra ID…" (with
 * spaces or line breaks) where the codes say "AzureActiveDirectory…"; both are the same code.
 */
export function canonicalCode(code: string): string {
  const joined = /\s/.test(code) && /^(Microsoft\s*)?Entra(\s*ID)?\s/i.test(code) ? code.replace(/\s+/g, "") : code;
  return joined.replace(/^(?:Microsoft)?Entra(?:ID)?(?=[A-Z])/, "AzureActiveDirectory");
}

export function remedyFor(rawCode: string, category: ErrorCategory | null, httpStatus: string | null): Remedy {
  const code = canonicalCode(rawCode);
  const learnMore = LEARN_MORE[familyOf(code)];
  const known = Object.hasOwn(CATALOGUE, code) ? CATALOGUE[code] : undefined; // "__proto__" is a code too
  if (known) return { code: rawCode, cause: known[0], fix: known[1], retry: known[2], source: "catalogue", learnMore, ...(code !== rawCode ? { base: code } : {}) };
  const base = baseCode(code);
  if (base) {
    const entry = CATALOGUE[base]!;
    return { code: rawCode, cause: entry[0], fix: entry[1], retry: entry[2], source: "catalogue", base, learnMore: LEARN_MORE[familyOf(base)] };
  }
  for (const [re, entry] of PATTERNS) if (re.test(code)) return { code: rawCode, cause: entry[0], fix: entry[1], retry: entry[2], source: "pattern", learnMore };
  const byHttp = httpStatus && Object.hasOwn(BY_HTTP, httpStatus) ? BY_HTTP[httpStatus] : undefined;
  if (byHttp) return { code: rawCode, cause: byHttp[0], fix: byHttp[1], retry: byHttp[2], source: "httpStatus", learnMore };
  if (category === "nonServiceFailure") {
    return { code: rawCode, cause: "The app, the data or the configuration refused the change (a non-service failure).", fix: "Read the reason for the value or setting it names; an admin must change data or configuration, the failure repeats until then.", retry: "manual", source: "category", learnMore };
  }
  if (category === "failure") {
    return { code: rawCode, cause: "The provisioning service failed on its side.", fix: "Usually nothing: the object is retried in later cycles. Open a support case if it repeats for a day.", retry: "nextCycle", source: "category", learnMore };
  }
  return { code: rawCode, cause: "This error is not in provbot's catalogue.", fix: "Read the reason text; search the code in the Microsoft Entra provisioning documentation.", retry: "nextCycle", source: "unknown", learnMore };
}

export function retryText(retry: Retry, nextRetryAt: string | null): string {
  if (nextRetryAt) return `The service tries again after ${nextRetryAt.replace("T", " ").replace(/\.\d+Z$/, " UTC")}.`;
  switch (retry) {
    case "automatic":
      return "The service retries this on its own.";
    case "nextCycle":
      return "The service retries it in later cycles (backing off to once a day); it keeps failing until the cause is fixed.";
    case "manual":
      return "Retries will keep failing until an admin fixes the cause.";
    case "notApplicable":
      return "Nothing is retried: this is not a failure.";
  }
}
