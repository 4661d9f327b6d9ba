/**
 * Azure Functions route templates ("items/{id}", "files/{*path}", "things/{id:int?}") compiled to
 * matchers. Pure; the host prefixes "api/" as host.json's routePrefix says.
 */
export interface RouteMatcher {
  template: string;
  match(path: string): Record<string, string> | null;
}

const CONSTRAINTS: Record<string, string> = {
  int: "-?\\d+",
  long: "-?\\d+",
  bool: "(?:true|false)",
  guid: "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}",
  alpha: "[A-Za-z]+",
};

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function compileRoute(template: string): RouteMatcher {
  const segments = template.replace(/^\/+|\/+$/g, "").split("/").filter((s) => s !== "");
  let pattern = "^";
  const names: string[] = [];
  for (const segment of segments) {
    const param = /^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?(\?)?\}$/.exec(segment);
    if (!param) {
      pattern += `/${escapeRegex(segment)}`;
      continue;
    }
    const catchAll = param[1];
    const name = param[2] ?? "";
    const constraint = param[3];
    const optional = param[4];
    names.push(name);
    const body = catchAll ? "(.*)" : `(${constraint && CONSTRAINTS[constraint] ? CONSTRAINTS[constraint] : "[^/]+"})`;
    pattern += optional || catchAll ? `(?:/${body})?` : `/${body}`;
  }
  const regex = new RegExp(`${pattern}/?$`, "i");
  return {
    template,
    match(path) {
      const m = regex.exec(path === "" ? "/" : path);
      if (!m) return null;
      const params: Record<string, string> = {};
      for (const [i, name] of names.entries()) {
        const value = m[i + 1];
        if (value === undefined) continue;
        try {
          params[name] = decodeURIComponent(value);
        } catch {
          return null; // not valid percent-encoding: no route serves it
        }
      }
      return params;
    },
  };
}
