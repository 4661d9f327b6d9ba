import { odata, type TableClient } from "@azure/data-tables";
import type { ProvisioningEvent } from "../../core/event";
import { deleteWhere, createOnce, upsertAll, type Entity } from "./batch";
import { bucket, keyPart } from "./keys";
import { getOrNull } from "./reads";
import type { TableFactory } from "./client";

/**
 * csvparts: steps and modified properties from the portal's CSV download that arrived before
 * their event (the three files may come in separate calls). PK part|hash(changeId), RK
 * changeId|steps or changeId|modifiedProperties. Small and short-lived: the purge removes parts
 * older than retention.
 */
const PARTITIONS = 64;
type Kind = "steps" | "modifiedProperties";

export function csvPartKey(changeId: string, kind: Kind): { partitionKey: string; rowKey: string } {
  return { partitionKey: `part|${bucket(changeId, PARTITIONS)}`, rowKey: `${keyPart(changeId)}|${kind}` };
}

export class CsvPartsTable {
  readonly table: TableClient;
  readonly init: () => Promise<void>;
  constructor(factory: TableFactory) {
    this.table = factory.table("csvparts");
    this.init = createOnce(this.table);
  }


  async put(parts: { changeId: string; steps?: ProvisioningEvent["steps"] | undefined; modifiedProperties?: ProvisioningEvent["modifiedProperties"] | undefined }[], concurrency: number): Promise<void> {
    await this.init();
    const rows: Entity[] = [];
    for (const p of parts) {
      if (p.steps) rows.push({ ...csvPartKey(p.changeId, "steps"), changeId: p.changeId, json: JSON.stringify(p.steps) });
      if (p.modifiedProperties) rows.push({ ...csvPartKey(p.changeId, "modifiedProperties"), changeId: p.changeId, json: JSON.stringify(p.modifiedProperties) });
    }
    await upsertAll(this.table, rows, concurrency);
  }

  async get(changeId: string): Promise<{ steps: ProvisioningEvent["steps"] | null; modifiedProperties: ProvisioningEvent["modifiedProperties"] | null }> {
    await this.init();
    const [steps, modified] = await Promise.all((["steps", "modifiedProperties"] as const).map(async (kind) => {
      const k = csvPartKey(changeId, kind);
      return getOrNull<{ json: string }>(this.table, k.partitionKey, k.rowKey);
    }));
    return { steps: steps ? (JSON.parse(steps.json) as ProvisioningEvent["steps"]) : null, modifiedProperties: modified ? (JSON.parse(modified.json) as ProvisioningEvent["modifiedProperties"]) : null };
  }

  async purgeBefore(cutoffIso: string, concurrency: number): Promise<number> {
    await this.init();
    return deleteWhere(this.table, odata`Timestamp lt ${new Date(cutoffIso)}`, concurrency);
  }
}
