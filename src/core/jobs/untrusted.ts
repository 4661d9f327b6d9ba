/**
 * Reading Graph's job and audit JSON, which comes from outside: every value is checked for its
 * type, strings are capped and made well-formed (a lone surrogate would fail a Table Storage
 * write), and a wrong type reads as empty. Pure.
 */
export const text = (v: unknown, max: number): string => (typeof v === "string" ? v.slice(0, max).toWellFormed() : "");

/** A string, or a number or boolean written as text. */
export const scalar = (v: unknown, max: number): string => (typeof v === "number" || typeof v === "boolean" ? String(v) : text(v, max));

export const record = (v: unknown): Record<string, unknown> => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** A whole count: a finite number, or digits as text; anything else is 0. */
export const count = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : 0);
