import * as ACData from "adaptivecards-templating";
import { escapeMarkdown } from "../../core/markdown";
import help from "../../../cards/help.json";
import eventDetail from "../../../cards/eventDetail.json";
import eventList from "../../../cards/eventList.json";
import choice from "../../../cards/choice.json";
import info from "../../../cards/info.json";
import stats from "../../../cards/stats.json";
import alert from "../../../cards/alert.json";

/**
 * The one place that binds card templates (cards/*.json, Adaptive Cards 1.5, no logic) to typed
 * view-models with adaptivecards-templating. Every string the view-model carries is
 * markdown-escaped first, except action payloads ("data") and URLs, which are not displayed.
 */
export const CARD_TEMPLATES = { help, eventDetail, eventList, choice, info, stats, alert } as const;
export type CardName = keyof typeof CARD_TEMPLATES;

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

function escapeViewModel(value: unknown, key = ""): unknown {
  if (typeof value === "string") return key.endsWith("Url") ? value : escapeMarkdown(value);
  if (Array.isArray(value)) return value.map((v) => escapeViewModel(v));
  if (value && typeof value === "object") {
    if (key === "data") return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeViewModel(v, k)]));
  }
  return value;
}

const compiled = new Map<CardName, ACData.Template>();

/**
 * Card actions carry {text, ...} as data. In Teams an Action.Submit becomes a messageBack, so the
 * user sees what was asked and the bot receives it as ordinary text plus the data as value.
 */
function withTeamsMessageBack(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withTeamsMessageBack);
  if (!node || typeof node !== "object") return node;
  const obj = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, withTeamsMessageBack(v)]));
  const data = obj["data"] as Record<string, unknown> | undefined;
  if (obj["type"] === "Action.Submit" && data && typeof data["text"] === "string" && !data["msteams"]) {
    obj["data"] = { ...data, msteams: { type: "messageBack", text: data["text"], displayText: data["text"] } };
  }
  return obj;
}

export function utf16Size(card: unknown): number {
  return JSON.stringify(card).length * 2;
}

export function renderCard(name: CardName, viewModel: object): RenderedCard {
  let template = compiled.get(name);
  if (!template) {
    template = new ACData.Template(CARD_TEMPLATES[name]);
    compiled.set(name, template);
  }
  const content = withTeamsMessageBack(template.expand({ $root: escapeViewModel(viewModel) })) as Record<string, unknown>;
  const json = JSON.stringify(content);
  const unresolved = json.match(/\$\{[^}]*\}/);
  if (unresolved) throw new CardRenderError(name, `unresolved binding ${unresolved[0]}`);
  if (json.length * 2 > MAX_CARD_BYTES) throw new CardRenderError(name, `${json.length * 2} bytes exceeds ${MAX_CARD_BYTES}`);
  return { contentType: "application/vnd.microsoft.card.adaptive", content };
}
