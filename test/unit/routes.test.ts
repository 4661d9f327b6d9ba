import { describe, expect, it } from "vitest";
import { compileRoute } from "../../scripts/local-host/routes";

describe("route templates", () => {
  it.each([
    ["messages", "/messages", {}],
    ["messages", "/messages/", {}],
    ["events/{changeId}", "/events/abc-123", { changeId: "abc-123" }],
    ["events/{changeId}", "/events/a%20b", { changeId: "a b" }],
    ["items/{id:int}", "/items/42", { id: "42" }],
    ["items/{id:int?}", "/items", {}],
    ["files/{*path}", "/files/a/b/c.json", { path: "a/b/c.json" }],
    ["Health", "/health", {}],
  ])("%s matches %s", (template, path, params) => {
    expect(compileRoute(template).match(path)).toEqual(params);
  });

  it.each([
    ["messages", "/message"],
    ["messages", "/messages/extra"],
    ["items/{id:int}", "/items/abc"],
    ["events/{changeId}", "/events"],
    ["events/{changeId}", "/events/a/b"],
  ])("%s does not match %s", (template, path) => {
    expect(compileRoute(template).match(path)).toBeNull();
  });
});
