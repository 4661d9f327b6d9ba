/**
 * What shared conversations (channels and group chats) may see. Everyone there sees a card, whatever
 * their roles: display names, counts, actions, statuses, error codes and steps are shown; UPNs and
 * other email-like identifiers, object ids, modified property values and raw error reasons are
 * shown only in a personal chat. Pure.
 */
export type Audience = "personal" | "shared";

export const SHARED_NOTE = "UPNs, object ids, property values and the error's raw reason are left out in shared conversations: ask in a personal chat with provbot (paste the change ID) to see them.";

const EMAIL = /[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const GUID = /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g;
const HIDDEN = "(hidden here)";

/** A text with its email-like identifiers (UPNs) replaced. */
export function scrubIdentifiers(text: string): string {
  return text.replace(EMAIL, HIDDEN);
}

/** A text with UPNs and object ids replaced (for texts that never need an id, such as step descriptions). */
export function scrubIds(text: string): string {
  return scrubIdentifiers(text).replace(GUID, HIDDEN);
}

/**
 * A card's view-model for a shared conversation: every display string has its UPNs replaced.
 * Button payloads (`data`) are left alone (they carry the keys to open an event), so the builders
 * must not put UPNs there for a shared audience.
 */
export function forShared<T>(viewModel: T): T {
  const walk = (v: unknown, key: string): unknown => {
    if (key === "data") return v;
    if (typeof v === "string") return scrubIdentifiers(v);
    if (Array.isArray(v)) return v.map((x) => walk(x, ""));
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return walk(viewModel, "") as T;
}
