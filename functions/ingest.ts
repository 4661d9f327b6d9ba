import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getServices } from "../src/composition";
import { ingestPayload } from "../src/app/ingest";
import { PayloadError, type PayloadFile } from "../src/core/ingest/payload";

/**
 * POST /api/ingest (function key): any supported format in the body, detected from the content
 * type or the content; the three CSV files as multipart/form-data, or one per call.
 * Answers {"accepted", "duplicates", "ignored", "rejected": [{"index", "reason"}], "warnings"}.
 */
export async function ingest(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const contentType = request.headers.get("content-type") ?? "";
  const files: PayloadFile[] = [];
  try {
    if (contentType.toLowerCase().startsWith("multipart/form-data")) {
      const form = await request.formData();
      for (const [name, value] of form.entries()) {
        if (typeof value === "string") files.push({ name, text: value });
        else files.push({ name: value.name || name, contentType: value.type, text: await value.text() });
      }
    } else {
      files.push({ contentType, text: await request.text() });
    }
    const { events: _events, ...report } = await ingestPayload(files, "http", getServices().ingest);
    context.log(`ingest: ${report.accepted} accepted, ${report.duplicates} duplicates, ${report.rejected.length} rejected`);
    return { status: 200, jsonBody: report };
  } catch (err) {
    if (err instanceof PayloadError) return { status: 400, jsonBody: { error: err.message } };
    if (err instanceof TypeError && /form/i.test(err.message)) return { status: 400, jsonBody: { error: `multipart body could not be read: ${err.message}` } };
    throw err;
  }
}

app.http("ingest", { route: "ingest", methods: ["POST"], authLevel: "function", handler: ingest });
