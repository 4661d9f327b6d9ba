import { distance } from "fastest-levenshtein";
import { nameTokens, normaliseName, partsInOrder, typoDistance } from "../core/names";
import type { IdentityCandidate, JobInfo, QueryStore } from "./queryPorts";

/**
 * Names in questions to stored things. Apps match by service principal name, target or source
 * system (case-, accent- and typo-tolerant; "AD" is Active Directory, "Entra"/"Azure AD" the
 * directory). People match by display name, first name, UPN, its local part, nickname or an id.
 * Never a silent guess: several matches ask back; near matches are offered, not used.
 */
const DIRECTORY_NAMES = ["microsoft entra id", "azure active directory", "entra id", "entra", "azure ad", "aad"];
const SYSTEM_ALIASES: Record<string, string> = { ad: "active directory", "on-prem ad": "active directory", "on premises ad": "active directory", "windows ad": "active directory" };

/** Microsoft Entra ID under any of its names: the directory, not an app. */
export const isDirectoryName = (name: string): boolean => DIRECTORY_NAMES.includes(normaliseName(name));

export type AppMatch = { kind: "jobs"; jobs: JobInfo[]; label: string } | { kind: "directory" } | { kind: "none"; near: string[] };

const tolerance = (s: string) => (s.length <= 4 ? 0 : s.length <= 8 ? 1 : 2);

function nameMatches(phrase: string, name: string): "exact" | "prefix" | "typo" | null {
  const n = normaliseName(name);
  if (!n) return null;
  if (n === phrase) return "exact";
  if (n.startsWith(`${phrase} `) || n.split(/[\s(]+/).includes(phrase)) return "prefix";
  // Words of a long name, in order ("payroll inbound" for "Contoso Payroll API inbound provisioning").
  const words = nameTokens(phrase);
  if (words.length >= 2 && partsInOrder(words, nameTokens(name))) return "prefix";
  const firstWord = n.split(" ")[0] ?? "";
  if (distance(n, phrase) <= tolerance(phrase) || (phrase.length >= 5 && distance(firstWord, phrase) <= tolerance(phrase))) return "typo";
  return null;
}

export function matchApp(rawPhrase: string, jobs: JobInfo[]): AppMatch {
  let phrase = normaliseName(rawPhrase);
  phrase = SYSTEM_ALIASES[phrase] ?? phrase;
  if (DIRECTORY_NAMES.includes(phrase)) return { kind: "directory" };
  // The app by its service principal object id or its job id, as the portal's filters take them.
  const byId = jobs.filter((j) => (j.servicePrincipalId && j.servicePrincipalId.toLowerCase() === phrase) || j.jobId.toLowerCase() === phrase);
  if (byId.length > 0) return { kind: "jobs", jobs: byId, label: [...new Set(byId.map((j) => j.app))].join(", ") };
  for (const quality of ["exact", "prefix", "typo"] as const) {
    const hits = jobs.filter((j) => [j.app, j.targetSystem].some((n) => nameMatches(phrase, n) === quality));
    if (hits.length > 0) {
      // Admins know an app by its service principal's name, whether the phrase named it or its target system.
      const labels = [...new Set(hits.map((j) => j.app || j.targetSystem))];
      return { kind: "jobs", jobs: hits, label: labels.join(", ") };
    }
  }
  const near = jobs
    .map((j) => ({ app: j.app, d: distance(normaliseName(j.app), phrase) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map((x) => x.app);
  return { kind: "none", near };
}

export function matchSourceSystem(rawPhrase: string, jobs: JobInfo[]): JobInfo[] {
  let phrase = normaliseName(rawPhrase);
  phrase = SYSTEM_ALIASES[phrase] ?? phrase;
  if (DIRECTORY_NAMES.includes(phrase)) return jobs.filter((j) => DIRECTORY_NAMES.includes(normaliseName(j.sourceSystem)));
  return jobs.filter((j) => nameMatches(phrase, j.sourceSystem) !== null);
}

export type IdentityMatch = { kind: "one"; who: IdentityCandidate } | { kind: "many"; candidates: IdentityCandidate[] } | { kind: "none"; near: IdentityCandidate[] };

/** One person may be indexed under several keys (worker id in HR, object id in the directory): group by UPN. */
export function groupByPerson(candidates: IdentityCandidate[]): IdentityCandidate[] {
  const byPerson = new Map<string, IdentityCandidate>();
  for (const c of candidates) {
    const person = c.identity.includes("@") ? c.identity.toLowerCase() : c.identityKey;
    const seen = byPerson.get(person);
    if (!seen) byPerson.set(person, { ...c, otherKeys: [] });
    else if (seen.identityKey !== c.identityKey && !seen.otherKeys!.includes(c.identityKey)) seen.otherKeys!.push(c.identityKey);
  }
  return [...byPerson.values()];
}

/** How far a phrase is from a name: the whole name, its first word, or word by word for a multi-word phrase. */
function nameDistance(phrase: string, words: string[], candidate: IdentityCandidate): number {
  const max = 3;
  const whole = normaliseName(candidate.displayName);
  let d = Math.min(typoDistance(phrase, whole, max), typoDistance(phrase, normaliseName(candidate.matchedBy), max));
  const parts = nameTokens(candidate.displayName);
  if (words.length === 1) for (const p of parts) d = Math.min(d, typoDistance(phrase, p, max));
  else if (words.length <= parts.length) {
    // "gustavo zhnag" against "Gustavo Zhang": the words in order, each within its own tolerance.
    let total = 0;
    let j = 0;
    for (const w of words) {
      let best = max + 1;
      let at = -1;
      for (let k = j; k < parts.length; k++) {
        const dk = typoDistance(w, parts[k]!, max);
        if (dk < best) [best, at] = [dk, k];
      }
      if (at < 0 || best > tolerance(w)) return d;
      total += best;
      j = at + 1;
    }
    d = Math.min(d, total);
  }
  return d;
}

export async function matchIdentity(rawPhrase: string, store: QueryStore): Promise<IdentityMatch> {
  const exact = groupByPerson(await store.findIdentities(rawPhrase));
  if (exact.length === 1) return { kind: "one", who: exact[0]! };
  if (exact.length > 1) return { kind: "many", candidates: exact.sort((a, b) => a.displayName.localeCompare(b.displayName)) };
  const phrase = normaliseName(rawPhrase);
  const words = nameTokens(rawPhrase);
  const names = await store.allNames();
  // Some of a person's names, in order ("maria garcia" for María José García López): a match, not a guess.
  if (words.length > 0 && words.join("").length >= 3) {
    const byParts = groupByPerson(names.filter((c) => partsInOrder(words, nameTokens(c.displayName))));
    if (byParts.length === 1) return { kind: "one", who: byParts[0]! };
    if (byParts.length > 1) return { kind: "many", candidates: byParts.sort((a, b) => a.displayName.localeCompare(b.displayName)).slice(0, 25) };
  }
  const near = names
    .map((c) => ({ c, d: nameDistance(phrase, words, c) }))
    .filter((x) => x.d <= Math.max(1, tolerance(phrase)))
    .sort((a, b) => a.d - b.d || a.c.displayName.localeCompare(b.c.displayName));
  // One suggestion per person, however many keys and aliases they are known under.
  return { kind: "none", near: groupByPerson(near.map((x) => x.c)).slice(0, 5) };
}
