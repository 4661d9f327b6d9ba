import { ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential } from "@azure/identity";
import type { TokenCredential } from "@azure/core-auth";
import type { GraphAuth } from "../../config";

/**
 * App-only token for Graph: client secret, certificate or managed identity; or a bearer token
 * used as it is (PROVBOT_GRAPH_ACCESS_TOKEN, from `az account get-access-token --resource-type
 * ms-graph`), for a quick local run against a real tenant or against a loopback Graph.
 */
export function graphCredential(auth: GraphAuth): TokenCredential {
  switch (auth.kind) {
    case "accessToken":
      return { getToken: async () => ({ token: auth.token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
    case "clientSecret":
      return new ClientSecretCredential(auth.tenantId, auth.clientId, auth.secret);
    case "certificate":
      return new ClientCertificateCredential(auth.tenantId, auth.clientId, { certificatePath: auth.certificatePath });
    case "managedIdentity":
      return auth.clientId ? new ManagedIdentityCredential({ clientId: auth.clientId }) : new ManagedIdentityCredential();
  }
}
