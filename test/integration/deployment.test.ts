import { describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Cron } from "croner";
import { CONFIG_SETTINGS, loadConfig } from "../../src/config";
import { loadFunctionApp, type RegisteredFunction } from "../../scripts/local-host/registry";
import { bicepErrors, bicepParamDefaults, bicepSettings, bicepStringVar } from "../support/bicep";
import { ROOT } from "../support/stack";

/**
 * The deployment and the code agree (issue 24): infra/ (Bicep) sets every app setting the code
 * needs in Azure and nothing it does not read; every function has in Azure what its trigger needs;
 * every template parses (tree-sitter-bicep, offline; the Bicep compiler cannot run here); the
 * runtime is Node 22 everywhere.
 */
const infra = (name: string) => readFileSync(join(ROOT, "infra", name), "utf8");
const resources = infra("resources.bicep");
// resources.bicep's parameters come from main.bicep, with main.bicep's defaults.
const settings = bicepSettings(resources, bicepParamDefaults(infra("main.bicep")));
const names = new Set(settings.map((s) => s.name));

/** Settings the code reads that a deployment leaves unset, each with why. */
const NOT_SET_IN_AZURE: Record<string, string> = {
  PROVBOT_STORAGE_CONNECTION: "storage is reached by identity (PROVBOT_STORAGE_ACCOUNT_URL)",
  AzureWebJobsStorage: "the runtime's storage is reached by identity (AzureWebJobsStorage__*)",
  PROVBOT_TABLE_PREFIX: "the default (provbot) in a storage account of its own",
  MicrosoftAppPassword: "a UserAssignedMSI bot has no secret",
  PROVBOT_LOCAL_HOST: "the local development host only",
  PROVBOT_ALERTS: "on by default",
  PROVBOT_ACTION_CONFIRM_SECONDS: "the default (10 minutes)",
  PROVBOT_ALLOWED_TENANTS: "the bot's own tenant by default",
  PROVBOT_TENANT_GRANTS: "providers that watch customer tenants set it by hand",
  PROVBOT_ALERT_MAX_AGE_MINUTES: "the default (6 hours)",
  PROVBOT_GRAPH_TENANT_ID: "an app registration's; the identity needs none",
  PROVBOT_GRAPH_CLIENT_SECRET: "the identity has no secret",
  PROVBOT_GRAPH_CERTIFICATE_PATH: "the identity has no certificate",
  PROVBOT_GRAPH_BASE_URL: "Microsoft Graph's own (a loopback emulator in tests)",
  PROVBOT_GRAPH_LOOKBACK_MINUTES: "the default",
  PROVBOT_GRAPH_INITIAL_DAYS: "the default (7 days on the first run)",
  PROVBOT_GRAPH_ACCESS_TOKEN: "a bare token for local runs and tests",
  PROVBOT_GRAPH_LATE_HOURS: "the default",
  PROVBOT_GRAPH_LATE_EVERY_MINUTES: "the default",
  PROVBOT_INGEST_MAX_BYTES: "the default (8 MiB)",
  PROVBOT_QUESTION_MAX_CHARS: "the default",
  PROVBOT_TAB_JWKS_URL: "tests on loopback only",
  PROVBOT_ALLOWED_PRINCIPALS: "set only with access=allowlist",
};
/** Settings read by the Functions host or the Azure SDKs, not by provbot's configuration. */
const HOST_SETTINGS = ["AZURE_CLIENT_ID", "APPLICATIONINSIGHTS_CONNECTION_STRING", "APPLICATIONINSIGHTS_AUTHENTICATION_STRING"];
/** Flex Consumption rejects these (the runtime is set in functionAppConfig; the package is a blob). */
const FLEX_REJECTS = ["FUNCTIONS_WORKER_RUNTIME", "WEBSITE_RUN_FROM_PACKAGE", "WEBSITE_NODE_DEFAULT_VERSION", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "WEBSITE_CONTENTSHARE", "AzureWebJobsStorage"];

let fns: RegisteredFunction[] | null = null;
const functions = () => (fns ??= loadFunctionApp(ROOT));
/** Identity-based connections: <connection>__<property>. */
const connections = () => new Set(functions().flatMap((f) => Object.values(f.bindings).map((b) => String(b["connection"] ?? "")).filter(Boolean)));
const bindingSettings = () => new Set(functions().flatMap((f) => Object.values(f.bindings).flatMap((b) => Object.values(b).flatMap((v) => (typeof v === "string" ? [...v.matchAll(/%([^%]+)%/g)].map((m) => m[1]!) : [])))));

describe("infra/ parses", () => {
  const files = readdirSync(join(ROOT, "infra")).filter((f) => f.endsWith(".bicep"));
  it("has the templates azd and the README name", () => {
    expect(files.sort()).toEqual(["diagnostic-setting.bicep", "graph.bicep", "identity.bicep", "main.bicep", "resources.bicep"]);
  });
  for (const file of files) {
    it(`${file} parses with no error`, async () => {
      expect(await bicepErrors(infra(file))).toEqual([]);
    });
  }
  it("the parse check can fail: a missing brace and a stray token are reported with their line", async () => {
    const broken = "param a string\nresource x 'Microsoft.Web/sites@2024-04-01' = {\n  name: 'x'\n  properties: {\n    httpsOnly: true\n}\n";
    expect((await bicepErrors(broken)).length).toBeGreaterThan(0);
    expect((await bicepErrors("var a = [ 1 2 ]\nvar b = )\n")).join(" ")).toMatch(/line 2/);
  });
  it("every API version is pinned to a date (no 'latest', no registry modules)", () => {
    for (const file of files) {
      const text = infra(file);
      for (const m of text.matchAll(/resource \w+ '([^']+)'/g)) expect(m[1], `${file}: ${m[1]}`).toMatch(/@(\d{4}-\d{2}-\d{2}(-preview)?|v1\.0)$/);
      expect(text, file).not.toMatch(/module \w+ 'br[:/]/);
    }
  });
});

describe("the Function App's settings and the code agree", () => {
  it("infra sets every setting the code needs in Azure; the others are named with why they stay unset", () => {
    for (const s of CONFIG_SETTINGS) {
      if (names.has(s)) continue;
      expect(NOT_SET_IN_AZURE[s], `${s}: neither set by infra/resources.bicep nor listed as unset`).toBeTruthy();
    }
  });

  it("infra sets nothing the code, its bindings, the host or the SDKs do not read, and nothing Flex Consumption rejects", () => {
    const conns = connections();
    const bound = bindingSettings();
    const fnNames = new Set(functions().map((f) => f.name));
    for (const { name } of settings) {
      expect(FLEX_REJECTS, name).not.toContain(name);
      const disabled = /^AzureWebJobs\.(.+)\.Disabled$/.exec(name);
      const known = CONFIG_SETTINGS.includes(name) || HOST_SETTINGS.includes(name) || bound.has(name) || [...conns].some((c) => name.startsWith(`${c}__`)) || (disabled !== null && fnNames.has(disabled[1]!));
      expect(known, `${name} is set by infra but read by nothing`).toBe(true);
    }
  });

  it("the settings as deployed make a valid configuration: identity for storage, the bot, Graph and the tab", () => {
    const placeholder: Record<string, string> = {};
    for (const { name, value } of settings) placeholder[name] = value ?? `placeholder-${name}`;
    // Values only Azure knows, as they look there.
    const env = {
      ...placeholder,
      // A condition in Bicep (enableActions ? 'on' : 'off'), off by default.
      PROVBOT_ACTIONS: /PROVBOT_ACTIONS', value: enableActions \? 'on' : 'off'/.test(resources) ? "off" : "unknown",
      PROVBOT_STORAGE_ACCOUNT_URL: "https://stprovbotabc.table.core.windows.net/",
      MicrosoftAppId: "11111111-1111-4111-8111-111111111111",
      MicrosoftAppTenantId: "22222222-2222-4222-8222-222222222222",
      PROVBOT_TENANT_ID: "22222222-2222-4222-8222-222222222222",
      PROVBOT_GRAPH_CLIENT_ID: "11111111-1111-4111-8111-111111111111",
      PROVBOT_TAB_CLIENT_ID: "33333333-3333-4333-8333-333333333333",
    };
    const config = loadConfig(env);
    expect(config.storage).toEqual({ kind: "managedIdentity", accountUrl: "https://stprovbotabc.table.core.windows.net/" });
    expect(config.bot).toMatchObject({ mode: "UserAssignedMSI" });
    expect(config.graph?.auth).toMatchObject({ kind: "managedIdentity" });
    expect(config.access.mode).toBe("roles");
    expect(config.tab).not.toBeNull();
    expect(config.alerts.queue).toBe(bicepStringVar(resources, "alertQueue"));
  });
});

describe("every function has in Azure what its trigger needs", () => {
  it("the queue trigger's queue is the queue infra declares, reached by identity", () => {
    const queue = functions().find((f) => f.trigger.type === "queueTrigger")!;
    expect(queue.trigger["queueName"]).toBe("%PROVBOT_ALERT_QUEUE%");
    expect(settings.find((s) => s.name === "PROVBOT_ALERT_QUEUE")?.value).toBe(bicepStringVar(resources, "alertQueue"));
    expect(resources).toMatch(/resource outbox 'Microsoft\.Storage\/storageAccounts\/queueServices\/queues@[\d-]+' = \{\s*parent: queues\s*name: alertQueue/);
    const conn = String(queue.trigger["connection"]);
    for (const p of ["credential", "clientId", "queueServiceUri"]) expect(names, `${conn}__${p}`).toContain(`${conn}__${p}`);
  });

  it("the Event Hub trigger reads the hub infra creates, by identity, or is disabled without it", () => {
    const hub = functions().find((f) => f.trigger.type === "eventHubTrigger")!;
    expect(hub.trigger["eventHubName"]).toBe(bicepStringVar(resources, "eventHubName"));
    const conn = String(hub.trigger["connection"]);
    for (const p of ["fullyQualifiedNamespace", "credential", "clientId"]) expect(names, `${conn}__${p}`).toContain(`${conn}__${p}`);
    expect(names).toContain(`AzureWebJobs.${hub.name}.Disabled`);
    expect(names).toContain(String(hub.trigger["consumerGroup"]).replace(/%/g, ""));
  });

  it("every timer has a valid six-field schedule, and the HTTP functions the bot and the tab need exist", () => {
    const timers = functions().filter((f) => f.trigger.type === "timerTrigger");
    expect(timers.map((t) => t.name).sort()).toEqual(["alertsTimer", "graphPoll", "jobStatusPoll", "retentionPurge"]);
    for (const t of timers) {
      const schedule = String(t.trigger.schedule);
      expect(schedule.split(/\s+/), t.name).toHaveLength(6);
      expect(new Cron(schedule, { paused: true }).nextRun(), t.name).toBeInstanceOf(Date);
    }
    const routes = functions().filter((f) => f.trigger.type === "httpTrigger").map((f) => f.trigger.route);
    for (const r of ["messages", "health", "tab", "dashboard/{view}", "export", "ingest"]) expect(routes).toContain(r);
  });
});

describe("the runtime is Node 22 everywhere", () => {
  it("the Function App, package.json, the staged package and CI", () => {
    expect(resources).toMatch(/runtime: \{\s*name: 'node'\s*version: '22'\s*\}/);
    expect(resources).toMatch(/sku: \{ name: 'FC1', tier: 'FlexConsumption' \}/);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: { node: string }; dependencies: Record<string, string> };
    expect(pkg.engines.node).toBe(">=22");
    // The CLI's own libraries are not deployed.
    expect(Object.keys(pkg.dependencies)).not.toContain("commander");
    expect(Object.keys(pkg.dependencies)).not.toContain("cli-progress");
    expect(readFileSync(join(ROOT, ".ci", "run"), "utf8")).toMatch(/node@22/);
    const azure = readFileSync(join(ROOT, "azure.yaml"), "utf8");
    expect(azure).toMatch(/project: \.\/deploy\s+language: js\s+host: function/);
    expect(existsSync(join(ROOT, "deploy", "README.md"))).toBe(true);
  });

  it("the Graph permissions granted are exactly the ones the README names, each with why", () => {
    const granted = [...infra("graph.bicep").matchAll(/^\s*'([A-Za-z]+\.[A-Za-z.]+)' \/\/ /gm)].map((m) => m[1]!);
    // The three reads always; the write only with enableActions (issue 26), granted by its own loop under that condition.
    expect(granted.sort()).toEqual(["AuditLog.Read.All", "Directory.Read.All", "Synchronization.Read.All", "Synchronization.ReadWrite.All"]);
    expect(infra("graph.bicep")).toMatch(/actionGrants[^\n]*for permission in actionPermissions: if \(grantGraphPermissions && enableActions\)/);
    expect(infra("main.bicep")).toMatch(/param enableActions bool = false/);
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    for (const p of granted) expect(readme).toMatch(new RegExp(`\\| \`${p.replace(/\./g, "\\.")}\`[^|]*\\| [^|]{20,}`));
  });
});
