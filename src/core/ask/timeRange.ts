import { DateTime } from "luxon";
import * as chrono from "chrono-node";

/**
 * Time phrases in questions ("today", "yesterday", "last 24 hours", "7 days", "this week",
 * "since Monday", "on 2026-11-20", "from 2026-11-01 to 2026-11-05", "Nov 20") become an explicit
 * UTC range. `now` is passed in: the core never reads the clock.
 */
export interface TimeRange {
  from: string;
  to: string;
  label: string;
}

export interface TimeMatch {
  range: TimeRange;
  /** The question with the time phrase removed. */
  rest: string;
}

const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const MONTHS = "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?";
const iso = (d: DateTime) => d.toUTC().toISO({ suppressMilliseconds: false })!.replace("+00:00", "Z");

function parseDay(text: string, now: DateTime): DateTime | null {
  const t = text.trim();
  let d = DateTime.fromISO(t, { zone: "utc" });
  if (d.isValid) return d.startOf("day");
  for (const f of ["d MMM yyyy", "d MMMM yyyy", "MMM d yyyy", "MMMM d yyyy", "MMM d, yyyy", "MMMM d, yyyy", "M/d/yyyy"]) {
    d = DateTime.fromFormat(t, f, { zone: "utc", locale: "en-US" });
    if (d.isValid) return d.startOf("day");
  }
  for (const f of ["d MMM", "d MMMM", "MMM d", "MMMM d"]) {
    d = DateTime.fromFormat(t, f, { zone: "utc", locale: "en-US" });
    if (d.isValid) {
      const withYear = d.set({ year: now.year });
      return (withYear > now ? withYear.minus({ years: 1 }) : withYear).startOf("day");
    }
  }
  return null;
}

const DAY_RE = `(\\d{4}-\\d{2}-\\d{2}|\\d{1,2}/\\d{1,2}/\\d{4}|(?:\\d{1,2}\\s+(?:${MONTHS})|(?:${MONTHS})\\s+\\d{1,2})(?:,?\\s+\\d{4})?)`;

interface Rule {
  re: RegExp;
  range: (m: RegExpExecArray, now: DateTime) => TimeRange | null;
}

const unitMs: Record<string, string> = { minute: "minutes", min: "minutes", hour: "hours", hr: "hours", h: "hours", day: "days", d: "days", week: "weeks", w: "weeks", month: "months" };

const RULES: Rule[] = [
  {
    re: new RegExp(`\\b(?:from|between)\\s+${DAY_RE}\\s+(?:to|and|until|-)\\s+${DAY_RE}`, "i"),
    range: (m, now) => {
      const a = parseDay(m[1]!, now);
      const b = parseDay(m[2]!, now);
      if (!a || !b) return null;
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      return { from: iso(lo), to: iso(hi.plus({ days: 1 })), label: `${lo.toISODate()} to ${hi.toISODate()}` };
    },
  },
  {
    re: /\b(?:in\s+|over\s+|during\s+|for\s+)?(?:the\s+)?(?:last|past|previous)\s+(\d+)\s*(minutes?|mins?|hours?|hrs?|h|days?|d|weeks?|w|months?)\b/i,
    range: (m, now) => {
      const n = Number(m[1]);
      const unit = unitMs[m[2]!.toLowerCase().replace(/s$/, "")] ?? "days";
      return { from: iso(now.minus({ [unit]: n })), to: iso(now), label: `last ${n} ${unit.replace(/s$/, n === 1 ? "" : "s")}` };
    },
  },
  {
    re: /\b(?:in\s+|over\s+|for\s+)?(?:the\s+)?(?:last|past)\s+(hour|day|week|month)\b/i,
    range: (m, now) => {
      const unit = `${m[1]!.toLowerCase()}s`;
      return { from: iso(now.minus({ [unit]: 1 })), to: iso(now), label: `last ${m[1]!.toLowerCase()}` };
    },
  },
  {
    re: /\b(?:in\s+)?(\d+)\s*(hours?|days?|weeks?)\b/i,
    range: (m, now) => {
      const n = Number(m[1]);
      const unit = `${m[2]!.toLowerCase().replace(/s$/, "")}s`;
      return { from: iso(now.minus({ [unit]: n })), to: iso(now), label: `last ${n} ${unit.replace(/s$/, n === 1 ? "" : "s")}` };
    },
  },
  { re: /\btoday\b/i, range: (_m, now) => ({ from: iso(now.startOf("day")), to: iso(now), label: "today" }) },
  { re: /\byesterday\b/i, range: (_m, now) => ({ from: iso(now.startOf("day").minus({ days: 1 })), to: iso(now.startOf("day")), label: "yesterday" }) },
  { re: /\bthis\s+week\b/i, range: (_m, now) => ({ from: iso(now.startOf("week")), to: iso(now), label: "this week" }) },
  { re: /\bthis\s+month\b/i, range: (_m, now) => ({ from: iso(now.startOf("month")), to: iso(now), label: "this month" }) },
  {
    re: new RegExp(`\\bsince\\s+(?:last\\s+)?(${WEEKDAYS.join("|")})\\b`, "i"),
    range: (m, now) => {
      const target = WEEKDAYS.indexOf(m[1]!.toLowerCase()) + 1;
      let d = now.startOf("day");
      while (d.weekday !== target) d = d.minus({ days: 1 });
      return { from: iso(d), to: iso(now), label: `since ${m[1]![0]!.toUpperCase()}${m[1]!.slice(1).toLowerCase()}` };
    },
  },
  {
    re: new RegExp(`\\bsince\\s+${DAY_RE}`, "i"),
    range: (m, now) => {
      const d = parseDay(m[1]!, now);
      return d ? { from: iso(d), to: iso(now), label: `since ${d.toISODate()}` } : null;
    },
  },
  {
    re: new RegExp(`\\b(?:on\\s+)?${DAY_RE}`, "i"),
    range: (m, now) => {
      const d = parseDay(m[1]!, now);
      return d ? { from: iso(d), to: iso(d.plus({ days: 1 })), label: d.toISODate()! } : null;
    },
  },
];

/** A time of day in the question ("9am", "14:00", "9:30 pm"): read with chrono-node, in UTC. */
const TIME_OF_DAY = /\b\d{1,2}(?::\d{2})?\s*(?:am|pm)\b|\b\d{1,2}:\d{2}\b/i;
const minute = (d: DateTime) => d.toFormat("ccc d LLL HH:mm");

/**
 * "since yesterday 9am", "after 14:00", "between 9am and 11am yesterday", "before 10am", "at
 * 14:00": ranges that start or end within a day, read by chrono-node (a kept date-phrase library)
 * with now as its reference, in UTC. Half-open like every range.
 */
function timeOfDay(text: string, now: DateTime): TimeMatch | null {
  if (!TIME_OF_DAY.test(text)) return null;
  const results = chrono.parse(text, { instant: now.toJSDate(), timezone: "UTC" }, { forwardDate: false }).filter((r) => r.start.isCertain("hour"));
  if (results.length === 0) return null;
  const at = (r: chrono.ParsedResult, dayFrom?: chrono.ParsedResult) => {
    let d = DateTime.fromJSDate(r.start.date(), { zone: "utc" });
    if (dayFrom && !r.start.isCertain("day") && dayFrom.start.isCertain("day")) {
      const other = DateTime.fromJSDate(dayFrom.start.date(), { zone: "utc" });
      d = d.set({ year: other.year, month: other.month, day: other.day });
    }
    return d;
  };
  const first = results[0]!;
  const second = results[1];
  const before = text.slice(0, first.index);
  const lead = /\b(since|after|from|between|before|until|till|by|at|around)\s*$/i.exec(before);
  // chrono-node keeps some prepositions in what it matched ("at 14:00 today").
  const inner = /^(since|after|from|between|before|until|till|by|at|around)\b/i.exec(first.text);
  const word = (lead?.[1] ?? inner?.[1] ?? "").toLowerCase();
  const cutFrom = lead ? first.index - lead[0].length : first.index;
  let cutTo = first.index + first.text.length;
  let range: TimeRange;
  if (first.end && first.end.isCertain("hour")) {
    // One phrase with both ends ("08:00 to 10:30").
    const a = at(first);
    const b = DateTime.fromJSDate(first.end.date(), { zone: "utc" });
    const [lo, hi] = a <= b ? [a, b] : [b, a];
    range = { from: iso(lo), to: iso(hi), label: `${minute(lo)} to ${minute(hi)}` };
  } else if ((word === "between" || word === "from") && second && /^\s*(?:and|to|until|till|-)\s*$/i.test(text.slice(cutTo, second.index))) {
    const a = at(first, second);
    const b = at(second, first);
    const [lo, hi] = a <= b ? [a, b] : [b, a];
    cutTo = second.index + second.text.length;
    range = { from: iso(lo), to: iso(hi), label: `${minute(lo)} to ${minute(hi)}` };
  } else {
    const t = at(first);
    if (word === "before" || word === "until" || word === "till" || word === "by") range = { from: iso(t.startOf("day")), to: iso(t), label: `before ${minute(t)}` };
    else if (word === "at" || word === "around") range = { from: iso(t), to: iso(t.plus({ hours: 1 })), label: `${minute(t)} to ${t.plus({ hours: 1 }).toFormat("HH:mm")}` };
    else {
      if (t > now) return null;
      range = { from: iso(t), to: iso(now), label: `since ${minute(t)}` };
    }
  }
  const rest = (text.slice(0, cutFrom) + " " + text.slice(cutTo)).replace(/\s+/g, " ").trim();
  return { range, rest };
}

export function extractTimeRange(text: string, nowIso: string): TimeMatch | null {
  const now = DateTime.fromISO(nowIso, { zone: "utc" });
  const within = timeOfDay(text, now);
  if (within) return within;
  for (const rule of RULES) {
    const m = rule.re.exec(text);
    if (!m) continue;
    const range = rule.range(m, now);
    if (!range) continue;
    const rest = (text.slice(0, m.index) + text.slice(m.index + m[0].length)).replace(/\s+/g, " ").trim();
    return { range, rest };
  }
  return null;
}

export function lastDays(nowIso: string, days: number): TimeRange {
  const now = DateTime.fromISO(nowIso, { zone: "utc" });
  return { from: iso(now.minus({ days })), to: iso(now), label: `last ${days} days` };
}

const spanTime = (d: DateTime) => d.toUTC().toFormat("ccc d LLL HH:mm");

/**
 * The exact range a card covers, in UTC: "this week (Mon 30 Nov 00:00 – now, UTC)". `now` is the
 * time of the answer; a range that ends then reads "now".
 */
export function rangeText(range: TimeRange, nowIso: string): string {
  const from = DateTime.fromISO(range.from, { zone: "utc" });
  const to = DateTime.fromISO(range.to, { zone: "utc" });
  const end = Math.abs(to.toMillis() - Date.parse(nowIso)) < 60_000 ? "now" : spanTime(to);
  return `${range.label} (${spanTime(from)} – ${end} UTC)`;
}
