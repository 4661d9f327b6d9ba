import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AZURITE_CONNECTION_STRING } from "../../src/config";

/**
 * A loopback HTTP proxy in front of Azurite that fails chosen requests, so that storage faults
 * reach the real Table Storage client at its HTTP boundary. `rule` sees each request (method,
 * path, body) and returns a status to answer with instead of forwarding, or null to forward.
 */
export interface FaultRule {
  (req: { method: string; path: string; body: string }): number | null;
}

export interface FaultProxy {
  port: number;
  connectionString: string;
  rule: FaultRule;
  faults: number;
  close(): Promise<void>;
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => resolve(Buffer.concat(parts)));
    req.on("error", reject);
  });
}

const ERROR_CODES: Record<number, string> = { 400: "InvalidInput", 413: "RequestBodyTooLarge", 500: "InternalError", 503: "ServerBusy" };

export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  const proxy: FaultProxy = { port: 0, connectionString: "", rule: () => null, faults: 0, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    void readAll(req).then((body) => {
      const status = proxy.rule({ method: req.method ?? "GET", path: req.url ?? "/", body: body.toString("utf8") });
      if (status !== null) {
        proxy.faults++;
        const code = ERROR_CODES[status] ?? "Fault";
        const text = JSON.stringify({ "odata.error": { code, message: { lang: "en-US", value: `injected fault ${status}` } } });
        res.writeHead(status, { "content-type": "application/json;odata=minimalmetadata", "x-ms-error-code": code, "content-length": Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      const upstream = request({ host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on("error", () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.connectionString = AZURITE_CONNECTION_STRING(proxy.port);
  proxy.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return proxy;
}
