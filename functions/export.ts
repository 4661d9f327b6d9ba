import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getServices } from "../src/composition";
import { exportCsvZip, exportJson, exportRequest } from "../src/app/export";
import { openTabStore } from "../src/app/tabGate";
import "./runtime";

/**
 * GET /api/export?format=json|csv&from&to&app&job&status&action&identityType&errorCode&cycleId
 * (the tab's Teams SSO token, checked as the bot checks who may ask; open on the unauthenticated
 * local host): the events a list shows, as the admin center's downloads: a JSON array of
 * provisioning records, or a zip of its three CSV files. Both ingest back through POST /api/ingest
 * and the CLI as duplicates of what is stored. The body is written as the store is read.
 */
export async function exportEvents(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const services = getServices();
  const gate = await openTabStore(services.tabGate, request.headers.get("authorization"));
  if (!gate.ok) return { status: gate.status, jsonBody: { error: gate.error } };
  const store = gate.store;
  const req = await exportRequest(Object.fromEntries(request.query.entries()), store, new Date());
  if (!req.ok) return { status: req.status, jsonBody: { error: req.error } };
  services.log(context, { event: "export", format: req.format, jobs: req.query.jobKeys.length, from: req.query.from, to: req.query.to });
  const read = () => store.exportEvents(req.query);
  return {
    status: 200,
    headers: {
      "content-type": req.format === "json" ? "application/json; charset=utf-8" : "application/zip",
      "content-disposition": `attachment; filename="${req.fileName}"`,
      "cache-control": "no-store",
    },
    body: req.format === "json" ? exportJson(read()) : exportCsvZip(read),
  };
}

app.http("export", { route: "export", methods: ["GET"], authLevel: "anonymous", handler: exportEvents });
