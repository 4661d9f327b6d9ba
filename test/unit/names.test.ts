import { describe, expect, it } from "vitest";
import { nameTokens, partsInOrder, typoDistance } from "../../src/core/names";

describe("name matching", () => {
  it.each([
    ["alcie", "alice", 1],
    ["zhnag", "zhang", 1],
    ["alice", "alice", 0],
    ["servicenw", "servicenow", 1],
    ["bob", "rob", 1],
    ["abc", "xyz", 3],
  ])("typoDistance(%s, %s) = %i (a swap counts once)", (a, b, d) => {
    expect(typoDistance(a, b)).toBe(d);
  });

  it("stops early beyond the bound", () => {
    expect(typoDistance("aaaaaaaa", "bbbbbbbb", 2)).toBe(3);
  });

  it.each([
    ["maria garcia", "María José García López", true],
    ["garcia maria", "María José García López", false],
    ["obrien", "Seán O'Brien", true],
    ["jose lopez", "María José García López", true],
    ["maria", "Mariana Silva", false],
  ])("%s in order in %s: %s", (phrase, name, expected) => {
    expect(partsInOrder(nameTokens(phrase), nameTokens(name))).toBe(expected);
  });
});
