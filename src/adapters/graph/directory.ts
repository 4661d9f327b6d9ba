import type { DirectoryLookup } from "../../app/access";
import { PROVISIONING_LOG_PERMISSION } from "../../core/access";
import { GraphHttp } from "./client";

/**
 * What access control asks Microsoft Graph about a person (application permissions:
 * RoleManagement.Read.Directory or Directory.Read.All, and Application.Read.All). The object id
 * is a GUID checked by the caller; it is still encoded into the path.
 */
export class GraphDirectory extends GraphHttp implements DirectoryLookup {
  private user(id: string): string {
    return `${this.baseUrl}/users/${encodeURIComponent(id)}`;
  }

  async roleTemplateIds(id: string): Promise<string[]> {
    const roles = await this.all(`${this.user(id)}/transitiveMemberOf/microsoft.graph.directoryRole?$select=id,roleTemplateId`);
    return roles.map((r) => String((r as { roleTemplateId?: unknown }).roleTemplateId ?? "")).filter(Boolean);
  }

  async customRoleAllows(id: string): Promise<boolean> {
    const filter = encodeURIComponent(`principalId eq '${id}'`);
    const assignments = await this.all(`${this.baseUrl}/roleManagement/directory/roleAssignments?$filter=${filter}&$expand=roleDefinition`);
    return assignments.some((a) => {
      const def = (a as { roleDefinition?: { isBuiltIn?: boolean; rolePermissions?: { allowedResourceActions?: string[] }[] } }).roleDefinition;
      return def?.isBuiltIn === false && (def.rolePermissions ?? []).some((p) => (p.allowedResourceActions ?? []).some((x) => x.toLowerCase() === PROVISIONING_LOG_PERMISSION.toLowerCase()));
    });
  }

  async ownedServicePrincipalIds(id: string): Promise<string[]> {
    const owned = await this.all(`${this.user(id)}/ownedObjects/microsoft.graph.servicePrincipal?$select=id,appId,displayName`);
    return owned.map((o) => String((o as { id?: unknown }).id ?? "")).filter(Boolean);
  }

  async groupIds(id: string): Promise<string[]> {
    const groups = await this.all(`${this.user(id)}/transitiveMemberOf/microsoft.graph.group?$select=id`, { ConsistencyLevel: "eventual" });
    return groups.map((g) => String((g as { id?: unknown }).id ?? "")).filter(Boolean);
  }
}
