import { afterAll, describe, expect, it } from "vitest";
import { AZURITE_CONNECTION_STRING } from "../../src/config";
import { createTableFactory } from "../../src/adapters/tables/client";
import { restartable, type Restartable } from "./support";

/**
 * Issue 23, item 3: a normal stop keeps every acknowledged write. Azurite saves its data file on
 * SIGINT (and every few seconds otherwise): `npm start` (and every test) stops it with SIGINT, so
 * rows written the moment before Ctrl-C are there after a restart on the same folder.
 */
let azurite: Restartable | undefined;
afterAll(async () => azurite?.stop());

describe("stopping Azurite", () => {
  it("keeps the rows written just before the stop", async () => {
    azurite = await restartable("table");
    const prefix = `stop${Date.now().toString(36)}`;
    const factory = () => createTableFactory({ kind: "connectionString", connectionString: AZURITE_CONNECTION_STRING(azurite!.port) }, prefix);
    const table = factory().table("rows");
    await table.createTable();
    const N = 1_000;
    for (let p = 0; p < N / 100; p++) {
      await table.submitTransaction(Array.from({ length: 100 }, (_, i) => ["create", { partitionKey: `p${p}`, rowKey: String(i).padStart(3, "0"), v: p * 100 + i }] as const));
    }
    // At once, as Ctrl-C right after an ingest.
    await azurite.stop();
    await azurite.start();
    let n = 0;
    for await (const _ of factory().table("rows").listEntities({ queryOptions: { select: ["RowKey"] } })) n++;
    expect(n).toBe(N);
  }, 90_000);
});
