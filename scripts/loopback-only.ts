import net from "node:net";

/**
 * Preloaded (node -r) into third-party dev servers that listen on every interface (the Agents
 * Playground does): any listen() without an explicit host is bound to 127.0.0.1 instead, so
 * nothing started by `npm start` is reachable from beyond this machine.
 */
const originalListen = net.Server.prototype.listen;

net.Server.prototype.listen = function patchedListen(this: net.Server, ...args: unknown[]) {
  const [first] = args;
  if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    const second = args[1];
    if (typeof second !== "string") args.splice(1, 0, "127.0.0.1");
  } else if (first && typeof first === "object" && !("fd" in first) && !("path" in first) && !("_handle" in first)) {
    const opts = first as net.ListenOptions;
    if (!opts.host) args[0] = { ...opts, host: "127.0.0.1" };
  }
  return (originalListen as (...a: unknown[]) => net.Server).apply(this, args);
} as typeof net.Server.prototype.listen;
