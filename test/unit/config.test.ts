import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, AZURITE_CONNECTION_STRING } from "../../src/config";

const storage = { AzureWebJobsStorage: AZURITE_CONNECTION_STRING(10002) };
/** Deployed, provbot reads the asker's roles through Microsoft Graph (PROVBOT_ACCESS=roles, the default). */
const graph = { PROVBOT_GRAPH_MANAGED_IDENTITY: "true" };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("configuration", () => {
  it("allows no bot authentication only on the local host", () => {
    expect(loadConfig({ ...storage, PROVBOT_LOCAL_HOST: "true" }).bot).toEqual({ mode: "none" });
    expect(problems({ ...storage, ...graph })).toEqual([expect.stringContaining("MicrosoftAppId: missing")]);
  });

  it("names the missing storage setting", () => {
    expect(problems({ PROVBOT_LOCAL_HOST: "1" })).toEqual([expect.stringContaining("PROVBOT_STORAGE_CONNECTION")]);
  });

  it("prefers PROVBOT_STORAGE_CONNECTION and maps UseDevelopmentStorage to Azurite", () => {
    const cfg = loadConfig({ PROVBOT_LOCAL_HOST: "1", PROVBOT_STORAGE_CONNECTION: "UseDevelopmentStorage=true", AzureWebJobsStorage: "other" });
    expect(cfg.storage).toEqual({ kind: "connectionString", connectionString: AZURITE_CONNECTION_STRING(10002, 10001) });
  });

  it("uses managed identity when an account URL is given", () => {
    const cfg = loadConfig({ PROVBOT_LOCAL_HOST: "1", PROVBOT_STORAGE_ACCOUNT_URL: "https://acct.table.core.windows.net" });
    expect(cfg.storage).toEqual({ kind: "managedIdentity", accountUrl: "https://acct.table.core.windows.net" });
  });

  it("accepts SingleTenant and UserAssignedMSI bots", () => {
    const single = loadConfig({ ...storage, ...graph, MicrosoftAppId: "app", MicrosoftAppType: "SingleTenant", MicrosoftAppTenantId: "tid", MicrosoftAppPassword: "pw" });
    expect(single.bot).toEqual({ mode: "SingleTenant", appId: "app", tenantId: "tid", password: "pw" });
    const msi = loadConfig({ ...storage, ...graph, MicrosoftAppId: "app", MicrosoftAppType: "UserAssignedMSI", MicrosoftAppTenantId: "tid" });
    expect(msi.bot).toEqual({ mode: "UserAssignedMSI", appId: "app", tenantId: "tid" });
  });

  it("rejects a missing or multi-tenant app type, naming the setting", () => {
    expect(problems({ ...storage, ...graph, MicrosoftAppId: "app", MicrosoftAppTenantId: "tid" })).toEqual([expect.stringContaining("MicrosoftAppType: missing")]);
    expect(problems({ ...storage, ...graph, MicrosoftAppId: "app", MicrosoftAppType: "MultiTenant", MicrosoftAppTenantId: "tid" })).toEqual([
      expect.stringContaining('"MultiTenant" is not supported'),
    ]);
    expect(problems({ ...storage, ...graph, MicrosoftAppId: "app", MicrosoftAppType: "SingleTenant" })).toEqual([
      expect.stringContaining("MicrosoftAppTenantId"),
      expect.stringContaining("MicrosoftAppPassword"),
    ]);
  });

  it("validates numbers and names the setting", () => {
    expect(problems({ ...storage, PROVBOT_LOCAL_HOST: "1", PROVBOT_RETENTION_DAYS: "ten" })).toEqual([expect.stringMatching(/^PROVBOT_RETENTION_DAYS: .*"ten"/)]);
    expect(loadConfig({ ...storage, PROVBOT_LOCAL_HOST: "1", PROVBOT_RETENTION_DAYS: "90" }).retentionDays).toBe(90);
    expect(problems({ ...storage, PROVBOT_LOCAL_HOST: "maybe" })).toEqual([expect.stringMatching(/^PROVBOT_LOCAL_HOST: /)]);
  });

  it("chooses who may ask: tenant on the local host only, roles by default when deployed, which needs Graph; an allow-list needs its ids", () => {
    expect(loadConfig({ ...storage, PROVBOT_LOCAL_HOST: "1" }).access).toEqual({ mode: "tenant", principals: [] });
    const bot = { MicrosoftAppId: "app", MicrosoftAppType: "UserAssignedMSI", MicrosoftAppTenantId: "tid" };
    expect(loadConfig({ ...storage, ...graph, ...bot }).access.mode).toBe("roles");
    expect(problems({ ...storage, ...bot })).toEqual([expect.stringContaining('PROVBOT_ACCESS: "roles" reads the asker')]);
    expect(problems({ ...storage, ...graph, ...bot, PROVBOT_ACCESS: "tenant" })).toEqual([expect.stringContaining("allowed only on the local development host")]);
    expect(problems({ ...storage, ...graph, ...bot, PROVBOT_ACCESS: "allowlist" })).toEqual([expect.stringContaining("PROVBOT_ALLOWED_PRINCIPALS: missing")]);
    const ids = "AAAAAAAA-0000-0000-0000-000000000001, bbbbbbbb-0000-0000-0000-000000000002";
    expect(loadConfig({ ...storage, ...graph, ...bot, PROVBOT_ACCESS: "allowlist", PROVBOT_ALLOWED_PRINCIPALS: ids }).access).toEqual({ mode: "allowlist", principals: ["aaaaaaaa-0000-0000-0000-000000000001", "bbbbbbbb-0000-0000-0000-000000000002"] });
    expect(problems({ ...storage, PROVBOT_LOCAL_HOST: "1", PROVBOT_ACCESS: "everyone" })).toEqual([expect.stringMatching(/^PROVBOT_ACCESS: /)]);
  });
});
