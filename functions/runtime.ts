import { app } from "@azure/functions";

/**
 * Worker-wide options, loaded with the function files (package.json "main"): HTTP streaming, so a
 * download is written to the client as it is read from storage (functions/export.ts) instead of
 * being buffered whole by the worker. Needs Functions host 4.28 or later (Flex Consumption runs a
 * current host) and @azure/functions 4.3 or later.
 */
app.setup({ enableHttpStream: true });
