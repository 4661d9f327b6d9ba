import { describe, expect, inject, it } from "vitest";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { startChild } from "../../scripts/processes";
import { TableWatermarkStore } from "../../src/adapters/tables/watermarks";
import { jobKey } from "../../src/adapters/tables/keys";
import { graphRecord, startGraphServer } from "../support/graphServer";
import { ROOT } from "../support/stack";
import { audit, tablesOn, until } from "./support";

/**
 * The Graph poller killed (SIGKILL) while it waits for its second page, then run again: it
 * resumes from its watermark (which only moves after a whole run), and the store ends with every
 * event once: no gap, no duplicate.
 */
describe("the Graph poller under faults", () => {
  it("killed mid-page and restarted: resumes from its watermark, no gap, no duplicate", async () => {
    const prefix = `gp${randomBytes(3).toString("hex")}`;
    const now = Date.now();
    const events = Array.from({ length: 35 }, (_, i) => graphRecord(i, new Date(now - 3_600_000 + i * 60_000).toISOString()));
    const graph = await startGraphServer(events);
    try {
      const run = () =>
        startChild({
          name: "poller",
          command: process.execPath,
          args: ["--import", "tsx", join(ROOT, "test", "faults", "graph-poll-child.ts")],
          cwd: ROOT,
          env: { AZURITE_TABLE_PORT: String(inject("azurite").port), PREFIX: prefix, GRAPH_URL: graph.baseUrl },
          quiet: true,
        });
      // First run: page 1 is answered, page 2 hangs; the poller is killed while it waits.
      graph.faults.push({ delayMs: 0 }, { delayMs: 60_000 });
      const first = run();
      await until("the request for page 2", () => graph.requests.length >= 2, 60_000);
      const factory = tablesOn(inject("azurite").port, prefix);
      const job = jobKey("ServiceNowOutDelta.t.j", "sp-snow");
      await until("page 1 stored", async () => (await audit(factory, job)).rows === 10, 30_000);
      first.process.kill("SIGKILL");
      await first.exited;
      expect(await new TableWatermarkStore(factory).get("graph:faults")).toBeNull();
      expect(await audit(factory, job)).toEqual({ rows: 10, distinct: 10, counted: 10 });

      // Second run: from the old watermark, every page; page 1 again (duplicates), nothing twice.
      const second = run();
      let out = "";
      second.process.stdout?.on("data", (c: Buffer) => (out += c.toString()));
      expect(await second.exited).toBe(0);
      const report = JSON.parse(out) as { pages: number; accepted: number; duplicates: number; watermark: string };
      expect(report).toMatchObject({ pages: 4, accepted: 25, duplicates: 10 });
      expect(await audit(factory, job)).toEqual({ rows: 35, distinct: 35, counted: 35 });
      expect(Date.parse(report.watermark)).toBe(Date.parse(String(events[34]!["activityDateTime"])));
    } finally {
      await graph.close();
    }
  });
});
