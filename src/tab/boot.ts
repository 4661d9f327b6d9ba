/**
 * Loaded before the page's bundle: outside Teams (no token to wait for), the first overview is
 * asked for at once, while the browser is still evaluating React and Fluent UI (a few hundred
 * milliseconds). The page picks the answer up when it first asks for the same URL. The range is
 * the default one, "Last 7 days" to the next whole minute, computed as the page computes it.
 */
import { firstOverviewUrl } from "./first";

if (window.self === window.top) {
  const url = firstOverviewUrl(Date.now());
  (window as unknown as { provbotFirst?: { url: string; response: Promise<Response> } }).provbotFirst = { url, response: fetch(url) };
}
