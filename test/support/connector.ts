import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local stand-in for the Bot Framework connector service (Teams' side of the conversation),
 * at the HTTP boundary: botbuilder's real ConnectorClient posts replies here. Records every call
 * and can be told to answer with an error status (for the proactive-sending tests).
 */
export interface ConnectorCall {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown> | null;
  /** When the call arrived (ms since the epoch). */
  at: number;
}

export interface CaptureConnector {
  url: string;
  calls: ConnectorCall[];
  /** Queue responses for the next calls; default 200 {"id": "..."} */
  respondWith(...responses: { status: number; headers?: Record<string, string>; body?: unknown; delayMs?: number }[]): void;
  waitForCalls(count: number, timeoutMs?: number): Promise<ConnectorCall[]>;
  /** Calls to this conversation are recorded and never answered (a hung Teams), until close(). */
  neverAnswer(conversationId: string): void;
  close(): Promise<void>;
}

export async function startCaptureConnector(): Promise<CaptureConnector> {
  const calls: ConnectorCall[] = [];
  const queued: { status: number; headers?: Record<string, string>; body?: unknown; delayMs?: number }[] = [];
  let seq = 0;
  const silent = new Set<string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      calls.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : null, at: Date.now() });
      if ([...silent].some((id) => (req.url ?? "").startsWith(`/v3/conversations/${encodeURIComponent(id)}/`))) return;
      const next = queued.shift() ?? { status: 200, body: { id: `activity-${++seq}` } };
      const answer = () => {
        if (res.destroyed) return;
        res.writeHead(next.status, { "content-type": "application/json", ...next.headers });
        res.end(next.body === undefined ? "" : JSON.stringify(next.body));
      };
      if (next.delayMs) setTimeout(answer, next.delayMs);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    calls,
    respondWith: (...responses) => queued.push(...responses),
    neverAnswer: (id) => void silent.add(id),
    async waitForCalls(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (calls.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if (calls.length < count) throw new Error(`expected ${count} connector calls, got ${calls.length}`);
      return calls;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

let activitySeq = 0;
export function messageActivity(text: string, serviceUrl: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  activitySeq += 1;
  return {
    type: "message",
    id: `incoming-${activitySeq}`,
    text,
    channelId: "msteams",
    serviceUrl,
    timestamp: new Date().toISOString(),
    from: { id: "user-1", name: "Ada Admin", aadObjectId: "aad-user-1" },
    recipient: { id: "bot-1", name: "provbot" },
    conversation: { id: "conv-1", conversationType: "personal", tenantId: "tenant-1" },
    channelData: { tenant: { id: "tenant-1" } },
    ...overrides,
  };
}
