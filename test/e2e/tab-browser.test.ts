import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { unzipSync, strFromU8 } from "fflate";
import { chromium, type Browser, type Page } from "playwright-core";
import { ROOT, startHostProcess, type HostProcess } from "../support/stack";
import { postDemo } from "../../scripts/demo";
import { startBotIssuer, type BotIssuer } from "../support/botIssuer";

/**
 * The Teams tab in headless Debian Chromium, on the demo tenant, as an admin uses it: the page
 * loads with no console message in light and dark; the charts have data; a filter narrows the
 * list; a click on a chart bar opens the events behind it; an event opens with the portal's four
 * sections; both downloads re-ingest as duplicates. A host with the tab's sign-in configured gives
 * nothing to a request without a valid token. Screenshots go to test-results/tab/.
 */
const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const SHOTS = join(ROOT, "test-results", "tab");
let host: HostProcess;
let browser: Browser;
let stored = 0;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is needed at ${CHROMIUM} (Debian package "chromium"; .ci/run installs it)`);
  mkdirSync(SHOTS, { recursive: true });
  host = await startHostProcess(inject("azurite").port, { PROVBOT_TABLE_PREFIX: `tb${Date.now().toString(36)}` });
  stored = (await postDemo(host.url, host.functionKey, { now: new Date(), days: 2, perCycle: 2 })).accepted;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await host?.stop();
});

/** A browser page with every console message and page error recorded, and every request outside `origin`. */
async function recordedPage(origin: string, colorScheme: "light" | "dark" = "light"): Promise<{ page: Page; messages: string[]; outside: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, colorScheme, acceptDownloads: true, reducedMotion: "reduce" });
  const messages: string[] = [];
  const outside: string[] = [];
  page.on("console", (m) => messages.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => messages.push(`pageerror: ${e.message}`));
  page.on("request", (r) => !r.url().startsWith(origin) && outside.push(r.url()));
  return { page, messages, outside };
}

/** The tab (`query` after /api/tab), once its overview is drawn with its data. */
async function openTab(colorScheme: "light" | "dark" = "light", query = ""): Promise<{ page: Page; messages: string[]; outside: string[] }> {
  const opened = await recordedPage(host.url, colorScheme);
  await opened.page.goto(`${host.url}/api/tab${query}`);
  await opened.page.locator('[data-testid="overview"][data-loaded="yes"]').waitFor({ timeout: 30_000 });
  return opened;
}

const ingest = async (body: string | FormData, contentType?: string) => {
  const res = await fetch(`${host.url}/api/ingest`, { method: "POST", headers: { "x-functions-key": host.functionKey, ...(contentType ? { "content-type": contentType } : {}) }, body });
  return (await res.json()) as { accepted: number; duplicates: number; rejectedCount: number };
};

describe("the Teams tab in Chromium", () => {
  it.each(["light", "dark"] as const)("loads in the %s theme with no console message and nothing fetched from elsewhere, and its charts have data", async (scheme) => {
    const { page, messages, outside } = await openTab(scheme);
    expect(await page.locator("[data-theme]").getAttribute("data-theme")).toBe(scheme === "dark" ? "dark" : "default");
    expect(Number(await page.getByTestId("chart-actions").getAttribute("data-points"))).toBeGreaterThan(0);
    expect(Number(await page.getByTestId("chart-statuses").getAttribute("data-points"))).toBeGreaterThan(0);
    expect(await page.getByTestId("tile-events").textContent()).toContain(stored.toLocaleString("en-US"));
    // The trend is there even for a tenant with no earlier period (issue 25, item 4).
    expect((await page.getByTestId("trend").allTextContents()).some((t) => /worse|better|steady/.test(t))).toBe(true);
    await page.screenshot({ path: join(SHOTS, `overview-${scheme}.png`) });
    expect(messages).toEqual([]);
    expect(outside).toEqual([]);
    await page.close();
  }, 60_000);

  it("draws in the high-contrast theme too (the page's theme override, as Teams would set it)", async () => {
    const { page, messages } = await openTab("light", "?theme=contrast");
    expect(await page.locator("[data-theme]").getAttribute("data-theme")).toBe("contrast");
    await page.screenshot({ path: join(SHOTS, "overview-contrast.png") });
    expect(messages).toEqual([]);
    await page.close();
  }, 60_000);

  it("a filter narrows the list, and an event opens with the portal's four sections", async () => {
    const { page, messages } = await openTab();
    await page.getByRole("tab", { name: "Events" }).click();
    await page.locator('[data-testid="events"][data-loaded="yes"]').waitFor();
    const all = Number((await page.getByTestId("total").textContent())!.replace(/\D/g, ""));
    expect(all).toBe(stored);
    await page.getByTestId("filter-status").selectOption("failure");
    // Polled from here: the page's CSP forbids evaluating strings, as it should.
    await expect.poll(async () => Number((await page.getByTestId("total").textContent())!.replace(/\D/g, "")), { timeout: 15_000 }).toBeLessThan(all);
    await page.locator('[data-testid="events"][data-loaded="yes"]').waitFor();
    const statuses = await page.getByTestId("event-row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-status")));
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set(["failure"]));
    await page.getByTestId("event-row").first().click();
    // The portal's four tabs, in its order; a failure opens on Troubleshooting & Recommendations.
    await page.getByTestId("section-troubleshooting").waitFor();
    expect((await page.getByTestId("detail-tabs").getByRole("tab").allInnerTexts()).map((t) => t.trim())).toEqual(["Steps", "Troubleshooting & Recommendations", "Modified Properties", "Summary"]);
    expect(await page.getByTestId("section-troubleshooting").textContent()).toMatch(/What to do: \S/);
    expect(await page.getByTestId("learn-more").getAttribute("href")).toMatch(/^https:\/\/learn\.microsoft\.com\//);
    await page.getByRole("tab", { name: "Steps" }).click();
    await page.getByTestId("section-steps").waitFor();
    // The steps' extended details (what was imported, evaluated and written), as the portal shows them.
    expect(await page.getByTestId("step-details").count()).toBeGreaterThan(0);
    await page.getByRole("tab", { name: "Modified Properties" }).click();
    expect(await page.getByTestId("section-modified").textContent()).toMatch(/Property|No properties were modified\./);
    await page.getByRole("tab", { name: "Summary" }).click();
    expect(await page.getByTestId("section-summary").textContent()).toMatch(/Duration: (\d[\d,]* ms|—) · Initiated by: \S/);
    expect(await page.getByTestId("target-id").textContent()).toMatch(/^Target: /);
    await page.screenshot({ path: join(SHOTS, "event-detail.png") });
    expect(messages).toEqual([]);
    await page.close();
  }, 60_000);

  it("one person across apps, with the last known state per app; a change ID finds its event; Objects touched is counted", async () => {
    const { page, messages } = await openTab();
    await page.getByTestId("tile-objects").filter({ hasText: /\d/ }).waitFor();
    const objects = Number((await page.getByTestId("tile-objects").textContent())!.replace(/\D/g, ""));
    expect(objects).toBeGreaterThan(10);
    expect(objects).toBeLessThan(stored);
    await page.getByRole("tab", { name: "Events" }).click();
    await page.getByTestId("identity").fill("bob.li@contoso.com");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByTestId("states").waitFor();
    expect(await page.getByText(/Every app, newest first: Bob Li/).count()).toBe(1);
    const apps = await page.getByTestId("event-row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-app")));
    expect(new Set(apps).size).toBeGreaterThan(1);
    const changeId = await page.getByTestId("event-row").first().getAttribute("data-change");
    await page.getByTestId("identity").fill("");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("button", { name: "More filters" }).click();
    await page.getByTestId("filter-changeId").fill(changeId!);
    await expect.poll(() => page.getByTestId("event-row").count(), { timeout: 15_000 }).toBe(1);
    expect(await page.getByTestId("event-row").first().getAttribute("data-change")).toBe(changeId);
    expect(messages).toEqual([]);
    await page.close();
  }, 60_000);

  it("a click on a chart bar opens the events behind it", async () => {
    const { page, messages } = await openTab();
    const chart = page.getByTestId("chart-statuses");
    const bars = JSON.parse((await chart.getAttribute("data-bars"))!) as { series: string; x: number; y: number }[];
    const failure = bars.find((b) => b.series === "failure")!;
    await chart.click({ position: { x: failure.x, y: failure.y } });
    await page.locator('[data-testid="events"][data-loaded="yes"]').waitFor();
    await page.getByTestId("event-row").first().waitFor();
    const statuses = await page.getByTestId("event-row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-status")));
    expect(new Set(statuses)).toEqual(new Set(["failure"]));
    expect(await page.getByTestId("filter-status").inputValue()).toBe("failure");
    // The bar's time is a filter like any other: shown, and removable (issue 25, item 2).
    const chips = page.getByTestId("filter-chip");
    await expect.poll(async () => (await chips.allTextContents()).join(" | ")).toMatch(/Time: \d{4}-\d\d-\d\d \d\d:\d\d → /);
    expect((await chips.allTextContents()).join(" | ")).toContain("Status: failure");
    const inBar = Number((await page.getByTestId("total").textContent())!.replace(/\D/g, ""));
    await chips.filter({ hasText: "Time:" }).click();
    await expect.poll(async () => (await chips.allTextContents()).join(" | ")).not.toContain("Time:");
    await expect.poll(async () => Number((await page.getByTestId("total").textContent())!.replace(/\D/g, "")), { timeout: 15_000 }).toBeGreaterThan(inBar);
    expect(messages).toEqual([]);
    await page.close();
  }, 60_000);

  it("a name that matches several people lists them as buttons, and one click opens that person's events (issue 25, item 4)", async () => {
    const { page, messages } = await openTab();
    await page.getByRole("tab", { name: "Events" }).click();
    await page.getByTestId("identity").fill("alice");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByTestId("candidates").waitFor();
    const people = await page.getByTestId("candidate").allTextContents();
    expect(people.length).toBeGreaterThan(1);
    await page.getByTestId("candidate").filter({ hasText: "Alice Zhang" }).click();
    await page.getByTestId("states").waitFor();
    expect(await page.getByText(/Every app, newest first: Alice Zhang/).count()).toBe(1);
    expect(await page.getByTestId("event-row").count()).toBeGreaterThan(0);
    expect(messages).toEqual([]);
    await page.close();
  }, 60_000);

  it("cycles come a page at a time, each with its duration and how it ended", async () => {
    const { page, messages } = await openTab();
    await page.getByRole("tab", { name: "Cycles" }).click();
    await page.getByTestId("cycles-total").waitFor();
    const [total, pages] = (await page.getByTestId("cycles-total").textContent())!.match(/^([\d,]+) cycles · page 1 of (\d+)$/)!.slice(1).map((x) => Number(x.replace(/,/g, "")));
    expect(await page.getByTestId("cycle-row").count()).toBe(Math.min(25, total!));
    for (const d of await page.getByTestId("cycle-duration").allTextContents()) expect(d).toMatch(/^(under a minute|\d+ min|\d+\.\d h)$/);
    for (const st of await page.getByTestId("cycle-status").allTextContents()) expect(st).toMatch(/^(succeeded|with \d+ failures?)$/);
    if (pages! > 1) {
      await page.getByTestId("cycles-next").click();
      await expect.poll(async () => page.getByTestId("cycles-total").textContent()).toContain("page 2 of");
      expect(await page.getByTestId("cycle-row").count()).toBe(Math.min(25, total! - 25));
    }
    expect(messages).toEqual([]);
    await page.close();
  }, 60_000);

  it("a skipped event says why it was skipped, not that it has no error", async () => {
    const { page, messages } = await openTab();
    await page.getByRole("tab", { name: "Events" }).click();
    await page.getByTestId("filter-status").selectOption("skipped");
    await expect.poll(async () => new Set(await page.getByTestId("event-row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-status")))), { timeout: 15_000 }).toEqual(new Set(["skipped"]));
    await page.getByTestId("event-row").first().click();
    await expect.poll(async () => (await page.getByTestId("skip-reason").textContent()) ?? "").toMatch(/^Why it was skipped: \S/);
    expect(await page.getByTestId("section-troubleshooting").textContent()).not.toContain("No error");
    expect(messages).toEqual([]);
    await page.close();
  }, 60_000);

  it("keeps the chosen columns between visits, and offers the portal's One month", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${host.url}/api/tab`);
    await page.locator('[data-testid="overview"][data-loaded="yes"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId("range").locator("option").allTextContents()).toContain("One month");
    await page.getByRole("tab", { name: "Events" }).click();
    await page.locator('[data-testid="events"][data-loaded="yes"]').waitFor();
    const header = async () => (await page.getByTestId("events-table").locator("th").allTextContents()).join(" | ");
    expect(await header()).not.toContain("Cycle ID");
    await page.getByRole("button", { name: "Columns" }).click();
    await page.getByRole("menuitemcheckbox", { name: "Cycle ID" }).click();
    await page.keyboard.press("Escape");
    await expect.poll(header).toContain("Cycle ID");
    await page.reload();
    await page.locator('[data-testid="overview"][data-loaded="yes"]').waitFor({ timeout: 30_000 });
    await page.getByRole("tab", { name: "Events" }).click();
    await page.locator('[data-testid="events"][data-loaded="yes"]').waitFor();
    await expect.poll(header).toContain("Cycle ID");
    await context.close();
  }, 60_000);

  it("both downloads save what the list shows, and each re-ingests as duplicates only", async () => {
    const { page } = await openTab();
    await page.getByRole("tab", { name: "Events" }).click();
    await page.getByTestId("filter-app").selectOption("ServiceNow");
    await page.locator('[data-testid="events"][data-loaded="yes"]').waitFor();
    const shown = Number((await page.getByTestId("total").textContent())!.replace(/\D/g, ""));
    expect(shown).toBeGreaterThan(0);
    const [json] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-json").click()]);
    const text = readFileSync((await json.path())!, "utf8");
    expect(JSON.parse(text)).toHaveLength(shown);
    expect(await ingest(text, "application/json")).toMatchObject({ accepted: 0, duplicates: shown, rejectedCount: 0 });
    const [csv] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-csv").click()]);
    expect(csv.suggestedFilename()).toMatch(/\.zip$/);
    const files = unzipSync(new Uint8Array(readFileSync((await csv.path())!)));
    const form = new FormData();
    for (const [name, bytes] of Object.entries(files)) form.append(name, new Blob([strFromU8(bytes)], { type: "text/csv" }), name);
    expect(await ingest(form)).toMatchObject({ accepted: 0, duplicates: shown, rejectedCount: 0 });
    await page.close();
  }, 60_000);
});

describe("the tab's data behind its sign-in", () => {
  let signed: HostProcess;
  let issuer: BotIssuer;
  const CLIENT = "99999999-8888-4777-8666-555555555555";
  beforeAll(async () => {
    issuer = await startBotIssuer(CLIENT, "http://127.0.0.1/");
    signed = await startHostProcess(inject("azurite").port, { PROVBOT_TABLE_PREFIX: `tb${Date.now().toString(36)}s`, PROVBOT_TAB_CLIENT_ID: CLIENT, PROVBOT_TAB_JWKS_URL: issuer.metadataUrl.replace("/.well-known/openidconfiguration", "/keys") });
  }, 60_000);
  afterAll(async () => {
    await signed?.stop();
    await issuer?.close();
  });

  it("gives nothing without a valid Teams token, and answers one", async () => {
    const tid = "11111111-2222-4333-8444-555555555555";
    const token = (claims: Record<string, unknown> = {}) => issuer.token({ iss: `https://login.microsoftonline.com/${tid}/v2.0`, aud: CLIENT, tid, oid: "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", scp: "access_as_user", ...claims });
    for (const path of ["dashboard/overview", "dashboard/events", "export?format=json"]) {
      expect((await fetch(`${signed.url}/api/${path}`)).status).toBe(401);
      expect((await fetch(`${signed.url}/api/${path}`, { headers: { authorization: `Bearer ${token({ aud: "another-app" })}` } })).status).toBe(401);
      expect((await fetch(`${signed.url}/api/${path}`, { headers: { authorization: `Bearer ${token({ scp: "User.Read" })}` } })).status).toBe(401);
    }
    const ok = await fetch(`${signed.url}/api/dashboard/overview`, { headers: { authorization: `Bearer ${token()}` } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { tiles: { events: number } }).tiles.events).toBe(0);
    // The page itself is public (it holds no data); opened outside Teams it says what is missing.
    const { page, messages } = await recordedPage(signed.url);
    await page.goto(`${signed.url}/api/tab`);
    await page.getByTestId("problem").waitFor();
    expect(await page.getByTestId("problem").textContent()).toMatch(/sign-in token/);
    // No page error (the refused requests themselves are logged by the browser as failed loads).
    expect(messages.filter((m) => m.startsWith("pageerror:"))).toEqual([]);
    await page.close();
  }, 60_000);
});

/**
 * Elements that stick out of the viewport sideways (outside boxes that scroll on their own), and
 * text below WCAG AA contrast (4.5:1, 3:1 for large text) against the background it is drawn on.
 * Both run in the page; a string is returned per problem.
 */
async function layoutProblems(page: Page): Promise<{ overflow: string[]; contrast: string[] }> {
  return page.evaluate(() => {
    // In the page (the tests' TypeScript has no DOM types): the few DOM calls used, loosely typed.
    /* eslint-disable @typescript-eslint/no-explicit-any */
    const g = globalThis as any;
    const document = g.document;
    const getComputedStyle = (e: any) => g.getComputedStyle(e);
    const width = document.documentElement.clientWidth;
    const overflow: string[] = [];
    const contrast: string[] = [];
    const rgb = (c: string): [number, number, number, number] | null => {
      const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/.exec(c);
      return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])] : null;
    };
    const lum = ([r, g, b]: number[]) => {
      const f = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
    };
    const background = (el: any): number[] => {
      for (let e = el; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c && c[3] > 0.5) return c;
      }
      return [255, 255, 255];
    };
    for (const el of Array.from(document.querySelectorAll("body *")) as any[]) {
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (r.width === 0 || r.height === 0 || style.visibility === "hidden" || style.display === "none") continue;
      if (!el.closest(".scroll-x") || el.classList.contains("scroll-x")) {
        if (r.right > width + 1 || r.left < -1) overflow.push(`${el.tagName.toLowerCase()}${el.getAttribute("data-testid") ? `[${el.getAttribute("data-testid")}]` : ""} ${Math.round(r.left)}..${Math.round(r.right)} > ${width}: ${(el.textContent ?? "").slice(0, 60)}`);
      }
      const own = (Array.from(el.childNodes) as any[]).some((n) => n.nodeType === 3 && (n.textContent ?? "").trim().length > 0);
      if (!own || el.closest("[disabled], [aria-disabled='true']")) continue;
      const fg = rgb(style.color);
      if (!fg) continue;
      const bg = background(el);
      const [a, b] = [lum(fg), lum(bg)];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) contrast.push(`${ratio.toFixed(2)}:1 "${(el.textContent ?? "").trim().slice(0, 40)}" ${style.color} on rgb(${bg.slice(0, 3).join(",")})`);
    }
    return { overflow: overflow.slice(0, 10), contrast: [...new Set(contrast)].slice(0, 10) };
  });
}

describe("the tab at any width and in every theme (issue 25, items 1 and 6)", () => {
  it("the checks can fail: light green text on white, and a 2,000 px wide element, are both reported", async () => {
    const page = await browser.newPage({ viewport: { width: 400, height: 900 } });
    await page.goto(`${host.url}/api/tab`);
    await page.locator('[data-testid="overview"][data-loaded="yes"]').waitFor({ timeout: 30_000 });
    await page.evaluate(() => {
      const d = (globalThis as unknown as { document: { body: { append(n: unknown): void }; createElement(t: string): { textContent: string; setAttribute(k: string, v: string): void } } }).document;
      const pale = d.createElement("span");
      pale.textContent = "Succeeded";
      pale.setAttribute("style", "color:#92c353;background:#ffffff");
      const wide = d.createElement("div");
      wide.textContent = "wide";
      wide.setAttribute("style", "width:2000px");
      d.body.append(pale);
      d.body.append(wide);
    });
    const found = await layoutProblems(page);
    expect(found.contrast.join(" ")).toContain("Succeeded");
    expect(found.overflow.join(" ")).toContain("wide");
    await page.close();
  }, 60_000);

  for (const width of [400, 768, 1280]) {
    for (const theme of ["light", "dark", "contrast"] as const) {
      it(`${width} px, ${theme}: the overview, the events and an event fit the width (tables scroll inside themselves), and text meets WCAG AA contrast`, async () => {
        const page = await browser.newPage({ viewport: { width, height: 900 }, colorScheme: theme === "dark" ? "dark" : "light", reducedMotion: "reduce" });
        await page.goto(`${host.url}/api/tab${theme === "contrast" ? "?theme=contrast" : ""}`);
        await page.locator('[data-testid="overview"][data-loaded="yes"]').waitFor({ timeout: 30_000 });
        const overview = await layoutProblems(page);
        await page.getByRole("tab", { name: "Events" }).click();
        await page.locator('[data-testid="events"][data-loaded="yes"]').waitFor();
        await page.getByTestId("event-row").first().waitFor();
        const events = await layoutProblems(page);
        await page.getByTestId("event-row").first().click();
        await page.getByTestId("detail-tabs").waitFor();
        await page.getByRole("tab", { name: "Steps" }).click();
        await page.getByTestId("section-steps").waitFor();
        const detail = await layoutProblems(page);
        await page.screenshot({ path: join(SHOTS, `width-${width}-${theme}.png`), fullPage: false });
        expect({ overview: overview.overflow, events: events.overflow, detail: detail.overflow }).toEqual({ overview: [], events: [], detail: [] });
        expect({ overview: overview.contrast, events: events.contrast, detail: detail.contrast }).toEqual({ overview: [], events: [], detail: [] });
        await page.close();
      }, 60_000);
    }
  }
});
