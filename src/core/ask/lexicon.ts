import { nameTokens, partsInOrder } from "../names";

/**
 * What the question parser knows of the tenant: the apps' names (service principal names and
 * target systems). With it, an app is found anywhere in a sentence, in any word order ("adobe
 * failures last week"), by its whole name or by a distinctive part of a long one ("payroll
 * inbound" for "Contoso Payroll API inbound provisioning"). Pure: the caller passes the names.
 */
export interface Lexicon {
  apps: string[];
  /** Other names of an app (its target system's): alias -> the app's name. One app, one owner of its words. */
  aliases?: Record<string, string>;
}

export const EMPTY_LEXICON: Lexicon = { apps: [] };

export interface AppMention {
  /** The app's name as stored. */
  app: string;
  /** The words of the question that named it, as typed (lower case, normalised). */
  phrase: string;
  /** Token positions [start, end) in the question's words. */
  start: number;
  end: number;
}

/**
 * Words that say nothing about which app is meant: they never name an app alone, though they may
 * be part of a longer phrase that does.
 */
const GENERIC = new Set(
  "the a an of to in on for from and or with by at is are was were be been app apps application applications job jobs provisioning provision provisioned inbound outbound api sync synced connector user users group groups account accounts identity identities management cloud business internet access service services online platform portal system systems admin data directory active workspace enterprise sso scim hr it team teams new old test prod production sandbox dev how what why who when which where did does do has have had not no all any my our their".split(
    " ",
  ),
);

/** The question's words, normalised as names are ("Zoë" is "zoe"). */
export function questionWords(text: string): string[] {
  return nameTokens(text);
}

interface Prepared {
  /** Every name of every app (aliases included), by the words in it: a phrase's candidates are the apps holding its first word. */
  byWord: Map<string, { app: string; tokens: string[] }[]>;
  distinctive: (t: string) => boolean;
}

/** The lexicon prepared once (a question asks findApps several times of the same lexicon). */
const prepared = new WeakMap<Lexicon, Prepared>();

function prepare(lexicon: Lexicon): Prepared {
  const known = prepared.get(lexicon);
  if (known) return known;
  const aliases = Object.entries(lexicon.aliases ?? {}).filter(([alias, app]) => alias.trim() && app.trim());
  const names = [...new Set(lexicon.apps.filter((a) => a.trim()))].map((app) => ({ app, tokens: nameTokens(app) }));
  const apps = [...names, ...aliases.map(([alias, app]) => ({ app, tokens: nameTokens(alias) }))].filter((a) => a.tokens.length > 0);
  // A word is distinctive when one app (under any of its names) owns it.
  const owners = new Map<string, Set<string>>();
  const byWord = new Map<string, { app: string; tokens: string[] }[]>();
  for (const a of apps) {
    for (const t of new Set(a.tokens)) {
      owners.set(t, (owners.get(t) ?? new Set()).add(a.app));
      const list = byWord.get(t);
      if (list) list.push(a);
      else byWord.set(t, [a]);
    }
  }
  const p: Prepared = { byWord, distinctive: (t) => t.length >= 3 && !GENERIC.has(t) && owners.get(t)?.size === 1 && !/^\d+$/.test(t) };
  prepared.set(lexicon, p);
  return p;
}

/**
 * Every app named in the question, longest first, not overlapping. A phrase names an app when it
 * is the app's whole name, or words of the app's name in order of which at least one is
 * distinctive (in no other app's name, and not a generic word).
 */
export function findApps(text: string, lexicon: Lexicon): AppMention[] {
  const words = questionWords(text);
  if (words.length === 0 || lexicon.apps.length === 0) return [];
  const { byWord, distinctive } = prepare(lexicon);
  const found: AppMention[] = [];
  const taken = new Array<boolean>(words.length).fill(false);
  for (let len = Math.min(6, words.length); len >= 1; len--) {
    for (let start = 0; start + len <= words.length; start++) {
      if (taken.slice(start, start + len).some(Boolean)) continue;
      const span = words.slice(start, start + len);
      // Both a whole name and words in order hold the phrase's first word.
      const candidates = byWord.get(span[0]!) ?? [];
      if (candidates.length === 0) continue;
      const whole = candidates.filter((a) => a.tokens.length === span.length && a.tokens.every((t, i) => t === span[i]));
      const parts = whole.length ? whole : span.some(distinctive) ? candidates.filter((a) => partsInOrder(span, a.tokens)) : [];
      const owner = [...new Set(parts.map((a) => a.app))];
      if (owner.length !== 1) continue;
      found.push({ app: owner[0]!, phrase: span.join(" "), start, end: start + len });
      for (let i = start; i < start + len; i++) taken[i] = true;
    }
  }
  return found.sort((a, b) => a.start - b.start);
}
