import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Browser, Locator } from "playwright-core";
import { openPlayground, type playgroundPage } from "../support/playgroundPage";
import { startHostProcess, startPlaygroundProcess, type HostProcess, type PlaygroundProcess } from "../support/stack";
import { postDemo } from "../../scripts/demo";
import { burst } from "../support/records";

/**
 * Every kind of card button clicked in the real Agents Playground page, in headless Debian
 * Chromium, as a person would: the welcome and help buttons, a list's More and its rows, the name
 * picker, an event's History and Similar failures, and an alert's Acknowledge, Mute and Show
 * affected. Each click must reach the bot and its answer must appear in the page, with no error in
 * the page (a `messageBack` in the data used to throw "Cannot add property msTeams").
 */
let host: HostProcess;
let playground: PlaygroundProcess;
let browser: Browser;
let pageErrors: string[] = [];

beforeAll(async () => {
  host = await startHostProcess(inject("azurite").port, { PROVBOT_TABLE_PREFIX: `br${Date.now().toString(36)}` });
  const loaded = await postDemo(host.url, host.functionKey, { now: new Date(), days: 2, perCycle: 2 });
  expect(loaded.rejected).toBe(0);
  playground = await startPlaygroundProcess(host.url, "e2e-browser");
  ({ browser, pageErrors, ui } = await openPlayground(playground.url));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await playground?.stop();
  await host?.stop();
});

let ui: ReturnType<typeof playgroundPage>;
const cards = () => ui.cards();
const cardWith = (re: RegExp, timeoutMs?: number) => ui.cardWith(re, timeoutMs);
const newCardWith = (before: number, re: RegExp, timeoutMs?: number) => ui.newCardWith(before, re, timeoutMs);
const say = (text: string, expected: RegExp) => ui.say(text, expected);
const click = (card: Locator, title: string | RegExp, expected: RegExp) => ui.click(card, title, expected);

describe("card buttons clicked in the Agents Playground page (headless Chromium)", () => {
  it("the welcome card's Help button answers with the help card", async () => {
    const welcome = await cardWith(/provbot is here/);
    await click(welcome, "Help", /provbot: Entra ID provisioning, answered in chat/);
  });

  it("the help card's buttons ask their question", async () => {
    const help = await cardWith(/provbot: Entra ID provisioning, answered in chat/);
    await click(help, "Failures in the last 24 hours", /Events · Failure/);
  });

  it("a list's More pages on, and clicking a row opens its event", async () => {
    const list = await say("what users were updated this week?", /Users updated/);
    const page2 = await click(list, "More", /11–20 shown/);
    const before = await cards().count();
    await page2.locator(".ac-selectable").first().click();
    await newCardWith(before, /Troubleshooting|Steps|Change ID/);
  });

  it("the name picker opens the chosen person's history, and a history row opens its event", async () => {
    const picker = await say("what happened to alice?", /Which "alice"\?/);
    const history = await click(picker, /Alice Martin/, /Alice Martin/);
    const before = await cards().count();
    await history.locator(".ac-selectable").first().click();
    await newCardWith(before, /Change ID/);
  });

  it("an event's History and Similar failures buttons answer", async () => {
    const event = await say("why did alice zhang fail in ServiceNow?", /Alice Zhang: .* in ServiceNow · Failure/);
    await click(event, /^History of/, /Alice Zhang/);
    const again = await cardWith(/Alice Zhang: .* in ServiceNow · Failure/);
    await click(again, "Similar failures", /with \w+/);
  });

  it("an alert's Acknowledge updates it, Mute answers, Show affected lists the events", async () => {
    const welcome = await cardWith(/provbot is here/);
    await click(welcome, "Subscribe to alerts", /receives provisioning alerts/);
    const jobId = `browser-storm-${Date.now()}`;
    const res = await fetch(`${host.url}/api/ingest`, { method: "POST", headers: { "content-type": "application/json", "x-functions-key": host.functionKey }, body: JSON.stringify({ value: burst(24, { jobId, app: "Dropbox Business", action: "disable", end: new Date(), cycleId: "storm" }) }) });
    expect(res.status).toBe(200);
    const alert = await cardWith(/Burst of disables\/deletes · Dropbox Business/, 30_000);
    await alert.getByRole("button", { name: "Acknowledge" }).click();
    await cardWith(/Burst of disables\/deletes · Dropbox Business[\s\S]*Acknowledged by/);
    const acked = await cardWith(/Burst of disables\/deletes · Dropbox Business/);
    await click(acked, "Mute 1h", /[Mm]uted/);
    const again = await cardWith(/Burst of disables\/deletes · Dropbox Business/);
    await click(again, "Show affected", /Dropbox Business/);
  });

  it("no click raised an error in the page", () => {
    expect(pageErrors.filter((e) => /msTeams|not extensible/i.test(e))).toEqual([]);
  });
});
