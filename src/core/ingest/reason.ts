import { parseUtc } from "./time";

/**
 * `reason` is multi-line free text: "StatusCode: Conflict", "Message: ...", "Web Response: {json}",
 * and a retry tail "This operation was retried 1 times. It will be retried again after this
 * date: 2026-03-24T13:23:44.9198514Z UTC". Mined with tolerant patterns; absent parts are null.
 */
export interface ReasonFacts {
  httpStatus: string | null;
  retryCount: number | null;
  nextRetryAt: string | null;
}

const HTTP_STATUS_NAMES: Record<string, string> = {
  "400": "BadRequest",
  "401": "Unauthorized",
  "403": "Forbidden",
  "404": "NotFound",
  "409": "Conflict",
  "412": "PreconditionFailed",
  "422": "UnprocessableEntity",
  "429": "TooManyRequests",
  "500": "InternalServerError",
  "502": "BadGateway",
  "503": "ServiceUnavailable",
  "504": "GatewayTimeout",
};

export function mineReason(reason: string | null | undefined): ReasonFacts {
  const text = reason ?? "";
  const status = /StatusCode:\s*([A-Za-z]+|\d{3})/i.exec(text) ?? /\bHTTP(?:\s+status)?(?:\s+code)?\s*[:=]?\s*(\d{3})\b/i.exec(text);
  let httpStatus: string | null = status?.[1] ?? null;
  if (httpStatus && /^\d{3}$/.test(httpStatus)) httpStatus = HTTP_STATUS_NAMES[httpStatus] ?? httpStatus;
  const retried = /retried\s+(\d+)\s+times?/i.exec(text);
  const after = /retried again after this date:\s*(.+?)\s*UTC\b/i.exec(text) ?? /after this date:\s*(\S+)/i.exec(text);
  return {
    httpStatus,
    retryCount: retried ? Number(retried[1]) : null,
    nextRetryAt: after?.[1] ? parseUtc(after[1]) : null,
  };
}
