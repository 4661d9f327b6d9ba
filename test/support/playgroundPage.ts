import { existsSync } from "node:fs";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";

/**
 * The Agents Playground page as a person uses it (headless Chromium): the message box, the cards
 * as they appear, typing a message and clicking a card's button. Shared by the browser tests.
 */
export function playgroundPage(page: Page, pageErrors: string[]) {
  const cards = () => page.locator(".ac-adaptiveCard");
  /** The message box: a Lexical editor (contenteditable, role textbox). */
  const composer = () => page.locator('[contenteditable="true"][role="textbox"]').first();

  /** A card (from the `before`-th on; a card updated in place keeps its place) whose text matches, newest first. */
  async function newCardWith(before: number, re: RegExp, timeoutMs = 20_000): Promise<Locator> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const all = await cards().all();
      for (let i = all.length - 1; i >= before; i--) if (re.test((await all[i]!.textContent()) ?? "")) return all[i]!;
      await page.waitForTimeout(100);
    }
    throw new Error(`no new card matching ${re} within ${timeoutMs} ms (cards: ${await cards().count()}); page errors: ${pageErrors.join(" | ") || "none"}`);
  }

  /** Waits until some card's text matches, and returns the newest such card. */
  const cardWith = (re: RegExp, timeoutMs = 20_000) => newCardWith(0, re, timeoutMs);

  async function say(text: string, expected: RegExp): Promise<Locator> {
    const before = await cards().count();
    await composer().fill(text);
    await composer().press("Enter");
    return newCardWith(before, expected);
  }

  async function click(card: Locator, title: string | RegExp, expected: RegExp): Promise<Locator> {
    const before = await cards().count();
    await card.getByRole("button", { name: title }).first().click();
    return newCardWith(before, expected);
  }

  return { cards, composer, newCardWith, cardWith, say, click };
}

export const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";

/** Debian's Chromium, headless, on the Playground's page: the page, its errors, and the helpers above. */
export async function openPlayground(url: string): Promise<{ browser: Browser; page: Page; pageErrors: string[]; ui: ReturnType<typeof playgroundPage> }> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is needed at ${CHROMIUM} (Debian package "chromium"; .ci/run installs it)`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  const ui = playgroundPage(page, pageErrors);
  await page.goto(url);
  await ui.composer().waitFor({ timeout: 30_000 });
  return { browser, page, pageErrors, ui };
}
