import { describe, expect, it } from "vitest";
import { RestError } from "@azure/data-tables";
import { ConcurrencyExhausted, isConflict, optimistic } from "../../src/adapters/tables/optimistic";

const conflict = () => new RestError("precondition", { statusCode: 412 });
const noPause = async () => undefined;

describe("the optimistic-concurrency helper", () => {
  it("re-reads after a conflict and writes what it decides from the fresh read", async () => {
    let stored = 0;
    let reads = 0;
    const writes: number[] = [];
    await optimistic({
      what: "counter",
      pause: noPause,
      read: async () => (reads++, stored),
      write: async (current) => {
        if (writes.length === 0) {
          stored = 5; // another writer won the first round
          writes.push(-1);
          throw conflict();
        }
        writes.push(current + 1);
        stored = current + 1;
      },
    });
    expect(stored).toBe(6);
    expect(reads).toBe(2);
  });

  it("reports running out of attempts instead of dropping the update", async () => {
    let attempts = 0;
    const run = optimistic({ what: "job J", attempts: 3, pause: noPause, read: async () => null, write: async () => { attempts++; throw conflict(); } });
    await expect(run).rejects.toBeInstanceOf(ConcurrencyExhausted);
    await expect(run).rejects.toThrow(/job J: still conflicting after 3 attempts/);
    expect(attempts).toBe(3);
  });

  it("passes any other failure straight through, without retrying", async () => {
    let attempts = 0;
    const outage = new RestError("down", { statusCode: 503 });
    await expect(optimistic({ what: "x", pause: noPause, read: async () => 0, write: async () => { attempts++; throw outage; } })).rejects.toBe(outage);
    expect(attempts).toBe(1);
    expect(isConflict(new RestError("exists", { statusCode: 409 }))).toBe(true);
    expect(isConflict(outage)).toBe(false);
  });
});
