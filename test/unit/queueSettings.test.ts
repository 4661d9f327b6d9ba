import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_QUEUE_SETTINGS, queueSettings, resolveSetting } from "../../scripts/local-host/queues";
import { decodeMessage, encodeMessage } from "../../src/adapters/queues/client";
import { parseIncidentRef } from "../../src/app/alertPorts";

describe("the local host's queue trigger settings", () => {
  it("reads host.json extensions.queues, with the host's defaults for what is not set", () => {
    expect(queueSettings({ extensions: { queues: { maxPollingInterval: "00:00:02", batchSize: 8, maxDequeueCount: 3 } } })).toEqual({ batchSize: 8, maxDequeueCount: 3, maxPollingIntervalMs: 2_000 });
    expect(queueSettings({ extensions: { queues: { maxPollingInterval: "00:01:30.500" } } }).maxPollingIntervalMs).toBe(90_000);
    expect(queueSettings({})).toEqual(DEFAULT_QUEUE_SETTINGS);
    // The repository's host.json: the alert outbox is polled at least every 2 s (the latency target).
    const ours = queueSettings(JSON.parse(readFileSync(join(__dirname, "..", "..", "host.json"), "utf8")));
    expect(ours.maxPollingIntervalMs).toBeLessThanOrEqual(2_000);
  });

  it("resolves %Setting% from the app settings and names one that is missing", () => {
    expect(resolveSetting("%PROVBOT_ALERT_QUEUE%", { PROVBOT_ALERT_QUEUE: "alerts-1" })).toBe("alerts-1");
    expect(resolveSetting("plain-name", {})).toBe("plain-name");
    expect(() => resolveSetting("%MISSING%", {})).toThrow(/%MISSING%/);
  });
});

describe("outbox messages", () => {
  it("round-trip as base64 JSON, and anything else is not an incident", () => {
    const ref = { incidentId: "removalBurst|job|1", jobKey: "job", rule: "removalBurst" as const, version: 3 };
    expect(parseIncidentRef(decodeMessage(encodeMessage(ref)))).toEqual(ref);
    expect(parseIncidentRef(decodeMessage('{"incidentId":"x","jobKey":"j","rule":"dropTables"}'))).toBeNull();
    expect(parseIncidentRef(decodeMessage("not json at all"))).toBeNull();
    expect(parseIncidentRef(decodeMessage(encodeMessage(["incidentId"])))).toBeNull();
  });
});
