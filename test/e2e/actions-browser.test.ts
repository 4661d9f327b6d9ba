import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Browser, Locator, Page } from "playwright-core";
import { openPlayground, type playgroundPage } from "../support/playgroundPage";
import { runFunction, startHostProcess, startPlaygroundProcess, type HostProcess, type PlaygroundProcess } from "../support/stack";
import { postDemo, startDemoGraph } from "../../scripts/demo";
import type { GraphState } from "../../scripts/graph-emulator";

/**
 * Issue 26 as a person does it in the real Agents Playground page (headless Debian Chromium), on the
 * demo tenant as `npm start` runs it (its loopback Graph, actions on): the event card's Provision
 * button, the confirmation card, and the answer with the four steps; then Clear the quarantine from
 * the job's health answer. Graph receives exactly the requests the clicks ask for.
 */
const NOW = new Date(Date.now() - 5 * 60_000);
let host: HostProcess;
let graph: GraphState;
let playground: PlaygroundProcess;
let browser: Browser;
let page: Page;
let pageErrors: string[] = [];

beforeAll(async () => {
  graph = await startDemoGraph(NOW);
  graph.throttleEvery = 0;
  host = await startHostProcess(inject("azurite").port, {
    PROVBOT_TABLE_PREFIX: `ab${Date.now().toString(36)}`,
    PROVBOT_GRAPH_BASE_URL: graph.baseUrl,
    PROVBOT_GRAPH_ACCESS_TOKEN: "demo-emulator-token",
    PROVBOT_ACTIONS: "on",
  });
  // The demo's logs through the ingest endpoint (quick), its job status through the real poller.
  const loaded = await postDemo(host.url, host.functionKey, { now: NOW, days: 2, perCycle: 2 });
  expect(loaded.rejected).toBe(0);
  await runFunction(host, "jobStatusPoll");
  playground = await startPlaygroundProcess(host.url, "e2e-actions-browser");
  ({ browser, page, pageErrors, ui } = await openPlayground(playground.url));
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await playground?.stop();
  await host?.stop();
  await graph?.close();
});

let ui: ReturnType<typeof playgroundPage>;
const cardWith = (re: RegExp, timeoutMs?: number) => ui.cardWith(re, timeoutMs);
const say = (text: string, expected: RegExp) => ui.say(text, expected);
const click = (card: Locator, title: string | RegExp, expected: RegExp) => ui.click(card, title, expected);

describe("job actions clicked in the Agents Playground page (headless Chromium)", () => {
  it("Provision on demand from the event card: a confirmation naming the job, then the four steps; one request to Graph", async () => {
    const event = await say("why did alice zhang fail in ServiceNow?", /Alice Zhang: .* in ServiceNow · Failure/);
    const confirm = await click(event, /^Provision Alice Zhang now/, /Confirm: Provision on demand in ServiceNow\?/);
    const text = await confirm.innerText();
    expect(text).toMatch(/ServiceNowOutDelta\./);
    expect(text).toMatch(/changes ServiceNow for real/);
    expect(graph.actions).toEqual([]);
    await confirm.getByRole("button", { name: /^Confirm/ }).click();
    // The answer takes the confirmation card's place: no Confirm button is left to press twice.
    const done = await cardWith(/Provisioned on demand: Alice Zhang in ServiceNow/);
    expect(await done.innerText()).toMatch(/Determine if in scope[\s\S]*Perform action/);
    expect(await page.getByRole("button", { name: /^Confirm: provision on demand/ }).count()).toBe(0);
    expect(graph.actions.map((a) => a.path.split("/").at(-1))).toEqual(["provisionOnDemand"]);
  });

  it("Clear the quarantine from Box's health answer; the confirmation is replaced by the result", async () => {
    const health = await say("how is Box doing?", /How is Box doing\?/);
    const confirm = await click(health, "Clear the quarantine", /Confirm: Clear the quarantine in Box\?/);
    await confirm.getByRole("button", { name: /^Confirm/ }).click();
    await cardWith(/Done: Clear the quarantine in Box/);
    expect(await page.getByRole("button", { name: /^Confirm: clear the quarantine/ }).count()).toBe(0);
    expect(graph.actions.filter((a) => a.path.endsWith("/start"))).toHaveLength(1);
  });

  it("no click raised an error in the page", () => {
    expect(pageErrors).toEqual([]);
  });
});
