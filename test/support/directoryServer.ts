import { createServer, type Server } from "node:http";
import { listenOnLoopback } from "./loopback";

/**
 * A loopback stand-in for the Microsoft Graph directory endpoints access control reads, speaking
 * their documented shapes: transitive directory roles and groups of a user, role assignments with
 * their definition expanded, and the service principals a user owns. Pages of 2 with
 * @odata.nextLink, so the client's paging is exercised. `fail` answers every request with that status.
 */
export interface DirectoryUser {
  roles?: string[];
  customPermissions?: string[];
  owns?: string[];
  groups?: string[];
}

export interface DirectoryServer {
  baseUrl: string;
  users: Map<string, DirectoryUser>;
  requests: { path: string; authorization: string | undefined }[];
  fail: number | null;
  close(): Promise<void>;
}

export async function startDirectoryServer(users: Record<string, DirectoryUser>): Promise<DirectoryServer> {
  const state: DirectoryServer = { baseUrl: "", users: new Map(Object.entries(users)), requests: [], fail: null, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    state.requests.push({ path: `${url.pathname}${url.search}`, authorization: req.headers.authorization });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (state.fail) return send(state.fail, { error: { code: "ServiceUnavailable", message: "simulated" } });
    const page = (items: unknown[]) => {
      const skip = Number(url.searchParams.get("$skiptoken") ?? 0);
      const body: Record<string, unknown> = { value: items.slice(skip, skip + 2) };
      if (skip + 2 < items.length) {
        const next = new URL(url.toString());
        next.searchParams.set("$skiptoken", String(skip + 2));
        body["@odata.nextLink"] = `${state.baseUrl}${next.pathname.replace(/^\/v1\.0/, "")}${next.search}`;
      }
      send(200, body);
    };
    const m = /^\/v1\.0\/users\/([^/]+)\/(transitiveMemberOf|ownedObjects)\/microsoft\.graph\.(directoryRole|group|servicePrincipal)$/.exec(url.pathname);
    if (m) {
      const user = state.users.get(decodeURIComponent(m[1]!));
      if (!user) return send(404, { error: { code: "Request_ResourceNotFound", message: "no such user" } });
      if (m[3] === "directoryRole") return page((user.roles ?? []).map((r, i) => ({ id: `role-${i}`, roleTemplateId: r })));
      if (m[3] === "group") return page((user.groups ?? []).map((id) => ({ id })));
      return page((user.owns ?? []).map((id) => ({ id, appId: `app-${id}`, displayName: `App ${id}` })));
    }
    if (url.pathname === "/v1.0/roleManagement/directory/roleAssignments") {
      const principal = /principalId eq '([^']+)'/.exec(url.searchParams.get("$filter") ?? "")?.[1] ?? "";
      const user = state.users.get(principal);
      const perms = user?.customPermissions ?? [];
      return page(perms.length ? [{ id: "ra-1", principalId: principal, roleDefinition: { id: "rd-1", isBuiltIn: false, rolePermissions: [{ allowedResourceActions: perms }] } }] : []);
    }
    send(404, { error: { code: "NotFound", message: url.pathname } });
  });
  const { origin, close } = await listenOnLoopback(server);
  state.baseUrl = `${origin}/v1.0`;
  state.close = close;
  return state;
}
