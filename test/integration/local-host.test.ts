import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { request } from "node:http";
import { startLocalHost, type LocalHost } from "../../scripts/local-host/server";

type Call = { fn: string; isPastDue?: boolean; name?: string; messages?: unknown };
const calls = (): Call[] => ((globalThis as { __fixtureCalls?: Call[] }).__fixtureCalls ??= []);

let host: LocalHost;
const logs: string[] = [];

beforeAll(async () => {
  host = await startLocalHost({ root: join(__dirname, "..", "fixtures", "function-app"), port: 0, functionKey: "k3y", log: (l) => logs.push(l) });
});
afterAll(async () => host?.close());

/** A GET with a chosen Host header (fetch does not let a page or a test set it). */
function getWithHost(path: string, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(hostUrl());
    const headers: Record<string, string> = host === undefined ? {} : { host };
    const req = request({ hostname: "127.0.0.1", port: u.port, path, method: "GET", headers, setHost: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}
const hostUrl = () => host.url;

describe("local Functions host", () => {
  it("answers only to loopback Host names (no DNS rebinding), and to names added for a tunnel", async () => {
    const port = new URL(host.url).port;
    for (const ok of [`127.0.0.1:${port}`, `localhost:${port}`, "localhost", `[::1]:${port}`, `LOCALHOST:${port}`]) expect(await getWithHost("/api/echo/x", ok), ok).toBe(200);
    for (const bad of ["evil.example", `evil.example:${port}`, `127.0.0.1.evil.example:${port}`, `localhost.evil.example`, "127.0.0.1@evil.example", `127.0.0.1:${port}/x`]) expect(await getWithHost("/api/echo/x", bad), bad).toBe(421);
    // No Host at all, or an empty one: refused too (by Node itself, 400, or by the host, 421).
    for (const bad of ["", undefined]) expect([400, 421]).toContain(await getWithHost("/api/echo/x", bad));
    const tunnel = await startLocalHost({ root: join(__dirname, "..", "fixtures", "function-app"), port: 0, functionKey: "k3y", log: () => undefined, timers: false, hostNames: ["abc123.devtunnels.ms"] });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ hostname: "127.0.0.1", port: new URL(tunnel.url).port, path: "/api/echo/x", headers: { host: "abc123.devtunnels.ms" } }, (res) => (res.resume(), resolve(res.statusCode ?? 0)));
        req.on("error", reject);
        req.end();
      });
      expect(status).toBe(200);
    } finally {
      await tunnel.close();
    }
  });

  it("discovers exactly the functions the app registers", () => {
    expect(host.functions.map((f) => f.name).sort()).toEqual(["boom", "echo", "hub", "secret", "tick"]);
  });

  it("serves routes with params, query, headers and body", async () => {
    const res = await fetch(`${host.url}/api/echo/alice/more?x=1`, { method: "POST", body: "hello", headers: { "x-probe": "p" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ method: "POST", params: { name: "alice", rest: "more" }, query: { x: "1" }, header: "p", body: "hello" });
  });

  it("answers 405 for a method the function does not accept and 404 for no route", async () => {
    expect((await fetch(`${host.url}/api/echo/alice`, { method: "DELETE" })).status).toBe(405);
    expect((await fetch(`${host.url}/api/nothing-here`)).status).toBe(404);
    expect((await fetch(`${host.url}/elsewhere`)).status).toBe(404);
  });

  it("requires the function key for function-level routes, by header or ?code=", async () => {
    expect((await fetch(`${host.url}/api/secret`)).status).toBe(401);
    expect((await fetch(`${host.url}/api/secret`, { headers: { "x-functions-key": "wrong" } })).status).toBe(401);
    const byHeader = await fetch(`${host.url}/api/secret`, { headers: { "x-functions-key": "k3y" } });
    expect(await byHeader.text()).toBe("the secret");
    expect((await fetch(`${host.url}/api/secret?code=k3y`)).status).toBe(200);
  });

  it("turns a thrown error into a 500 and logs it", async () => {
    const res = await fetch(`${host.url}/api/boom`);
    expect(res.status).toBe(500);
    expect(logs.some((l) => l.includes("kaboom"))).toBe(true);
  });

  it("fires timers on their schedule", async () => {
    const before = calls().filter((c) => c.fn === "tick").length;
    await new Promise((r) => setTimeout(r, 2200));
    const ticks = calls().filter((c) => c.fn === "tick");
    expect(ticks.length - before).toBeGreaterThanOrEqual(1);
    expect(ticks[0]).toMatchObject({ isPastDue: false, name: "tick" });
  });

  it("runs any non-HTTP function on demand through /admin/functions/<name>, with the key", async () => {
    const url = `${host.url}/admin/functions/hub`;
    const body = JSON.stringify({ input: JSON.stringify([{ records: [1] }]) });
    expect((await fetch(url, { method: "POST", body })).status).toBe(401);
    const res = await fetch(url, { method: "POST", body, headers: { "x-functions-key": "k3y" } });
    expect(res.status).toBe(202);
    await expect.poll(() => calls().find((c) => c.fn === "hub")?.messages).toEqual([{ records: [1] }]);
    expect((await fetch(`${host.url}/admin/functions/nope`, { method: "POST", headers: { "x-functions-key": "k3y" } })).status).toBe(404);
    expect((await fetch(`${host.url}/admin/functions/echo`, { method: "POST", headers: { "x-functions-key": "k3y" } })).status).toBe(400);
  });
});
