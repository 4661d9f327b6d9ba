/**
 * One Graph poll in a process of its own (test/faults/graph-faults.test.ts kills it mid-page): the
 * real Graph client against the loopback Graph server, the real store on Azurite. Prints the
 * report as JSON when the run completes.
 */
import type { AccessToken } from "@azure/core-auth";
import { GraphProvisioningClient } from "../../src/adapters/graph/client";
import { TableEventStore } from "../../src/adapters/tables/eventStore";
import { TableDeadLetterStore } from "../../src/adapters/tables/deadLetters";
import { TableWatermarkStore } from "../../src/adapters/tables/watermarks";
import { createTableFactory } from "../../src/adapters/tables/client";
import { AZURITE_CONNECTION_STRING } from "../../src/config";
import { pollGraph } from "../../src/app/graphPoll";
import { systemClock } from "../../src/app/ports";

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const factory = createTableFactory({ kind: "connectionString", connectionString: AZURITE_CONNECTION_STRING(Number(env("AZURITE_TABLE_PORT"))) }, env("PREFIX"));
const credential = { getToken: async (): Promise<AccessToken> => ({ token: "test-token", expiresOnTimestamp: Date.now() + 3_600_000 }) };
const client = new GraphProvisioningClient({ credential, baseUrl: env("GRAPH_URL"), pageSize: 10, timeoutMs: 60_000 });
const store = new TableEventStore(factory);
pollGraph(client, new TableWatermarkStore(factory), { store, deadLetters: new TableDeadLetterStore(factory, systemClock) }, systemClock, { watermarkName: "graph:faults", lookbackMinutes: 60, initialDays: 1 }).then(
  (report) => {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
