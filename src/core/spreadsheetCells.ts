/**
 * Text cells of a CSV download, made safe for spreadsheets and read back exactly.
 *
 * A cell a spreadsheet would run as a formula (=, +, -, @, tab, carriage return or line feed
 * first: OWASP's CSV-injection list) gets a leading apostrophe, in every column: a UPN, an error
 * code or an id from a hostile directory or SCIM server must not become a command on the admin's
 * machine. A plain number (-5, +3.2) is not a formula and is left alone.
 *
 * The rule is reversible, so a download re-ingests exactly: a value that already starts with
 * apostrophes before a formula character gets one more, and reading strips exactly one.
 */
const FORMULA_AFTER_QUOTES = /^'*[=+\-@\t\r\n]/;
const DEFUSED = /^'+[=+\-@\t\r\n]/;
const PLAIN_NUMBER = /^[+-]?\d+(\.\d+)?$/;

export function defuseCell(value: string): string {
  return FORMULA_AFTER_QUOTES.test(value) && !PLAIN_NUMBER.test(value) ? `'${value}` : value;
}

/** The inverse of defuseCell, for every cell of an ingested CSV. */
export function restoreCell(value: string): string {
  return DEFUSED.test(value) ? value.slice(1) : value;
}
