import { forDisplay } from "../core/displayText";
/**
 * The tab's calls to the Function App: /api/dashboard/<view> and /api/export, with the Teams SSO
 * token when the page runs in Teams (none on the local host, where the data is open on loopback).
 */
export type Filters = Record<string, string>;

let tokenSource: (() => Promise<string | null>) | null = null;
export function useToken(source: () => Promise<string | null>): void {
  tokenSource = source;
}

async function headers(): Promise<Record<string, string>> {
  const token = tokenSource ? await tokenSource() : null;
  return token ? { authorization: `Bearer ${token}` } : {};
}

export const query = (f: Filters) => new URLSearchParams(Object.entries(f).filter(([, v]) => v !== "" && v !== undefined)).toString();

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Requests started before the page asks for them (the first overview), used once. */
const early = new Map<string, Promise<Response>>();

/** A request boot.ts started for this URL (before the bundle ran). */
export function adopt(url: string, response: Promise<Response>): void {
  early.set(url, response);
}

export function prefetch(view: string, f: Filters): void {
  const url = `/api/dashboard/${view}?${query(f)}`;
  early.set(url, headers().then((h) => fetch(url, { headers: h })));
}

export async function get<T>(view: string, f: Filters): Promise<T> {
  const url = `/api/dashboard/${view}?${query(f)}`;
  const pending = early.get(url);
  early.delete(url);
  const res = await (pending ?? fetch(url, { headers: await headers() }));
  const body = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new ApiError(res.status, body.error ?? `the server answered ${res.status}`);
  return forDisplay(body) as T;
}


/** Downloads what the list shows, as the portal does (JSON, or the three CSV files in a zip). */
export async function download(format: "json" | "csv", f: Filters): Promise<void> {
  const res = await fetch(`/api/export?${query({ ...f, format })}`, { headers: await headers() });
  if (!res.ok) throw new ApiError(res.status, ((await res.json().catch(() => ({}))) as { error?: string }).error ?? `the server answered ${res.status}`);
  const name = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "")?.[1] ?? `provisioning-logs.${format === "json" ? "json" : "zip"}`;
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export interface Overview {
  from: string;
  to: string;
  bucket: "hour" | "day";
  tiles: { events: number; failures: number; failureRate: number; skippedShare: number; removals: number; successRate: number };
  series: { at: string; byAction: Record<string, number>; byStatus: Record<string, number> }[];
  topErrors: { code: string; count: number; lastSeen: string; apps: string[]; fix: string }[];
  apps: { app: string; jobKey: string; jobId: string; status: string | null; quarantine: string | null; lastCycle: string | null; inScope: string | null; lastEventAt: string | null; events: number; failureRate: number; skippedShare: number; trend: { earlier: number; later: number; basis: string } | null; portalUrl: string | null }[];
}

export interface Row {
  at: string;
  app: string;
  action: string;
  status: string;
  errorCode: string;
  identity: string;
  name: string;
  identityType: string;
  changeId: string;
  cycleId: string;
  ref: { pk: string; rk: string };
}

export interface EventsPage {
  page: number;
  total: number;
  exact?: boolean;
  more?: boolean;
  rows: Row[];
  person?: { name: string; identity: string };
  states?: { app: string; action: string; status: string; at: string; errorCode: string }[];
  candidates?: { name: string; identity: string }[];
  near?: string[];
}

export interface EventDetail {
  summary: Record<string, unknown> & { at: string; app: string; action: string; status: string; changeId: string; cycleId: string; jobId: string; durationMs: number | null; initiatedBy: string; sourceSystem: string; targetSystem: string; source: { displayName: string; id: string; identityType: string }; target: { displayName: string; id: string } };
  skip: string | null;
  steps: { name: string; type: string; status: string; description: string; details: Record<string, string> }[];
  troubleshooting: { code: string; category: string | null; reason: string; recommendedAction: string | null; cause: string; fix: string; learnMore: string | null } | null;
  modifiedProperties: { displayName: string; oldValue: string | null; newValue: string | null }[];
  portalUrl: string | null;
}

export interface Cycles {
  cycles: { cycleId: string; app: string; jobKey: string; first: string; last: string; events: number; byAction: Record<string, number>; byStatus: Record<string, number> }[];
}
