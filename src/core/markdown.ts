/**
 * Adaptive Card TextBlocks and Facts render a markdown subset in Teams. Text that comes from
 * data (names, reasons, ids) must not be able to add links, emphasis, headings or lists, so the
 * characters that start those constructs are backslash-escaped (CommonMark escapes). Other
 * punctuation is left alone so that ids and e-mail addresses stay readable.
 */
const INLINE_SPECIALS = /[\\`*_[\]<>~|]/g;
const LINE_START_BLOCKS = /^(\s*)(?:([-+#>])|(\d+)([.)]))(?=\s|$)/gm;

export function escapeMarkdown(text: string): string {
  return text
    .replace(/\r\n?/g, "\n")
    .replace(INLINE_SPECIALS, (c) => `\\${c}`)
    .replace(LINE_START_BLOCKS, (_m, space: string, bullet?: string, digits?: string, delim?: string) =>
      bullet ? `${space}\\${bullet}` : `${space}${digits}\\${delim}`,
    );
}
