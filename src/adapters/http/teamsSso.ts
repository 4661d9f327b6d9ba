import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from "jose";
import type { TabIdentity, TabVerifier } from "../../app/tabGate";

/**
 * Teams SSO tokens for the tab (`authentication.getAuthToken` in the page), checked with `jose`:
 * RS256 only, signed by a key the token's tenant publishes, issued by that tenant (v2.0 or v1
 * issuer), for this app (its client id or Application ID URI), with the `access_as_user` scope,
 * not expired. `jwksUrl` replaces Microsoft's key endpoint for tests on loopback only.
 */
export interface TeamsSsoOptions {
  clientId: string;
  appIdUri: string | null;
  jwksUrl?: string | null;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_TENANT_KEY_SETS = 100;

export function createTeamsSsoVerifier(options: TeamsSsoOptions): TabVerifier {
  if (options.jwksUrl && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(options.jwksUrl)) throw new Error("PROVBOT_TAB_JWKS_URL is for tests on loopback only");
  const keySets = new Map<string, JWTVerifyGetKey>();
  const keysOf = (tenantId: string): JWTVerifyGetKey => {
    const url = options.jwksUrl ?? `https://login.microsoftonline.com/${tenantId}/discovery/v2.0/keys`;
    let set = keySets.get(url);
    if (!set) {
      if (keySets.size >= MAX_TENANT_KEY_SETS) keySets.delete(keySets.keys().next().value!);
      keySets.set(url, (set = createRemoteJWKSet(new URL(url), { timeoutDuration: 5_000, cooldownDuration: 30_000 })));
    }
    return set;
  };
  const audience = [options.clientId, ...(options.appIdUri ? [options.appIdUri] : [])];
  return {
    async verify(token: string): Promise<TabIdentity | { error: string; unavailable?: boolean }> {
      let tenantId: string;
      try {
        tenantId = String(decodeJwt(token)["tid"] ?? "").toLowerCase();
      } catch {
        return { error: "not a JWT" };
      }
      if (!GUID.test(tenantId)) return { error: "the token names no tenant" };
      try {
        const { payload } = await jwtVerify(token, keysOf(tenantId), {
          algorithms: ["RS256"],
          audience,
          issuer: [`https://login.microsoftonline.com/${tenantId}/v2.0`, `https://sts.windows.net/${tenantId}/`],
          clockTolerance: 60,
          requiredClaims: ["exp", "oid", "tid"],
        });
        const scopes = String(payload["scp"] ?? "").split(" ");
        if (!scopes.includes("access_as_user")) return { error: "the token lacks the access_as_user scope" };
        return { tenantId, objectId: String(payload["oid"]).toLowerCase(), name: String(payload["name"] ?? payload["preferred_username"] ?? "") };
      } catch (err) {
        // Keys that cannot be fetched are an outage, not a bad token.
        if (err instanceof joseErrors.JWKSTimeout || (err instanceof Error && /fetch|ECONNREFUSED|network/i.test(err.message) && !(err instanceof joseErrors.JOSEError))) return { error: "the signing keys could not be fetched", unavailable: true };
        return { error: err instanceof joseErrors.JOSEError ? err.code : "invalid token" };
      }
    },
  };
}
