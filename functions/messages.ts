import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getServices } from "../src/composition";

/** POST /api/messages: the Bot Framework endpoint Teams (or the Agents Playground) calls. */
export async function messages(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return { status: 400, jsonBody: { error: "body must be a JSON Bot Framework activity" } };
  }
  const headers = Object.fromEntries(request.headers.entries());
  const services = getServices();
  const result = await services.invocation(context, () => services.bot({ method: request.method, headers, body }));
  if (result.status >= 500) context.error(`bot endpoint answered ${result.status}`);
  return result.body === undefined
    ? { status: result.status, headers: result.headers }
    : { status: result.status, headers: result.headers, jsonBody: result.body };
}

app.http("messages", { route: "messages", methods: ["POST"], authLevel: "anonymous", handler: messages });
