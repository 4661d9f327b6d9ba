import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { createTableFactory, type TableFactory } from "../../src/adapters/tables/client";
import { COUNTER_RK } from "../../src/adapters/tables/eventsTable";

/** A table factory on the test Azurite with a fresh table prefix, so test files never share data. */
export function testTables(): { factory: TableFactory; prefix: string } {
  const prefix = `t${randomBytes(5).toString("hex")}`;
  return { factory: createTableFactory({ kind: "connectionString", connectionString: inject("azurite").connectionString }, prefix), prefix };
}

export async function countRows(factory: TableFactory, table: string, filter?: string): Promise<number> {
  let n = 0;
  for await (const _ of factory.table(table).listEntities({ queryOptions: { filter, select: ["RowKey"] } })) n++;
  return n;
}

/** Rows in every shard of a sharded family (`ev`, `ix`, `rf`) under a prefix. */
export async function countShardRows(factory: TableFactory, stem: string): Promise<number> {
  let n = 0;
  for await (const t of factory.service.listTables()) {
    const name = String(t.name ?? "");
    if (!name.startsWith(`${factory.prefix}${stem}`) || !/\d{6}/.test(name.slice(factory.prefix.length))) continue;
    // Event partitions also hold their hour's counter (eventsTable COUNTER_RK): not an event.
    for await (const e of factory.table(name.slice(factory.prefix.length)).listEntities({ queryOptions: { select: ["RowKey"] } })) if (e.rowKey !== COUNTER_RK) n++;
  }
  return n;
}
