import { odata, type TableClient } from "@azure/data-tables";
import type { AuditKind, ProvisioningAudit } from "../../core/jobs/audit";
import type { AuditStore } from "../../app/jobHealthPorts";
import { createOnce, upsertAll } from "./batch";
import { keyPart, reverseTicks } from "./keys";
import type { TableFactory } from "./client";

/**
 * audits: the provisioning audit trail. PK "sp|<service principal id>", RK reverse time + record
 * id: one key-range read answers "what changed in Salesforce in the last week", newest first. The
 * record id in the key makes a re-read (overlapping polls) an upsert of the same row.
 */
/** Object ids compare without case: the events and the audit log may spell one differently. */
const pk = (servicePrincipalId: string) => `sp|${keyPart((servicePrincipalId || "none").toLowerCase(), 200)}`;
const rk = (a: Pick<ProvisioningAudit, "at" | "id">) => `${reverseTicks(a.at)}|${keyPart(a.id, 300)}`;
const json = (v: unknown, max: number) => {
  const s = JSON.stringify(v);
  return s.length <= max ? s : "[]";
};

export class AuditTable implements AuditStore {
  readonly table: TableClient;
  private readonly init: () => Promise<void>;
  constructor(factory: TableFactory) {
    this.table = factory.table("audits");
    this.init = createOnce(this.table);
  }

  async write(audits: ProvisioningAudit[]): Promise<void> {
    if (audits.length === 0) return;
    await this.init();
    const entities = audits.map((a) => ({
      partitionKey: pk(a.servicePrincipalId),
      rowKey: rk(a),
      id: a.id,
      at: a.at,
      activity: a.activity,
      kind: a.kind,
      result: a.result,
      resultReason: a.resultReason,
      by: a.by,
      servicePrincipalId: a.servicePrincipalId,
      appName: a.appName,
      jobIds: json(a.jobIds, 2_000),
      changes: json(a.changes, 30_000),
      details: json(a.details, 30_000),
    }));
    // A record the service refuses on its own merits is skipped alone (logged by the caller's count).
    await upsertAll(this.table, entities, 4, () => undefined);
  }

  async list(servicePrincipalId: string, from: string, to: string, limit: number): Promise<ProvisioningAudit[]> {
    await this.init();
    const partition = pk(servicePrincipalId);
    const low = reverseTicks(to);
    const high = `${reverseTicks(from)}~`;
    const out: ProvisioningAudit[] = [];
    const pages = this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${partition} and RowKey gt ${low} and RowKey lt ${high}` } }).byPage({ maxPageSize: Math.min(limit, 1000) });
    for await (const page of pages) {
      for (const e of page) {
        const parse = <T>(v: unknown, fallback: T): T => {
          try {
            return JSON.parse(String(v ?? "")) as T;
          } catch {
            return fallback;
          }
        };
        out.push({
          id: String(e["id"] ?? ""),
          at: String(e["at"] ?? ""),
          activity: String(e["activity"] ?? ""),
          kind: String(e["kind"] ?? "other") as AuditKind,
          result: String(e["result"] ?? ""),
          resultReason: String(e["resultReason"] ?? ""),
          by: String(e["by"] ?? ""),
          servicePrincipalId: String(e["servicePrincipalId"] ?? ""),
          appName: String(e["appName"] ?? ""),
          jobIds: parse(e["jobIds"], []),
          changes: parse(e["changes"], []),
          details: parse(e["details"], []),
        });
        if (out.length >= limit) return out;
      }
    }
    return out;
  }
}
