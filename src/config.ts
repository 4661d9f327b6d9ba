import { DEFAULT_QUESTION_MAX_CHARS } from "./core/ask/question";
import { z } from "zod";

/**
 * Typed configuration, read once from the environment (in Azure: App Settings; locally:
 * local.settings.json "Values", which the local host copies into the environment exactly as
 * Core Tools does). Validation names the offending setting.
 */

/** The well-known Azurite development account: its table endpoint, and its queue endpoint when given. */
export const AZURITE_CONNECTION_STRING = (port = 10002, queuePort?: number): string =>
  "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
  "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
  `TableEndpoint=http://127.0.0.1:${port}/devstoreaccount1;` +
  (queuePort ? `QueueEndpoint=http://127.0.0.1:${queuePort}/devstoreaccount1;` : "");

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === "" ? undefined : v))
  .optional();

const boolish = z
  .string()
  .trim()
  .toLowerCase()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v === "") return undefined;
    if (["1", "true", "yes", "on"].includes(v)) return true;
    if (["0", "false", "no", "off"].includes(v)) return false;
    ctx.addIssue({ code: "custom", message: `expected true or false, got "${v}"` });
    return z.NEVER;
  });

const positiveInt = (fallback: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === "") return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) {
        ctx.addIssue({ code: "custom", message: `expected a positive whole number, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

/** POST /api/ingest takes bodies up to this size; larger files go through `provbot ingest`, which streams. */
export const DEFAULT_INGEST_MAX_BYTES = 8 * 1024 * 1024;
/** A chat message longer than this is answered with the limit, not parsed. */

const envSchema = z.object({
  PROVBOT_STORAGE_CONNECTION: optionalString,
  AzureWebJobsStorage: optionalString,
  PROVBOT_STORAGE_ACCOUNT_URL: optionalString.pipe(z.url().optional()),
  PROVBOT_TABLE_PREFIX: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === undefined || v === "" ? "provbot" : v))
    .pipe(z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,39}$/, "letters and digits only, starting with a letter, at most 40")),
  MicrosoftAppId: optionalString,
  MicrosoftAppType: optionalString,
  MicrosoftAppTenantId: optionalString,
  MicrosoftAppPassword: optionalString,
  PROVBOT_LOCAL_HOST: boolish,
  PROVBOT_RETENTION_DAYS: positiveInt(30),
  PROVBOT_ALERTS: z.enum(["on", "off"], { message: 'expected "on" or "off"' }).default("on"),
  /** Actions on provisioning jobs from Teams (issue 26): off unless turned on, with Synchronization.ReadWrite.All granted. */
  PROVBOT_ACTIONS: z.enum(["on", "off"], { message: 'expected "on" or "off"' }).default("off"),
  /** How long a job action's confirmation may be pressed. */
  PROVBOT_ACTION_CONFIRM_SECONDS: positiveInt(600),
  /** Who may ask: roles (the portal's rule, through Graph), allowlist, or tenant (local host only). */
  PROVBOT_ACCESS: z.enum(["roles", "allowlist", "tenant"], { message: 'expected "roles", "allowlist" or "tenant"' }).optional(),
  /** Object ids of users and groups, for PROVBOT_ACCESS=allowlist. */
  PROVBOT_ALLOWED_PRINCIPALS: optionalString.pipe(
    z
      .string()
      .regex(/^\s*[0-9a-fA-F-]{36}\s*(,\s*[0-9a-fA-F-]{36}\s*)*$/, "a comma-separated list of object ids (GUIDs)")
      .optional(),
  ),
  /**
   * A provider that watches customer tenants: "<conversation tenant>=<data tenant>|<data tenant>;..."
   * lets conversations of the first tenant read the data of the others (and their records be stored).
   */
  PROVBOT_TENANT_GRANTS: optionalString.pipe(
    z
      .string()
      .regex(/^\s*[0-9a-fA-F-]{36}\s*=\s*[0-9a-fA-F-]{36}(\s*\|\s*[0-9a-fA-F-]{36})*\s*(;\s*[0-9a-fA-F-]{36}\s*=\s*[0-9a-fA-F-]{36}(\s*\|\s*[0-9a-fA-F-]{36})*\s*)*;?\s*$/, "tenant=tenant|tenant;... (tenant ids)")
      .optional(),
  ),
  /**
   * The deployment's own tenant: data that arrives without a tenant id (some downloads, job
   * status read through a managed identity) is stamped with it. Default: the Graph poller's
   * tenant, else the bot registration's, else the one allowed tenant.
   */
  PROVBOT_TENANT_ID: optionalString.pipe(z.string().regex(/^[0-9a-fA-F-]{36}$/, "a tenant id (GUID)").optional()),
  /** Comma-separated tenant ids that may use the bot and whose records are ingested. */
  PROVBOT_ALLOWED_TENANTS: optionalString.pipe(
    z
      .string()
      .regex(/^\s*[0-9a-fA-F-]{36}\s*(,\s*[0-9a-fA-F-]{36}\s*)*$/, "a comma-separated list of tenant ids (GUIDs)")
      .optional(),
  ),
  /** The alert outbox (a Storage Queue in the same account); the alertsSend function reads it. */
  PROVBOT_ALERT_QUEUE: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === undefined || v === "" ? "provbot-alerts" : v))
    .pipe(z.string().regex(/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/, "a Storage Queue name: 3-63 lowercase letters, digits and single hyphens")),
  PROVBOT_ALERT_MAX_AGE_MINUTES: positiveInt(360),
  PROVBOT_GRAPH_TENANT_ID: optionalString,
  PROVBOT_GRAPH_CLIENT_ID: optionalString,
  PROVBOT_GRAPH_CLIENT_SECRET: optionalString,
  PROVBOT_GRAPH_CERTIFICATE_PATH: optionalString,
  PROVBOT_GRAPH_MANAGED_IDENTITY: boolish,
  PROVBOT_GRAPH_BASE_URL: optionalString.pipe(z.url().optional()),
  PROVBOT_GRAPH_LOOKBACK_MINUTES: positiveInt(60),
  PROVBOT_GRAPH_INITIAL_DAYS: positiveInt(7),
  PROVBOT_GRAPH_ACCESS_TOKEN: optionalString,
  PROVBOT_GRAPH_LATE_HOURS: positiveInt(3),
  PROVBOT_GRAPH_LATE_EVERY_MINUTES: positiveInt(30),
  PROVBOT_INGEST_MAX_BYTES: positiveInt(DEFAULT_INGEST_MAX_BYTES),
  PROVBOT_QUESTION_MAX_CHARS: positiveInt(DEFAULT_QUESTION_MAX_CHARS),
  PROVBOT_TAB_CLIENT_ID: optionalString,
  PROVBOT_TAB_APP_ID_URI: optionalString,
  PROVBOT_TAB_JWKS_URL: optionalString,
  PROVBOT_TAB_DOMAIN: optionalString,
});

/** Every app setting provbot reads (the deployment test checks infra/ against this list). */
export const CONFIG_SETTINGS: readonly string[] = Object.keys(envSchema.shape);

export type BotAuth =
  | { mode: "none" }
  | { mode: "SingleTenant"; appId: string; tenantId: string; password: string }
  | { mode: "UserAssignedMSI"; appId: string; tenantId: string };

export type StorageConfig =
  | { kind: "connectionString"; connectionString: string }
  | { kind: "managedIdentity"; accountUrl: string };

export type GraphAuth =
  | { kind: "clientSecret"; tenantId: string; clientId: string; secret: string }
  | { kind: "certificate"; tenantId: string; clientId: string; certificatePath: string }
  | { kind: "managedIdentity"; clientId?: string }
  /** A bearer token used as it is (PROVBOT_GRAPH_ACCESS_TOKEN): quick local runs and loopback tests. */
  | { kind: "accessToken"; token: string; tenantId: string };

/** The Graph pollers' watermark name: one per tenant (or per managed identity / bare token). */
export function graphWatermarkName(auth: GraphAuth): string {
  return `graph:${auth.kind === "managedIdentity" ? "mi" : auth.tenantId || "token"}`;
}

export interface GraphConfig {
  auth: GraphAuth;
  baseUrl: string;
  lookbackMinutes: number;
  initialDays: number;
  /** The second, slower sweep for records that show up late: how far back, and how often. */
  lateHours: number;
  lateEveryMinutes: number;
}

export interface AppConfig {
  storage: StorageConfig;
  tablePrefix: string;
  bot: BotAuth;
  /** True only when served by the local development host on loopback. */
  localHost: boolean;
  retentionDays: number;
  /** Null when Graph polling is not configured (ingestion then comes from Event Hub or uploads). */
  graph: GraphConfig | null;
  /** Proactive alerts; maxAgeMinutes: batches older than this are history and never alert. */
  alerts: { enabled: boolean; maxAgeMinutes: number; queue: string };
  /** Job actions from Teams (PROVBOT_ACTIONS, off by default): needs Graph with Synchronization.ReadWrite.All. */
  actions: boolean;
  /** How long a job action's confirmation may be pressed (PROVBOT_ACTION_CONFIRM_SECONDS). */
  actionConfirmSeconds: number;
  /**
   * Tenants that may talk to the bot and whose records are stored: PROVBOT_ALLOWED_TENANTS, else
   * the bot registration's tenant; null (every tenant) only on the unauthenticated local host.
   */
  allowedTenants: string[] | null;
  /**
   * The deployment's own tenant ("" only when nothing names it: the local demo): data without a
   * tenant id is stamped with it when stored, and read as its own; never shown to every tenant.
   */
  ownTenant: string;
  /** PROVBOT_ACCESS (default: tenant on the local host, roles elsewhere) and its allow-list. */
  access: { mode: "roles" | "allowlist" | "tenant"; principals: string[] };
  /** Conversation tenant -> the other tenants whose data it may read (PROVBOT_TENANT_GRANTS). */
  tenantGrants: Record<string, string[]>;
  /** Caps on the work one request may cause. */
  limits: { ingestMaxBytes: number; questionMaxChars: number };
  /**
   * The Teams tab's sign-in (Teams SSO): the app registration whose `access_as_user` scope the
   * page's token carries. Null: the tab's data is open on the unauthenticated local host only.
   */
  tab: { clientId: string; appIdUri: string | null; jwksUrl: string | null; domain: string | null } | null;
  version: string;
}

/** The tenant the Graph pollers' data belongs to: the Graph app's tenant, else (a managed identity, a bare token) the deployment's own. */
export function graphDataTenant(config: Pick<AppConfig, "graph" | "ownTenant">): string {
  const auth = config.graph?.auth;
  return (auth && auth.kind !== "managedIdentity" && auth.tenantId ? auth.tenantId.toLowerCase() : "") || config.ownTenant;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`provbot configuration is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env, version = "0.0.0"): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".") || "(environment)"}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];

  let storage: StorageConfig | undefined;
  const conn = e.PROVBOT_STORAGE_CONNECTION ?? e.AzureWebJobsStorage;
  if (e.PROVBOT_STORAGE_ACCOUNT_URL) storage = { kind: "managedIdentity", accountUrl: e.PROVBOT_STORAGE_ACCOUNT_URL };
  else if (conn === "UseDevelopmentStorage=true") storage = { kind: "connectionString", connectionString: AZURITE_CONNECTION_STRING(10002, 10001) };
  else if (conn) storage = { kind: "connectionString", connectionString: conn };
  else
    problems.push(
      "PROVBOT_STORAGE_CONNECTION: missing. Set a Table Storage connection string (or AzureWebJobsStorage), " +
        "or PROVBOT_STORAGE_ACCOUNT_URL for managed identity.",
    );

  let bot: BotAuth = { mode: "none" };
  const localHost = e.PROVBOT_LOCAL_HOST === true;
  if (!e.MicrosoftAppId) {
    if (!localHost)
      problems.push(
        "MicrosoftAppId: missing. Bot authentication may be off only on the local development host; " +
          "in Azure set MicrosoftAppId, MicrosoftAppType and MicrosoftAppTenantId.",
      );
  } else {
    const type = e.MicrosoftAppType;
    if (!e.MicrosoftAppTenantId) problems.push("MicrosoftAppTenantId: missing (required for SingleTenant and UserAssignedMSI bots).");
    if (type === "SingleTenant") {
      if (!e.MicrosoftAppPassword) problems.push("MicrosoftAppPassword: missing (required when MicrosoftAppType is SingleTenant).");
      bot = { mode: "SingleTenant", appId: e.MicrosoftAppId, tenantId: e.MicrosoftAppTenantId ?? "", password: e.MicrosoftAppPassword ?? "" };
    } else if (type === "UserAssignedMSI") {
      bot = { mode: "UserAssignedMSI", appId: e.MicrosoftAppId, tenantId: e.MicrosoftAppTenantId ?? "" };
    } else {
      problems.push(
        `MicrosoftAppType: ${type ? `"${type}" is not supported` : "missing"}. Use SingleTenant or UserAssignedMSI ` +
          "(multi-tenant bot registrations can no longer be created; leaving it unset makes botbuilder assume MultiTenant and reject tokens).",
      );
    }
  }

  let graph: GraphConfig | null = null;
  const graphBase = {
    baseUrl: e.PROVBOT_GRAPH_BASE_URL ?? "https://graph.microsoft.com/v1.0",
    lookbackMinutes: e.PROVBOT_GRAPH_LOOKBACK_MINUTES,
    initialDays: e.PROVBOT_GRAPH_INITIAL_DAYS,
    lateHours: e.PROVBOT_GRAPH_LATE_HOURS,
    lateEveryMinutes: e.PROVBOT_GRAPH_LATE_EVERY_MINUTES,
  };
  if (e.PROVBOT_GRAPH_ACCESS_TOKEN) {
    graph = { ...graphBase, auth: { kind: "accessToken", token: e.PROVBOT_GRAPH_ACCESS_TOKEN, tenantId: e.PROVBOT_GRAPH_TENANT_ID ?? "" } };
  } else if (e.PROVBOT_GRAPH_MANAGED_IDENTITY) {
    graph = { ...graphBase, auth: { kind: "managedIdentity", clientId: e.PROVBOT_GRAPH_CLIENT_ID } };
  } else if (e.PROVBOT_GRAPH_CLIENT_ID || e.PROVBOT_GRAPH_TENANT_ID || e.PROVBOT_GRAPH_CLIENT_SECRET || e.PROVBOT_GRAPH_CERTIFICATE_PATH) {
    if (!e.PROVBOT_GRAPH_TENANT_ID) problems.push("PROVBOT_GRAPH_TENANT_ID: missing (needed to poll Microsoft Graph with an app registration).");
    if (!e.PROVBOT_GRAPH_CLIENT_ID) problems.push("PROVBOT_GRAPH_CLIENT_ID: missing (needed to poll Microsoft Graph with an app registration).");
    if (!e.PROVBOT_GRAPH_CLIENT_SECRET && !e.PROVBOT_GRAPH_CERTIFICATE_PATH)
      problems.push("PROVBOT_GRAPH_CLIENT_SECRET: missing (or set PROVBOT_GRAPH_CERTIFICATE_PATH, or PROVBOT_GRAPH_MANAGED_IDENTITY=true).");
    const ids = { tenantId: e.PROVBOT_GRAPH_TENANT_ID ?? "", clientId: e.PROVBOT_GRAPH_CLIENT_ID ?? "" };
    graph = e.PROVBOT_GRAPH_CERTIFICATE_PATH
      ? { ...graphBase, auth: { kind: "certificate", ...ids, certificatePath: e.PROVBOT_GRAPH_CERTIFICATE_PATH } }
      : { ...graphBase, auth: { kind: "clientSecret", ...ids, secret: e.PROVBOT_GRAPH_CLIENT_SECRET ?? "" } };
  }
  if (graph && !graph.baseUrl.startsWith("https://") && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(graph.baseUrl)) {
    problems.push("PROVBOT_GRAPH_BASE_URL: must be https (plain http is allowed only on loopback, for tests).");
  }

  const allowedTenants = e.PROVBOT_ALLOWED_TENANTS
    ? e.PROVBOT_ALLOWED_TENANTS.split(",").map((t) => t.trim().toLowerCase())
    : bot.mode !== "none" && bot.tenantId
      ? [bot.tenantId.toLowerCase()]
      : null;
  const graphTenant = graph && graph.auth.kind !== "managedIdentity" ? graph.auth.tenantId : "";
  const ownTenant = (e.PROVBOT_TENANT_ID ?? (graphTenant || (bot.mode !== "none" ? bot.tenantId : "") || (allowedTenants?.length === 1 ? allowedTenants[0]! : ""))).trim().toLowerCase();
  if (allowedTenants && !ownTenant) problems.push("PROVBOT_TENANT_ID: missing. Data that carries no tenant id (some downloads, job status read through a managed identity) is stamped with the deployment's own tenant; set it when neither the bot registration nor the Graph settings name one.");
  const tenantGrants: Record<string, string[]> = {};
  for (const part of (e.PROVBOT_TENANT_GRANTS ?? "").split(";").map((p) => p.trim()).filter(Boolean)) {
    const [who, data] = part.split("=");
    tenantGrants[who!.trim().toLowerCase()] = data!.split("|").map((t) => t.trim().toLowerCase());
  }
  const tab = e.PROVBOT_TAB_CLIENT_ID ? { clientId: e.PROVBOT_TAB_CLIENT_ID, appIdUri: e.PROVBOT_TAB_APP_ID_URI ?? null, jwksUrl: e.PROVBOT_TAB_JWKS_URL ?? null, domain: e.PROVBOT_TAB_DOMAIN ?? null } : null;
  if (e.PROVBOT_TAB_JWKS_URL && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(e.PROVBOT_TAB_JWKS_URL)) problems.push("PROVBOT_TAB_JWKS_URL: for tests on loopback only (in Azure the keys come from Microsoft Entra).");
  const accessMode = e.PROVBOT_ACCESS ?? (localHost ? "tenant" : "roles");
  if (accessMode === "tenant" && !localHost) problems.push('PROVBOT_ACCESS: "tenant" (anyone in the allowed tenants) is allowed only on the local development host; use "roles" or "allowlist".');
  if (e.PROVBOT_ACTIONS === "on" && !graph) problems.push("PROVBOT_ACTIONS: \"on\" acts on jobs through Microsoft Graph: set PROVBOT_GRAPH_* and grant Synchronization.ReadWrite.All (see the README's Actions section).");
  if (accessMode !== "tenant" && !graph) problems.push(`PROVBOT_ACCESS: "${accessMode}" reads the asker's roles or groups from Microsoft Graph: set PROVBOT_GRAPH_* (see the README's permission table).`);
  const principals = (e.PROVBOT_ALLOWED_PRINCIPALS ?? "").split(",").map((p) => p.trim().toLowerCase()).filter(Boolean);
  if (accessMode === "allowlist" && principals.length === 0) problems.push("PROVBOT_ALLOWED_PRINCIPALS: missing (PROVBOT_ACCESS=allowlist needs the object ids of the users and groups allowed).");
  if (problems.length > 0 || !storage) throw new ConfigError(problems);
  return { storage, tablePrefix: e.PROVBOT_TABLE_PREFIX, bot, localHost, retentionDays: e.PROVBOT_RETENTION_DAYS, graph, alerts: { enabled: e.PROVBOT_ALERTS === "on", maxAgeMinutes: e.PROVBOT_ALERT_MAX_AGE_MINUTES, queue: e.PROVBOT_ALERT_QUEUE }, actions: e.PROVBOT_ACTIONS === "on", actionConfirmSeconds: e.PROVBOT_ACTION_CONFIRM_SECONDS, allowedTenants, ownTenant, access: { mode: accessMode, principals }, tenantGrants, limits: { ingestMaxBytes: e.PROVBOT_INGEST_MAX_BYTES, questionMaxChars: e.PROVBOT_QUESTION_MAX_CHARS }, tab, version };
}
