/**
 * Retention: what ages out after PROVBOT_RETENTION_DAYS. Events and their indexes go by whole
 * time shards (src/adapters/tables/shards.ts), so a day's purge costs a handful of requests
 * whatever the store holds; dead letters, alert history and the action log by their own rules.
 */
export interface RetentionReport {
  /** Shard tables dropped (each one request). */
  tablesDropped: string[];
  /** Last-known states kept for identities whose events aged out. */
  statesKept: number;
  countRows: number;
  csvParts: number;
}

export interface RetentionStore {
  purgeBefore(cutoffIso: string): Promise<RetentionReport>;
}

export interface PurgeablePort {
  purgeBefore(cutoffIso: string): Promise<number>;
}

export interface RetentionDeps {
  store: RetentionStore;
  deadLetters: PurgeablePort;
  alerts?: PurgeablePort | undefined;
  /** The job actions' log and expired confirmations (issue 26). */
  actions?: PurgeablePort | undefined;
  retentionDays: number;
  now: () => Date;
}

export interface RetentionOutcome extends RetentionReport {
  cutoff: string;
  deadLetters: number;
  alertRows: number;
  actionRows: number;
}

export async function runRetention(deps: RetentionDeps): Promise<RetentionOutcome> {
  const cutoff = new Date(deps.now().getTime() - deps.retentionDays * 86_400_000).toISOString();
  const report = await deps.store.purgeBefore(cutoff);
  const deadLetters = await deps.deadLetters.purgeBefore(cutoff);
  const alertRows = deps.alerts ? await deps.alerts.purgeBefore(cutoff) : 0;
  const actionRows = deps.actions ? await deps.actions.purgeBefore(cutoff) : 0;
  return { cutoff, ...report, deadLetters, alertRows, actionRows };
}
