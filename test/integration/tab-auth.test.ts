import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPairSync } from "node:crypto";
import { createTeamsSsoVerifier } from "../../src/adapters/http/teamsSso";
import { openTabStore, type TabGateDeps } from "../../src/app/tabGate";
import { tenantList, type Access } from "../../src/core/access";
import { ScopedQueryStore } from "../../src/app/scope";
import { MemoryStore } from "../support/memoryStore";
import { startBotIssuer, type BotIssuer } from "../support/botIssuer";

/**
 * Who may read the tab's data: a Teams SSO token checked with jose against a loopback key set of
 * its own (PROVBOT_TAB_JWKS_URL, allowed on loopback only), then the bot's tenant and access rule.
 */
const TID = "11111111-2222-4333-8444-555555555555";
const OID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const CLIENT = "99999999-8888-4777-8666-555555555555";
let issuer: BotIssuer;
beforeAll(async () => {
  issuer = await startBotIssuer(CLIENT, "http://127.0.0.1/");
});
afterAll(async () => issuer?.close());

const good = (claims: Record<string, unknown> = {}) => issuer.token({ iss: `https://login.microsoftonline.com/${TID}/v2.0`, aud: CLIENT, tid: TID, oid: OID, scp: "access_as_user", name: "Ada Admin", serviceurl: undefined, ...claims });
const deps = (over: Partial<TabGateDeps> = {}): TabGateDeps => ({
  store: new MemoryStore(),
  verifier: createTeamsSsoVerifier({ clientId: CLIENT, appIdUri: `api://provbot.example.com/${CLIENT}`, jwksUrl: issuer.metadataUrl.replace("/.well-known/openidconfiguration", "/keys") }),
  openLocally: false,
  tenants: tenantList([TID]),
  tenantScoped: true,
  tenantGrants: {},
  ...over,
});
const bearer = (t: string) => `Bearer ${t}`;

describe("the tab's sign-in", () => {
  it("lets a good token in, scoped to its tenant, and takes the Application ID URI as audience too", async () => {
    const gate = await openTabStore(deps(), bearer(good()));
    expect(gate).toMatchObject({ ok: true, who: { tenantId: TID, objectId: OID, name: "Ada Admin" } });
    expect(gate.ok && gate.store).toBeInstanceOf(ScopedQueryStore);
    expect((await openTabStore(deps(), bearer(good({ aud: `api://provbot.example.com/${CLIENT}` })))).ok).toBe(true);
    expect((await openTabStore(deps(), bearer(good({ iss: `https://sts.windows.net/${TID}/` })))).ok).toBe(true);
  });

  it.each([
    ["no token", null],
    ["not a JWT", "Bearer garbage"],
    ["another audience", bearer("AUD")],
    ["another tenant's issuer", bearer("ISS")],
    ["no access_as_user scope", bearer("SCP")],
    ["expired", bearer("EXP")],
    ["alg none", bearer("NONE")],
    ["HS256", bearer("HS")],
    ["a key the tenant does not publish", bearer("FOREIGN")],
    ["no object id", bearer("OID")],
  ])("refuses %s with 401", async (_what, auth) => {
    const now = Math.floor(Date.now() / 1000);
    const forged: Record<string, () => string> = {
      AUD: () => good({ aud: "someone-else" }),
      ISS: () => good({ iss: "https://login.microsoftonline.com/00000000-0000-4000-8000-000000000000/v2.0" }),
      SCP: () => good({ scp: "User.Read" }),
      EXP: () => good({ exp: now - 3600, nbf: now - 7200, iat: now - 7200 }),
      NONE: () => {
        const [h, p] = good().split(".");
        return `${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(h!, "base64url").toString()), alg: "none" })).toString("base64url")}.${p}.`;
      },
      HS: () => issuer.hs256("secret", { iss: `https://login.microsoftonline.com/${TID}/v2.0`, aud: CLIENT, tid: TID, oid: OID, scp: "access_as_user" }),
      FOREIGN: () => issuer.token({ iss: `https://login.microsoftonline.com/${TID}/v2.0`, aud: CLIENT, tid: TID, oid: OID, scp: "access_as_user" }, {}, generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey),
      OID: () => good({ oid: undefined }),
    };
    const header = auth && forged[auth.slice(7)] ? bearer(forged[auth.slice(7)]!()) : auth;
    const refused: { reason: string }[] = [];
    const gate = await openTabStore(deps({ refused: (e) => refused.push(e) }), header);
    expect(gate).toMatchObject({ ok: false, status: 401 });
    // Logged as the bot's refusals are: one line with a reason, never the token.
    expect(refused).toHaveLength(1);
    expect(refused[0]!.reason.length).toBeGreaterThan(0);
    expect(JSON.stringify(refused)).not.toMatch(/eyJ/);
  });

  it("applies the bot's rule: another tenant and a refused person get 403; an unreadable directory 503", async () => {
    const refused: string[] = [];
    expect(await openTabStore(deps({ tenants: tenantList(["22222222-2222-4222-8222-222222222222"]), refused: (e) => refused.push(e.reason) }), bearer(good()))).toMatchObject({ ok: false, status: 403 });
    const decide = (a: Access) => ({ decide: async () => a });
    expect(await openTabStore(deps({ access: decide({ kind: "refused", reason: "no role" }), refused: (e) => refused.push(e.reason) }), bearer(good()))).toMatchObject({ ok: false, status: 403 });
    expect(await openTabStore(deps({ access: decide({ kind: "unavailable", reason: "graph down" }) }), bearer(good()))).toMatchObject({ ok: false, status: 503 });
    expect(refused).toEqual(["tenant not allowed", "no role"]);
    // An application owner reads only their own apps.
    const owner = await openTabStore(deps({ access: decide({ kind: "owner", servicePrincipalIds: ["sp-1"], why: "owner" }) }), bearer(good()));
    expect(owner.ok && owner.store).toBeInstanceOf(ScopedQueryStore);
  });

  it("without a sign-in configured, is open on the unauthenticated local host only", async () => {
    expect(await openTabStore(deps({ verifier: null, openLocally: true }), null)).toMatchObject({ ok: true, who: null });
    expect(await openTabStore(deps({ verifier: null, openLocally: false }), bearer(good()))).toMatchObject({ ok: false, status: 401 });
  });

  it("keys that cannot be fetched answer 503, and a key set beyond loopback cannot be configured for tests", async () => {
    const down = createTeamsSsoVerifier({ clientId: CLIENT, appIdUri: null, jwksUrl: "http://127.0.0.1:9/keys" });
    expect(await openTabStore(deps({ verifier: down }), bearer(good()))).toMatchObject({ ok: false, status: 503 });
    expect(() => createTeamsSsoVerifier({ clientId: CLIENT, appIdUri: null, jwksUrl: "https://evil.example.com/keys" })).toThrow(/loopback/);
  });
});
