/**
 * The Teams host, when there is one. Outside Teams (a plain browser, the local stack) the page is
 * not in a frame, and `app.initialize` would fail ("No Parent window found"): teams-js is not even
 * loaded then (importing it fetches Teams' list of valid origins from a CDN), so nothing is logged
 * and nothing leaves the page, and the browser's colour scheme is used.
 */
export type ThemeName = "default" | "dark" | "contrast";

export interface Host {
  inTeams: boolean;
  theme: ThemeName;
  onTheme(fn: (t: ThemeName) => void): void;
  token(): Promise<string | null>;
}

const themeOf = (t: string | undefined): ThemeName => (t === "dark" ? "dark" : t === "contrast" ? "contrast" : "default");

export async function connect(): Promise<Host> {
  const framed = window.self !== window.top;
  const forced = new URLSearchParams(window.location.search).get("theme");
  const browserTheme = (): ThemeName => (forced ? themeOf(forced) : window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "default");
  if (!framed) {
    const listeners: ((t: ThemeName) => void)[] = [];
    window.matchMedia?.("(prefers-color-scheme: dark)").addEventListener?.("change", () => listeners.forEach((l) => l(browserTheme())));
    return { inTeams: false, theme: browserTheme(), onTheme: (fn) => listeners.push(fn), token: async () => null };
  }
  try {
    const { app, authentication } = await import("@microsoft/teams-js");
    await Promise.race([app.initialize(), new Promise((_, reject) => setTimeout(() => reject(new Error("Teams did not answer")), 5_000))]);
    const context = await app.getContext();
    app.notifySuccess();
    return {
      inTeams: true,
      theme: themeOf(context.app.theme),
      onTheme: (fn) => app.registerOnThemeChangeHandler((t) => fn(themeOf(t))),
      token: () => authentication.getAuthToken().catch(() => null),
    };
  } catch {
    // Framed by something that is not Teams: behave as in a browser.
    return { inTeams: false, theme: browserTheme(), onTheme: () => undefined, token: async () => null };
  }
}
