import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { createTableFactory, type TableFactory } from "../../src/adapters/tables/client";

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
