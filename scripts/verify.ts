/**
 * `npm run verify -- <https://host> [--wait <seconds>]`: checks a deployment end to end without a
 * Teams client, from anywhere that reaches it. azure.yaml runs it after `azd deploy`; the tests run
 * it against the local host.
 *
 *   health        GET /api/health answers 200: the app started with a valid configuration
 *   storage       Table Storage answers the app's identity
 *   alert queue   the alert outbox queue exists and answers
 *   graph         the Graph pollers' last runs succeeded (a 403 there: the permissions are not
 *                 granted); with --wait, waits for their first run (every 5 minutes)
 *   bot           POST /api/messages without a token is refused with 401
 *   tab           GET /api/tab serves the page, framed only by Teams
 *   tab data      GET /api/dashboard/overview without a token is refused with 401
 *
 * Prints one line per check and exits 1 when any check fails (0 otherwise; "pending" is not a failure).
 */
export type Verdict = "pass" | "fail" | "pending";
export interface Check {
  name: string;
  verdict: Verdict;
  detail: string;
}

interface Health {
  status?: string;
  version?: string;
  storage?: { reachable?: boolean; error?: string };
  alertQueue?: { name?: string; reachable?: boolean; exists?: boolean; error?: string };
  graph?: Record<string, { at?: string; outcome?: string; reason?: string; detail?: string }>;
}

const GRAPH_RUNS = ["graph.events", "graph.jobs"];

async function get(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; text: string } | { error: string }> {
  try {
    const res = await fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(30_000) });
    return { status: res.status, headers: res.headers, text: await res.text() };
  } catch (err) {
    return { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

function graphCheck(health: Health | null): Check {
  const runs = health?.graph;
  if (!runs) return { name: "graph", verdict: "pending", detail: "Graph polling is not configured, or has not run yet (the pollers run every 5 minutes)" };
  const missing = GRAPH_RUNS.filter((n) => !runs[n]);
  const bad = GRAPH_RUNS.filter((n) => runs[n] && runs[n]!.outcome !== "ok");
  if (bad.length > 0) {
    const lines = bad.map((n) => `${n}: ${runs[n]!.outcome} ${runs[n]!.reason ?? ""} ${runs[n]!.detail ?? ""}`.trim());
    const denied = lines.some((l) => /\b403\b|Authorization_RequestDenied|Forbidden/i.test(l));
    return { name: "graph", verdict: "fail", detail: `${lines.join("; ")}${denied ? " — the Graph application permissions are not granted: see the README (Deploy to Azure, consent)" : ""}` };
  }
  if (missing.length > 0) return { name: "graph", verdict: "pending", detail: `no run yet of ${missing.join(", ")} (every 5 minutes)` };
  return { name: "graph", verdict: "pass", detail: GRAPH_RUNS.map((n) => `${n} ok at ${runs[n]!.at}`).join(", ") };
}

/** Runs every check once. */
export async function verify(base: string): Promise<Check[]> {
  const origin = base.replace(/\/+$/, "");
  const checks: Check[] = [];
  const h = await get(`${origin}/api/health`);
  let health: Health | null = null;
  if ("error" in h) checks.push({ name: "health", verdict: "fail", detail: `no answer: ${h.error}` });
  else {
    try {
      health = JSON.parse(h.text) as Health;
    } catch {
      health = null;
    }
    checks.push(h.status === 200 && health ? { name: "health", verdict: "pass", detail: `version ${health.version ?? "?"}` } : { name: "health", verdict: "fail", detail: `HTTP ${h.status}: ${h.text.slice(0, 200)}` });
  }
  if (health) {
    checks.push(health.storage?.reachable ? { name: "storage", verdict: "pass", detail: "Table Storage answers" } : { name: "storage", verdict: "fail", detail: `Table Storage: ${health.storage?.error ?? "unreachable"} (the identity needs Storage Table Data Contributor)` });
    const q = health.alertQueue;
    checks.push(!q ? { name: "alert queue", verdict: "pending", detail: "alerts are off (PROVBOT_ALERTS=off)" } : q.reachable && q.exists ? { name: "alert queue", verdict: "pass", detail: `${q.name} exists` } : { name: "alert queue", verdict: "fail", detail: q.reachable ? `${q.name} does not exist` : `${q.name}: ${q.error ?? "unreachable"} (the identity needs Storage Queue Data Contributor)` });
  }
  checks.push(graphCheck(health));
  const activity = { type: "message", id: "verify-1", text: "help", channelId: "msteams", serviceUrl: "https://smba.trafficmanager.net/teams/", from: { id: "verify" }, recipient: { id: "provbot" }, conversation: { id: "verify" } };
  const bot = await get(`${origin}/api/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(activity) });
  checks.push("error" in bot ? { name: "bot", verdict: "fail", detail: bot.error } : bot.status === 401 ? { name: "bot", verdict: "pass", detail: "an unsigned request is refused (401)" } : { name: "bot", verdict: "fail", detail: `an unsigned request got HTTP ${bot.status}, not 401: the endpoint does not check the Bot Framework's token (MicrosoftAppId/MicrosoftAppType)` });
  const tab = await get(`${origin}/api/tab`);
  if ("error" in tab) checks.push({ name: "tab", verdict: "fail", detail: tab.error });
  else {
    const csp = tab.headers.get("content-security-policy") ?? "";
    const ok = tab.status === 200 && /text\/html/.test(tab.headers.get("content-type") ?? "") && /frame-ancestors[^;]*teams/i.test(csp);
    checks.push(ok ? { name: "tab", verdict: "pass", detail: "the page loads, framed only by Teams" } : { name: "tab", verdict: "fail", detail: `HTTP ${tab.status}, content-type ${tab.headers.get("content-type") ?? "none"}, CSP ${csp ? "without Teams in frame-ancestors" : "missing"}` });
  }
  const data = await get(`${origin}/api/dashboard/overview`);
  checks.push("error" in data ? { name: "tab data", verdict: "fail", detail: data.error } : data.status === 401 ? { name: "tab data", verdict: "pass", detail: "a request without a token is refused (401)" } : { name: "tab data", verdict: "fail", detail: `a request without a token got HTTP ${data.status}, not 401 (PROVBOT_TAB_CLIENT_ID: the tab's SSO app registration)` });
  return checks;
}

/** Verifies, waiting up to `waitSeconds` for checks that are only pending (the first Graph runs). */
export async function verifyWaiting(base: string, waitSeconds: number, pollMs = 15_000): Promise<Check[]> {
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    const checks = await verify(base);
    if (!checks.some((c) => c.verdict === "pending" && c.name === "graph") || Date.now() >= deadline) return checks;
    await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(0, deadline - Date.now()))));
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const base = args.find((a) => /^https?:\/\//.test(a));
  const w = args.indexOf("--wait");
  const wait = w >= 0 ? Number(args[w + 1] ?? 0) : 0;
  if (!base || !Number.isFinite(wait) || wait < 0) {
    console.error("usage: npm run verify -- https://<function app host> [--wait <seconds>]");
    process.exit(2);
  }
  const checks = await verifyWaiting(base, wait);
  const mark = { pass: "ok  ", fail: "FAIL", pending: "wait" } as const;
  for (const c of checks) console.log(`${mark[c.verdict]}  ${c.name.padEnd(12)} ${c.detail}`);
  const failed = checks.filter((c) => c.verdict === "fail").length;
  console.log(failed ? `${failed} check(s) failed` : "every check passed (or is still pending)");
  process.exit(failed ? 1 : 0);
}

if (require.main === module) void main();
