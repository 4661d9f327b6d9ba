import { join } from "node:path";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import WebSocket from "ws";
import { inject } from "vitest";
import { freePort, readyOrStopped, startChild, startPlayground, stopChild, toolPaths, waitUntil, type Child } from "../../scripts/processes";

export const ROOT = join(__dirname, "..", "..");

export interface HostProcess {
  url: string;
  functionKey: string;
  child: Child;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts the built local host (dist/) under plain Node, as `npm start` does. */
export async function startHostProcess(azuritePort: number, env: Record<string, string> = {}, queuePort = inject("azurite").queuePort): Promise<HostProcess> {
  const port = await freePort();
  const functionKey = `test-key-${port}`;
  const child = startChild({
    name: "host",
    command: process.execPath,
    args: ["-r", toolPaths(ROOT).childGuard, toolPaths(ROOT).localHost],
    // Each host its own alert queue, as each has its own table prefix.
    env: { PORT: String(port), AZURITE_TABLE_PORT: String(azuritePort), AZURITE_QUEUE_PORT: String(queuePort), FUNCTION_KEY: functionKey, PROVBOT_TIMERS: "off", PROVBOT_ALERT_QUEUE: `alerts-${port}`, ...env },
    quiet: true,
  });
  let out = "";
  child.process.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  child.process.stderr?.on("data", (c: Buffer) => (out += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  // Ready when it answers at all: a host on broken storage answers health with 503.
  await readyOrStopped(child, () => waitUntil("local host", async () => (await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(5000) })).status > 0, { timeoutMs: 30_000, child }));
  return { url, functionKey, child, output: () => out, stop: () => stopChild(child) };
}

/**
 * Runs a function as the host runs it on demand (POST /admin/functions/<name>), waits for the run
 * to end (the host logs "[<name>] admin run ..."), and returns what the host logged meanwhile.
 */
export async function runFunction(host: HostProcess, name: string, timeoutMs = 30_000): Promise<string> {
  const from = host.output().length;
  const done = host.output().split(`[${name}] admin run`).length;
  const res = await fetch(`${host.url}/admin/functions/${name}`, { method: "POST", headers: { "x-functions-key": host.functionKey } });
  if (res.status !== 202) throw new Error(`POST /admin/functions/${name} answered ${res.status}`);
  const deadline = Date.now() + timeoutMs;
  while (host.output().split(`[${name}] admin run`).length === done && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return host.output().slice(from);
}

export interface PlaygroundProcess {
  url: string;
  conversationId: string;
  child: Child;
  stop(): Promise<void>;
}

export async function startPlaygroundProcess(hostUrl: string, conversationId = "e2e-personal"): Promise<PlaygroundProcess> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "provbot-playground-"));
  const child = await startPlayground({ root: ROOT, port, botEndpoint: `${hostUrl}/api/messages`, conversationId, logFile: join(dir, "playground.log") });
  return { url: `http://127.0.0.1:${port}`, conversationId, child, stop: () => stopChild(child) };
}

export interface PlaygroundMessage {
  messageId: string;
  from: { id: string };
  text?: string;
  attachments?: { contentType: string; content: Record<string, unknown> }[];
  [key: string]: unknown;
}

/**
 * Drives the Agents Playground the way its web client does: user input over HTTP
 * (/_conversation/v1/...), bot output over the WebSocket stream.
 */
export class PlaygroundClient {
  private readonly messages: { action: string; conversationId: string; message: PlaygroundMessage }[] = [];
  private constructor(
    private readonly baseUrl: string,
    private readonly ws: WebSocket,
    readonly botId: string,
    readonly userId: string,
  ) {
    ws.on("message", (raw: WebSocket.RawData) => {
      const event = JSON.parse(raw.toString()) as { action?: string; actionConversationId?: string; message?: PlaygroundMessage };
      if (event.message && event.action) this.messages.push({ action: event.action, conversationId: event.actionConversationId ?? "", message: event.message });
    });
  }

  static async connect(baseUrl: string): Promise<PlaygroundClient> {
    const config = (await (await fetch(`${baseUrl}/_internal/v1/config`)).json()) as { config: { bot: { id: string }; currentUser: { id: string } } };
    const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/_ws_conversation/v1/conversations/stream`);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new PlaygroundClient(baseUrl, ws, config.config.bot.id, config.config.currentUser.id);
  }

  /** Sends a user message and resolves with the next bot message that satisfies `until`. */
  async ask(conversationId: string, text: string, until: (m: PlaygroundMessage) => boolean = () => true, timeoutMs = 15_000): Promise<PlaygroundMessage> {
    const seen = this.messages.length;
    const res = await fetch(`${this.baseUrl}/_conversation/v1/conversations/${encodeURIComponent(conversationId)}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ from: { id: this.userId }, text, textFormat: "plain" }),
    });
    if (!res.ok) throw new Error(`playground refused the message: ${res.status} ${await res.text()}`);
    return this.waitFor((m) => m.from.id === this.botId && until(m), seen, timeoutMs);
  }

  /** Clicks an Action.Submit on a bot message, as the web client does. */
  async submit(conversationId: string, replyToId: string, value: Record<string, unknown>, timeoutMs = 15_000): Promise<PlaygroundMessage> {
    const seen = this.messages.length;
    const res = await fetch(`${this.baseUrl}/_conversation/v1/submit`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ conversation: { id: conversationId }, from: { id: this.userId }, replyToId, value }),
    });
    if (!res.ok) throw new Error(`playground refused the submit: ${res.status} ${await res.text()}`);
    return this.waitFor((m) => m.from.id === this.botId, seen, timeoutMs);
  }

  async waitFor(predicate: (m: PlaygroundMessage) => boolean, fromIndex = 0, timeoutMs = 15_000): Promise<PlaygroundMessage> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.messages.slice(fromIndex).find((e) => predicate(e.message));
      if (found) return found.message;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no matching bot message within ${timeoutMs} ms; saw ${this.messages.length - fromIndex} new events`);
  }

  /** Waits for a stream event (createMessage / updateMessage) that satisfies the predicate. */
  async waitForEvent(predicate: (action: string, m: PlaygroundMessage) => boolean, fromIndex = 0, timeoutMs = 15_000): Promise<{ action: string; message: PlaygroundMessage }> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.messages.slice(fromIndex).find((e) => predicate(e.action, e.message));
      if (found) return found;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no matching event within ${timeoutMs} ms; saw ${this.messages.slice(fromIndex).map((e) => e.action).join(", ") || "none"}`);
  }

  events(fromIndex = 0): { action: string; message: PlaygroundMessage }[] {
    return this.messages.slice(fromIndex).map(({ action, message }) => ({ action, message }));
  }

  get seen(): number {
    return this.messages.length;
  }

  /** Installs the bot in a conversation, as Teams does (installationUpdate add). */
  async install(conversationId: string): Promise<void> {
    const q = new URLSearchParams({ conversationId, type: "install" });
    const template = await fetch(`${this.baseUrl}/_internal/v1/customActivities/template?${q}`);
    if (!template.ok) throw new Error(`playground has no install template: ${template.status} ${await template.text()}`);
    const activity = (await template.json()) as Record<string, unknown>;
    const res = await fetch(`${this.baseUrl}/_internal/v1/customActivities`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(activity) });
    if (!res.ok) throw new Error(`playground refused the install: ${res.status} ${await res.text()}`);
  }

  /** Clicks an Action.Submit without waiting for a reply (the bot may answer by updating a card). */
  async click(conversationId: string, replyToId: string, value: Record<string, unknown>): Promise<void> {
    const res = await fetch(`${this.baseUrl}/_conversation/v1/submit`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ conversation: { id: conversationId }, from: { id: this.userId }, replyToId, value }),
    });
    if (!res.ok) throw new Error(`playground refused the submit: ${res.status} ${await res.text()}`);
  }

  close(): void {
    this.ws.close();
  }
}

export function cardOf(message: PlaygroundMessage): Record<string, unknown> | undefined {
  return message.attachments?.find((a) => a.contentType === "application/vnd.microsoft.card.adaptive")?.content;
}
