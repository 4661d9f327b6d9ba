/** Case-, accent- and space-insensitive form of a name, for lookups. */
export function normaliseName(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/\s+/g, " ")
    .trim();
}

/** The words of a name for matching: normalised, punctuation dropped ("O'Brien-Smith" → "obrien", "smith"). */
export function nameTokens(name: string): string[] {
  return normaliseName(name)
    .replace(/['’`.]/g, "")
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** True when every word of the phrase is a word of the name, in the same order ("maria garcia" in "María José García López"). */
export function partsInOrder(phrase: string[], name: string[]): boolean {
  let i = 0;
  for (const word of name) if (i < phrase.length && word === phrase[i]) i++;
  return phrase.length > 0 && i === phrase.length;
}

/**
 * Edit distance where swapping two neighbouring letters counts once ("alcie" → "alice" is 1),
 * the optimal-string-alignment variant of Damerau-Levenshtein; `max` stops early beyond it.
 */
export function typoDistance(a: string, b: string, max = Number.MAX_SAFE_INTEGER): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row.push(d);
      best = Math.min(best, d);
    }
    if (best > max) return max + 1;
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
