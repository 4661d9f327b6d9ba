import { isGuid } from "./text";
import type { ProvisioningEvent } from "./event";

/**
 * Links into the Microsoft Entra admin center, where the fix is made: an app's Provisioning page
 * (Enterprise applications → the app → Provisioning), built from the service principal object id
 * and the application (client) id that provisioning records carry in the system details.
 */
const ENTRA = "https://entra.microsoft.com/#view/Microsoft_AAD_IAM/ManagedAppMenuBlade/~/ProvisioningManagement";

export function provisioningPageUrl(servicePrincipalId: string, appId: string): string | null {
  if (!isGuid(servicePrincipalId) || !isGuid(appId)) return null;
  return `${ENTRA}/appId/${appId.toLowerCase()}/objectId/${servicePrincipalId.toLowerCase()}`;
}

/** The app's ids as an event carries them: the target system's details, or the source's for HR inbound. */
export function appIds(e: Pick<ProvisioningEvent, "servicePrincipal" | "targetSystem" | "sourceSystem">): { servicePrincipalId: string; appId: string } {
  for (const system of [e.targetSystem, e.sourceSystem]) {
    const appId = system.details["ApplicationId"] ?? "";
    if (appId) return { servicePrincipalId: system.details["ServicePrincipalId"] || e.servicePrincipal.id, appId };
  }
  return { servicePrincipalId: e.servicePrincipal.id, appId: "" };
}

export function eventPortalUrl(e: Pick<ProvisioningEvent, "servicePrincipal" | "targetSystem" | "sourceSystem">): string | null {
  const { servicePrincipalId, appId } = appIds(e);
  return provisioningPageUrl(servicePrincipalId, appId);
}
