import { field, isObject } from "./fields";
import type { PayloadItem } from "./payload";

/**
 * Event Hub messages as the Functions trigger hands them over: parsed JSON objects, JSON text
 * or bytes, each normally {"records": [...]}. Flattened into indexed items; unreadable messages
 * become items with an error, so they are reported and dead-lettered, never dropped.
 */
export function eventHubItems(messages: unknown[]): PayloadItem[] {
  const items: PayloadItem[] = [];
  for (const message of messages) {
    let value: unknown = message;
    if (value instanceof Uint8Array) value = Buffer.from(value).toString("utf8");
    if (typeof value === "string") {
      const text = value;
      try {
        value = JSON.parse(text);
      } catch {
        items.push({ index: items.length, error: "Event Hub message is not JSON", raw: text.slice(0, 2000) });
        continue;
      }
    }
    const records = isObject(value) ? field(value, "records") : undefined;
    if (Array.isArray(records)) for (const record of records) items.push({ index: items.length, record });
    else if (Array.isArray(value)) for (const record of value) items.push({ index: items.length, record });
    else items.push({ index: items.length, record: value });
  }
  return items;
}
