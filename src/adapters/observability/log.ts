import { AsyncLocalStorage } from "node:async_hooks";
import type { LogEntry, StructuredLog } from "../../app/ports";

/**
 * Structured logs through the Functions invocation logger. A handler runs its work inside
 * `withInvocation(context, ...)`; every entry logged by the use cases underneath goes to that
 * invocation's context.log (Application Insights traces, with the invocation's operation id).
 * Outside an invocation (the CLI) only warnings are written, to stderr, so that stdout stays the
 * command's output. A line is the event name, then its fields as JSON:
 * `alert.send {"incidentId":"...","result":"throttled"}`.
 */
export interface InvocationLogger {
  log(...args: unknown[]): void;
  warn(...args: unknown[]): void;
}

const current = new AsyncLocalStorage<InvocationLogger>();

export function withInvocation<T>(context: InvocationLogger, fn: () => Promise<T>): Promise<T> {
  return current.run(context, fn);
}

const WARNINGS = /unavailable|failed|contention|unreadable|gone|refused/;

export function formatEntry({ event, ...fields }: LogEntry): string {
  return `${event} ${JSON.stringify(fields)}`;
}

export const structuredLog: StructuredLog = (entry) => {
  const line = formatEntry(entry);
  const sink = current.getStore();
  const warn = WARNINGS.test(entry.event) || entry["result"] === "fatal";
  if (sink) (warn ? sink.warn(line) : sink.log(line));
  else if (warn) console.warn(`[provbot] ${line}`);
};
