import { ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential } from "@azure/identity";
import type { TokenCredential } from "@azure/core-auth";
import type { GraphAuth } from "../../config";

/** App-only token for Graph (AuditLog.Read.All): client secret, certificate or managed identity. */
export function graphCredential(auth: GraphAuth): TokenCredential {
  switch (auth.kind) {
    case "clientSecret":
      return new ClientSecretCredential(auth.tenantId, auth.clientId, auth.secret);
    case "certificate":
      return new ClientCertificateCredential(auth.tenantId, auth.clientId, { certificatePath: auth.certificatePath });
    case "managedIdentity":
      return auth.clientId ? new ManagedIdentityCredential({ clientId: auth.clientId }) : new ManagedIdentityCredential();
  }
}
