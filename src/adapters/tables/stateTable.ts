import type { TableClient } from "@azure/data-tables";
import type { EventRow } from "../../app/queryPorts";
import { createOnce } from "./batch";
import { bucket, keyPart } from "./keys";
import { getOrNull } from "./reads";
import type { TableFactory } from "./client";

/**
 * state: the last known state of each (job, identity) whose events have aged out of retention,
 * written by the retention purge before an identity shard is dropped; unsharded, so "is bob
 * provisioned in Box?" keeps an answer. PK job|hash(identity) (8), RK identity (key-escaped).
 */
const PARTITIONS = 8;

/** `storedIdentity` is the identity key as the identity index stores it (key-escaped). */
export function stateKey(job: string, storedIdentity: string): { partitionKey: string; rowKey: string } {
  return { partitionKey: `${job}|${bucket(storedIdentity, PARTITIONS)}`, rowKey: storedIdentity };
}

export type StateRow = Pick<EventRow, "at" | "jobKey" | "action" | "status" | "errorCode"> & { targetId: string };

export class StateTable {
  readonly table: TableClient;
  readonly init: () => Promise<void>;
  constructor(factory: TableFactory) {
    this.table = factory.table("state");
    this.init = createOnce(this.table);
  }


  async get(job: string, identityKey: string): Promise<(StateRow & { epk: string; erk: string }) | null> {
    await this.init();
    const k = stateKey(job, keyPart(identityKey));
    const row = await getOrNull<StateRow>(this.table, k.partitionKey, k.rowKey);
    return row ? { at: row.at, jobKey: row.jobKey, action: row.action, status: row.status, errorCode: row.errorCode, targetId: row.targetId ?? "", epk: "", erk: "" } : null;
  }

  /** Keeps a state unless a newer one is stored; resolves with whether it was written. */
  async keepNewer(storedIdentity: string, state: StateRow): Promise<boolean> {
    await this.init();
    const k = stateKey(state.jobKey, storedIdentity);
    const current = await getOrNull<StateRow>(this.table, k.partitionKey, k.rowKey);
    if (current && current.at >= state.at) return false;
    await this.table.upsertEntity({ ...k, ...state }, "Replace");
    return true;
  }
}
