import net from "node:net";

/**
 * Preloaded (node -r) into every child `npm start` and the tests start (Azurite, the local host,
 * the Agents Playground):
 * - any listen() without an explicit host is bound to 127.0.0.1 (the Playground listens on every
 *   interface by default), so nothing is reachable from beyond this machine;
 * - the child exits when the process that started it is gone (PROVBOT_PARENT_PID), so an
 *   interrupted `npm start` or `npm test` leaves nothing running.
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

const parent = Number(process.env["PROVBOT_PARENT_PID"] ?? 0);
if (parent > 0) {
  const timer = setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      process.exit(0);
    }
  }, 1000);
  timer.unref();
}

// A profiled child (BENCH_PROFILE_DIR) must exit normally on SIGTERM for --cpu-prof to write.
if (process.env["BENCH_PROFILE_DIR"]) process.prependListener("SIGTERM", () => process.exit(0));
