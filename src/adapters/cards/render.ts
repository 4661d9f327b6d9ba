import * as ACData from "adaptivecards-templating";
import type { Answer, CardViewModels } from "../../core/ask/views";
import { escapeMarkdown } from "../../core/markdown";
import { clipText } from "../../core/text";
import { displayLines, displayText } from "../../core/displayText";
import { DEFAULT_QUESTION_MAX_CHARS } from "../../core/ask/question";
import help from "../../../cards/help.json";
import eventDetail from "../../../cards/eventDetail.json";
import eventList from "../../../cards/eventList.json";
import choice from "../../../cards/choice.json";
import info from "../../../cards/info.json";
import stats from "../../../cards/stats.json";
import alert from "../../../cards/alert.json";

/**
 * The one place that binds card templates (cards/*.json, Adaptive Cards 1.5, no logic) to typed
 * view-models with adaptivecards-templating. Data is inert: every string the view-model carries
 * is cleaned for display (core/text.ts displayText: no bidi or invisible characters, whitespace
 * collapsed), markdown-escaped (except action payloads and URLs) and bound as an opaque token, so a name
 * or reason holding `${x}` is shown as text, never evaluated; and data is clipped step by step
 * until the card fits Teams' 40 KB, whatever its size.
 *
 * Actions are plain Action.Submit with their data ({text, ...}): Teams and the Agents Playground
 * both deliver that as a message whose value is the data, which the bot reads like typed text.
 * (A `msteams: {type: "messageBack"}` in the data breaks every button in the Playground page.)
 */
export const CARD_TEMPLATES = { help, eventDetail, eventList, choice, info, stats, alert } as const;
export type CardName = keyof typeof CARD_TEMPLATES;
/** Every template has a view-model type, and every view-model a template (checked by the compiler). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _templatesMatchViewModels: Same<CardName, keyof CardViewModels> = true;
void _templatesMatchViewModels;

/** Teams rejects cards over ~40 KB (measured as UTF-16). Keep a margin. */
export const MAX_CARD_BYTES = 40 * 1024;

export class CardRenderError extends Error {
  constructor(card: string, detail: string) {
    super(`card "${card}": ${detail}`);
    this.name = "CardRenderError";
  }
}

export interface RenderedCard {
  contentType: "application/vnd.microsoft.card.adaptive";
  content: Record<string, unknown>;
}

/** How hard data is clipped, tried in order until the card fits Teams' size limit. */
const FIT_LEVELS = [
  { chars: 2000, items: 200 },
  { chars: 600, items: 60 },
  { chars: 200, items: 25 },
  { chars: 60, items: 10 },
] as const;

const MAX_URL_CHARS = 2048;

/** View-model fields shown on one line: names, titles, labels (others keep their line breaks). */
const SINGLE_LINE = new Set(["title", "subtitle", "who", "when", "what", "label", "header", "summary", "name", "app", "code", "status", "count", "version"]);

/** Private-use delimiters: data strings travel through the template as opaque tokens. */
const TOKEN = /\uE000(\d+)\uE001/g;

/**
 * Every data string is markdown-escaped (except action payloads and URLs, which are not
 * displayed), clipped to the level's length, and replaced by a token. The template is then
 * expanded over tokens only, so no data can ever be read as template syntax, and the tokens are
 * replaced by the data afterwards.
 */
function tokenise(value: unknown, strings: string[], level: (typeof FIT_LEVELS)[number], key = "", inData = false): unknown {
  if (typeof value === "string") {
    // URLs are built by provbot and never clipped (a cut link is a broken one); an action's payload
    // is what the bot receives back, so it keeps what a question may hold.
    if (key.endsWith("Url")) strings.push(clipText(value, MAX_URL_CHARS, ""));
    else if (inData) strings.push(clipText(value, Math.max(level.chars, DEFAULT_QUESTION_MAX_CHARS), "…"));
    else strings.push(escapeMarkdown(clipText(SINGLE_LINE.has(key) ? displayText(value) : displayLines(value), level.chars, "…")));
    return `\uE000${strings.length - 1}\uE001`;
  }
  if (Array.isArray(value)) return value.slice(0, level.items).map((v) => tokenise(v, strings, level, "", inData));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tokenise(v, strings, level, k, inData || k === "data")]));
  }
  return value;
}

function detokenise(node: unknown, strings: string[]): unknown {
  if (typeof node === "string") return node.includes("\uE000") ? node.replace(TOKEN, (_m, i: string) => strings[Number(i)] ?? "") : node;
  if (Array.isArray(node)) return node.map((n) => detokenise(n, strings));
  if (node && typeof node === "object") return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, detokenise(v, strings)]));
  return node;
}

const compiled = new Map<CardName, ACData.Template>();

export function utf16Size(card: unknown): number {
  return JSON.stringify(card).length * 2;
}

/** Renders one answer: its card with its own view-model (the pair is typed by CardViewModels). */
export function renderAnswer(a: Pick<Answer, "card" | "viewModel">): RenderedCard {
  return renderCard(a.card, a.viewModel as CardViewModels[typeof a.card]);
}

export function renderCard<C extends CardName>(name: C, viewModel: CardViewModels[C]): RenderedCard {
  let template = compiled.get(name);
  if (!template) {
    template = new ACData.Template(CARD_TEMPLATES[name]);
    compiled.set(name, template);
  }
  let size = 0;
  for (const level of FIT_LEVELS) {
    const strings: string[] = [];
    const expanded = template.expand({ $root: tokenise(viewModel, strings, level) }) as unknown;
    // Only the template's own text can hold ${...} here: data is all tokens.
    const unresolved = JSON.stringify(expanded).match(/\$\{[^}]*\}/);
    if (unresolved) throw new CardRenderError(name, `unresolved binding ${unresolved[0]}`);
    const content = detokenise(expanded, strings) as Record<string, unknown>;
    size = utf16Size(content);
    if (size <= MAX_CARD_BYTES) return { contentType: "application/vnd.microsoft.card.adaptive", content };
  }
  throw new CardRenderError(name, `${size} bytes exceeds ${MAX_CARD_BYTES} even with every value clipped`);
}
