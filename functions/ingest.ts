import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getServices } from "../src/composition";
import { ingestPayload } from "../src/app/ingest";
import { PayloadError, type PayloadFile } from "../src/core/ingest/payload";
import { mebibytes, readCappedBody } from "../src/adapters/http/body";
import { isStorageUnavailable } from "../src/adapters/tables/reads";

/**
 * POST /api/ingest (function key): any supported format in the body, detected from the content
 * type or the content; the three CSV files as multipart/form-data, or one per call. Bodies over
 * PROVBOT_INGEST_MAX_BYTES get 413 before they are read; `provbot ingest` streams larger files.
 * Answers {"accepted", "duplicates", "ignored", "rejected": [{"index", "reason"}], "rejectedCount",
 * "deadLetterIds", "warnings"}. Storage unreachable: 503 with Retry-After, and the same request can
 * be sent again as it is (what was stored is recognised, nothing is counted twice).
 */
export async function ingest(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const services = getServices();
  const max = services.config.limits.ingestMaxBytes;
  const contentType = request.headers.get("content-type") ?? "";
  const body = await readCappedBody(request, max);
  if (body.kind === "tooLarge") {
    const size = body.declared !== null ? `is ${mebibytes(body.declared)}` : `is over ${mebibytes(max)}`;
    return {
      status: 413,
      jsonBody: {
        error: `the body ${size}; POST /api/ingest takes at most ${mebibytes(max)} (PROVBOT_INGEST_MAX_BYTES). Split the file, or run \`npx provbot ingest <file>\`, which streams files of any size in batches.`,
        maxBytes: max,
      },
    };
  }
  const files: PayloadFile[] = [];
  try {
    if (contentType.toLowerCase().startsWith("multipart/form-data")) {
      const form = await new Response(body.bytes, { headers: { "content-type": contentType } }).formData();
      for (const [name, value] of form.entries()) {
        if (typeof value === "string") files.push({ name, text: value });
        else files.push({ name: value.name || name, contentType: value.type, text: await value.text() });
      }
    } else {
      files.push({ contentType, text: new TextDecoder("utf-8").decode(body.bytes) });
    }
    const started = Date.now();
    const report = await services.invocation(context, () => ingestPayload(files, "http", services.ingest));
    services.log(context, { event: "ingest.call", source: "http", accepted: report.accepted, duplicates: report.duplicates, rejected: report.rejectedCount, ms: Date.now() - started });
    return { status: 200, jsonBody: report };
  } catch (err) {
    if (isStorageUnavailable(err)) {
      services.log(context, { event: "ingest.storage.unavailable", source: "http", error: err instanceof Error ? err.message.split("\n")[0]!.slice(0, 200) : String(err) });
      return { status: 503, headers: { "retry-after": "10" }, jsonBody: { error: "Table Storage is not reachable; nothing was half-stored. Send the same request again (events already stored are recognised, not stored twice).", retryAfterSeconds: 10 } };
    }
    if (err instanceof PayloadError) return { status: 400, jsonBody: { error: err.message } };
    if (err instanceof TypeError && /form/i.test(err.message)) return { status: 400, jsonBody: { error: `multipart body could not be read: ${err.message}` } };
    throw err;
  }
}

app.http("ingest", { route: "ingest", methods: ["POST"], authLevel: "function", handler: ingest });
