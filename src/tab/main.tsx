import { StrictMode, useCallback, useEffect, useMemo, useState } from "react";
import { createRoot } from "react-dom/client";
import {
  Badge,
  Button,
  Card,
  Dialog,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  FluentProvider,
  Input,
  Link,
  Menu,
  MenuItemCheckbox,
  MenuList,
  MenuPopover,
  MenuTrigger,
  MessageBar,
  MessageBarBody,
  Select,
  Spinner,
  Tab,
  TabList,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  Title3,
  teamsDarkTheme,
  teamsHighContrastTheme,
  teamsLightTheme,
  tokens,
} from "@fluentui/react-components";
import { presetRange, DEFAULT_DAYS } from "./first";
import { displayText } from "../core/displayText";
import { adopt, download, get, prefetch, useToken, type Cycles, type EventDetail, type EventsPage, type Filters, type Overview, type Row } from "./api";
import { connect, type Host, type ThemeName } from "./teams";
import { StackedBars } from "./charts";

/**
 * provbot's Teams tab: provisioning health at a glance (overview, events with the portal's
 * filters, event detail, cycles, one person across apps) and downloads. Data comes from
 * /api/dashboard/<view>; every view reads only the range and filters chosen.
 */
type View = "overview" | "events" | "cycles";
const THEMES = { default: teamsLightTheme, dark: teamsDarkTheme, contrast: teamsHighContrastTheme };
const PRESETS: Record<string, number> = { "24h": 1, "7d": 7, "30d": 30 };
/** The portal's Date filter also offers one month: a calendar month back from now. */
const ONE_MONTH = "1m";
const COLUMNS_KEY = "provbot.tab.columns";

/** The columns chosen last time (kept in this browser, as the portal keeps its own). */
function savedColumns(): Column[] {
  try {
    const saved = JSON.parse(localStorage.getItem(COLUMNS_KEY) ?? "null") as unknown;
    if (Array.isArray(saved)) {
      const known = COLUMNS.filter((c) => saved.includes(c));
      if (known.length > 0) return known;
    }
  } catch {
    // storage unavailable or unreadable: the defaults
  }
  return DEFAULT_COLUMNS;
}

/** Labels of the active filters, in the order the admin reads them. */
const FILTER_LABELS: Record<string, string> = { app: "App", status: "Status", action: "Action", identity: "Identity", changeId: "Change ID", job: "Job ID", cycleId: "Cycle ID", errorCode: "Error code", sourceSystem: "Source system", targetSystem: "Target system" };

/** Every filter in force, visible and removable: what the page's numbers are about. */
function ActiveFilters(props: { filters: Filters; remove: (keys: string[]) => void; view: string }) {
  const chips: { keys: string[]; text: string }[] = [];
  if (props.filters["from"] || props.filters["to"]) chips.push({ keys: ["from", "to"], text: `Time: ${props.filters["from"] ? when(props.filters["from"]) : "…"} → ${props.filters["to"] ? when(props.filters["to"]) : "…"} (instead of the range above)` });
  // The overview and the cycles are about time and app; the other filters narrow the Events list.
  const eventsOnly = props.view !== "events";
  for (const [k, label] of Object.entries(FILTER_LABELS)) if (props.filters[k]) chips.push({ keys: [k], text: `${label}: ${props.filters[k]}${eventsOnly && k !== "app" ? " (Events list)" : ""}` });
  if (chips.length === 0) return null;
  return (
    <div style={{ display: "flex", gap: 6, flexWrap: "wrap", alignItems: "center" }} data-testid="active-filters">
      <Text size={200}>Filtered by</Text>
      {chips.map((c) => (
        <Button key={c.keys.join("+")} size="small" appearance="outline" onClick={() => props.remove(c.keys)} title={`Remove: ${c.text}`} aria-label={`Remove filter ${c.text}`} data-testid="filter-chip" style={{ maxWidth: "100%", whiteSpace: "normal", textAlign: "start", overflowWrap: "anywhere" }}>
          {c.text} ✕
        </Button>
      ))}
    </div>
  );
}
const ACTIONS = ["create", "update", "disable", "delete", "stagedDelete", "other"];
const STATUSES = ["success", "failure", "skipped", "warning"];
const COLUMNS = ["Date (UTC)", "Identity", "Type", "App", "Action", "Status", "Error code", "Change ID", "Cycle ID"] as const;
type Column = (typeof COLUMNS)[number];
const DEFAULT_COLUMNS: Column[] = ["Date (UTC)", "Identity", "App", "Action", "Status", "Error code"];
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const when = (iso: string) => iso.replace("T", " ").slice(0, 16);

interface Range {
  preset: string;
  from: string;
  to: string;
}

function rangeOf(r: Range): { from: string; to: string } {
  if (r.preset === "custom") return { from: r.from ? new Date(r.from + "Z").toISOString() : "", to: r.to ? new Date(r.to + "Z").toISOString() : "" };
  if (r.preset === ONE_MONTH) {
    const week = presetRange(7, Date.now());
    const from = new Date(week.to);
    from.setUTCMonth(from.getUTCMonth() - 1);
    return { from: from.toISOString(), to: week.to };
  }
  // To the next whole minute (first.ts): boot.ts can ask for the first overview before the page is drawn.
  return presetRange(PRESETS[r.preset] ?? DEFAULT_DAYS, Date.now());
}

function useData<T>(load: () => Promise<T>, deps: unknown[]): { data: T | null; error: string | null; loading: boolean } {
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean }>({ data: null, error: null, loading: true });
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (err: unknown) => live && setState({ data: null, error: err instanceof Error ? err.message : String(err), loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return state;
}

/** A table's header row. */
function Head(props: { cells: readonly string[] }) {
  return (
    <TableHeader>
      <TableRow>
        {props.cells.map((h) => (
          <TableHeaderCell key={h}>{h}</TableHeaderCell>
        ))}
      </TableRow>
    </TableHeader>
  );
}

function Problem(props: { text: string }) {
  return (
    <MessageBar intent="error" data-testid="problem">
      <MessageBarBody>{props.text}</MessageBarBody>
    </MessageBar>
  );
}

function Tile(props: { id: string; label: string; value: string; onClick?: () => void }) {
  return (
    <Card data-testid={`tile-${props.id}`} onClick={props.onClick} style={{ minWidth: 140, cursor: props.onClick ? "pointer" : "default" }} aria-label={`${props.label}: ${props.value}`}>
      <Text size={200}>{props.label}</Text>
      <Text size={600} weight="semibold">
        {props.value}
      </Text>
    </Card>
  );
}

function OverviewView(props: { filters: Filters; open: (f: Filters) => void; foreground: string; onApps: (apps: string[]) => void }) {
  const { data, error, loading } = useData(() => get<Overview>("overview", props.filters), [JSON.stringify(props.filters)]);
  // Objects touched reads every event of the range: loaded after the rest, so it never holds up the page.
  const ready = data !== null && !loading;
  const touched = useData(() => (ready ? get<{ objects: number | null; limit: number }>("objects", props.filters) : new Promise<never>(() => undefined)), [JSON.stringify(props.filters), ready]);
  useEffect(() => {
    if (data) props.onApps(data.apps.map((a) => a.app));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [data]);
  const labels = useMemo(() => (data ? data.series.map((s) => (data.bucket === "hour" ? s.at.slice(5, 13).replace("T", " ") + "h" : s.at)) : []), [data]);
  const byAction = useMemo(() => (data ? ACTIONS.map((a) => ({ key: a, label: a, values: data.series.map((s) => s.byAction[a] ?? 0) })) : []), [data]);
  const byStatus = useMemo(() => (data ? STATUSES.map((a) => ({ key: a, label: a, values: data.series.map((s) => s.byStatus[a] ?? 0) })) : []), [data]);
  if (error) return <Problem text={error} />;
  if (!data) return <Spinner label="Loading the overview" />;
  const bucketRange = (i: number) => {
    const at = data.series[i]!.at;
    const start = at.includes("T") ? Date.parse(at) : Date.parse(`${at}T00:00:00Z`);
    return { from: new Date(start).toISOString(), to: new Date(start + (data.bucket === "hour" ? 3_600_000 : 86_400_000)).toISOString() };
  };
  return (
    <div style={{ display: "grid", gap: 16, opacity: loading ? 0.6 : 1 }} data-testid="overview" data-loaded={loading ? "no" : "yes"}>
      <div style={{ display: "flex", gap: 12, flexWrap: "wrap" }}>
        <Tile id="events" label="Events" value={data.tiles.events.toLocaleString()} onClick={() => props.open({})} />
        <Tile id="failures" label="Failures" value={data.tiles.failures.toLocaleString()} onClick={() => props.open({ status: "failure" })} />
        <Tile id="failure-rate" label="Failure rate" value={pct(data.tiles.failureRate)} onClick={() => props.open({ status: "failure" })} />
        <Tile id="success-rate" label="Success rate (not skipped)" value={pct(data.tiles.successRate)} onClick={() => props.open({ status: "success" })} />
        <Tile id="skipped" label="Skipped share" value={pct(data.tiles.skippedShare)} onClick={() => props.open({ status: "skipped" })} />
        <Tile id="removals" label="Disables and deletes" value={data.tiles.removals.toLocaleString()} onClick={() => props.open({ action: "disable,delete,stagedDelete" })} />
        <Tile id="objects" label="Objects touched" value={touched.data ? (touched.data.objects === null ? `over ${touched.data.limit.toLocaleString()} events: not counted` : touched.data.objects.toLocaleString()) : touched.error ? "—" : "…"} />
      </div>
      <div style={{ display: "grid", gridTemplateColumns: "repeat(auto-fit, minmax(min(360px, 100%), 1fr))", gap: 16 }}>
        <div>
          <Text weight="semibold">Events by action</Text>
          <StackedBars id="chart-actions" title="Events over time by action" labels={labels} series={byAction} foreground={props.foreground} onPick={(i, key) => props.open({ ...bucketRange(i), action: key })} />
        </div>
        <div>
          <Text weight="semibold">Events by status</Text>
          <StackedBars id="chart-statuses" title="Events over time by status" labels={labels} series={byStatus} foreground={props.foreground} onPick={(i, key) => props.open({ ...bucketRange(i), status: key })} />
        </div>
      </div>
      <div>
        <Text weight="semibold">Apps, worst first</Text>
        <div className="scroll-x">
        <Table size="small" aria-label="Apps" data-testid="apps">
          <Head cells={["App", "Job status", "Last cycle", "Events", "Failure rate", "Trend", "Skipped share", ""]} />
          <TableBody>
            {data.apps.map((a) => (
              <TableRow key={a.jobKey}>
                <TableCell title={a.app}>
                  <Link onClick={() => props.open({ app: a.app })}>{a.app}</Link>
                </TableCell>
                <TableCell>
                  {a.status ? <Badge appearance="tint" color={/quarantine|unhealthy/i.test(a.status) ? "danger" : /paused|never|initial|not configured/i.test(a.status) ? "warning" : "success"}>{a.status}</Badge> : <Text size={200}>not read</Text>}
                  {a.quarantine ? <Text size={200} block>{a.quarantine}</Text> : null}
                </TableCell>
                <TableCell>
                  <Text size={200}>{a.lastCycle ?? (a.lastEventAt ? `last event ${when(a.lastEventAt)}` : "—")}</Text>
                </TableCell>
                <TableCell>{a.events.toLocaleString()}</TableCell>
                <TableCell>{pct(a.failureRate)}</TableCell>
                <TableCell data-testid="trend" title={a.trend ? `failure rate ${pct(a.trend.later)} against ${pct(a.trend.earlier)} in the ${a.trend.basis}` : "too few events to compare"}>
                  {a.trend === null ? "—" : a.trend.later > a.trend.earlier + 0.01 ? "▲ worse" : a.trend.later < a.trend.earlier - 0.01 ? "▼ better" : "= steady"}
                </TableCell>
                <TableCell>{pct(a.skippedShare)}</TableCell>
                <TableCell>{a.portalUrl ? <Link href={a.portalUrl} target="_blank" rel="noreferrer">Provisioning page</Link> : null}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
        </div>
      </div>
      <div>
        <Text weight="semibold">Top error codes</Text>
        <div className="scroll-x">
        <Table size="small" aria-label="Top error codes" data-testid="errors">
          <Head cells={["Error code", "Count", "Last seen (UTC)", "Apps", "What to do"]} />
          <TableBody>
            {data.topErrors.map((e) => (
              <TableRow key={e.code}>
                <TableCell title={e.code}>
                  <Link onClick={() => props.open({ status: "failure", errorCode: e.code })}>{e.code}</Link>
                </TableCell>
                <TableCell>{e.count}</TableCell>
                <TableCell>{when(e.lastSeen)}</TableCell>
                <TableCell>{e.apps.join(", ")}</TableCell>
                <TableCell>
                  <Text size={200}>{e.fix}</Text>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
        </div>
      </div>
    </div>
  );
}

function cell(r: Row, c: Column): string {
  switch (c) {
    case "Date (UTC)":
      return when(r.at);
    case "Identity":
      return r.name || r.identity;
    case "Type":
      return r.identityType;
    case "App":
      return r.app;
    case "Action":
      return r.action;
    case "Status":
      return r.status;
    case "Error code":
      return r.errorCode;
    case "Change ID":
      return displayText(r.changeId);
    case "Cycle ID":
      return displayText(r.cycleId);
  }
}

function Detail(props: { row: Row; close: () => void }) {
  const { data, error } = useData(() => get<EventDetail>("event", props.row.changeId ? { changeId: props.row.changeId } : { pk: props.row.ref.pk, rk: props.row.ref.rk }), [props.row.changeId, props.row.ref.pk]);
  return (
    <Dialog open onOpenChange={(_, d) => !d.open && props.close()}>
      <DialogSurface style={{ maxWidth: "min(900px, calc(100vw - 16px))", boxSizing: "border-box", overflowWrap: "anywhere" }} data-testid="detail">
        <DialogBody>
          <DialogTitle action={<Button appearance="subtle" onClick={props.close} aria-label="Close">✕</Button>}>{props.row.name || props.row.identity} · {props.row.app}</DialogTitle>
          <DialogContent>
            {error ? <Problem text={error} /> : !data ? <Spinner /> : <DetailTabs data={data} />}
          </DialogContent>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}

type DetailTab = "steps" | "troubleshooting" | "modified" | "summary";

/** The portal's four tabs of an event: Steps, Troubleshooting & Recommendations, Modified Properties, Summary. */
function DetailTabs(props: { data: EventDetail }) {
  const data = props.data;
  const [tab, setTab] = useState<DetailTab>(data.troubleshooting || data.skip ? "troubleshooting" : "steps");
  return (
    <div style={{ display: "grid", gap: 12 }}>
      <TabList selectedValue={tab} onTabSelect={(_, d) => setTab(d.value as DetailTab)} size="small" data-testid="detail-tabs" style={{ flexWrap: "wrap" }}>
        <Tab value="steps">Steps</Tab>
        <Tab value="troubleshooting">Troubleshooting &amp; Recommendations</Tab>
        <Tab value="modified">Modified Properties</Tab>
        <Tab value="summary">Summary</Tab>
      </TabList>
      {tab === "steps" ? (
        <section data-testid="section-steps">
          <ol style={{ paddingInlineStart: 20, margin: 0, display: "grid", gap: 8 }}>
            {data.steps.map((s, i) => (
              <li key={i}>
                <Text weight={s.status === "failure" ? "bold" : "regular"}>{s.type} · {s.name} · {s.status}</Text>
                <Text block size={200}>{s.description}</Text>
                {Object.keys(s.details).length > 0 ? (
                  <div className="scroll-x">
                    <Table size="extra-small" aria-label={`Details of step ${i + 1}`} data-testid="step-details">
                      <TableBody>
                        {Object.entries(s.details).map(([k, v]) => (
                          <TableRow key={k}>
                            <TableCell style={{ width: "35%" }}>{k}</TableCell>
                            <TableCell>{v}</TableCell>
                          </TableRow>
                        ))}
                      </TableBody>
                    </Table>
                  </div>
                ) : null}
              </li>
            ))}
          </ol>
        </section>
      ) : null}
      {tab === "troubleshooting" ? (
        <section data-testid="section-troubleshooting">
          {data.troubleshooting ? (
            <div style={{ display: "grid", gap: 4 }}>
              <Text block weight="semibold">{data.troubleshooting.code}</Text>
              <Text block size={200}>{data.troubleshooting.reason}</Text>
              <Text block>Cause: {data.troubleshooting.cause}</Text>
              <Text block>What to do: {data.troubleshooting.fix}</Text>
              {data.troubleshooting.learnMore ? <Link href={data.troubleshooting.learnMore} target="_blank" rel="noreferrer" data-testid="learn-more">Learn more about {data.troubleshooting.code} (Microsoft)</Link> : null}
            </div>
          ) : data.skip ? (
            <Text block data-testid="skip-reason">Why it was skipped: {data.skip}</Text>
          ) : (
            <Text block>No error on this event: nothing to troubleshoot.</Text>
          )}
        </section>
      ) : null}
      {tab === "modified" ? (
        <section data-testid="section-modified">
          {data.modifiedProperties.length === 0 ? <Text block>No properties were modified.</Text> : (
            <div className="scroll-x">
              <Table size="extra-small" aria-label="Modified properties">
                <Head cells={["Property", "Old value", "New value"]} />
                <TableBody>
                  {data.modifiedProperties.map((m, i) => (
                    <TableRow key={i}>
                      <TableCell>{m.displayName}</TableCell>
                      <TableCell>{m.oldValue ?? ""}</TableCell>
                      <TableCell>{m.newValue ?? ""}</TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            </div>
          )}
        </section>
      ) : null}
      {tab === "summary" ? (
        <section data-testid="section-summary" style={{ display: "grid", gap: 4 }}>
          <Text block>{when(data.summary.at)} UTC · {data.summary.action} · {data.summary.status}</Text>
          <Text block size={200}>Source: {data.summary.source.displayName} ({data.summary.source.id}) in {data.summary.sourceSystem}</Text>
          <Text block size={200} data-testid="target-id">Target: {data.summary.target.displayName || "—"} ({data.summary.target.id || "no id yet"}) in {data.summary.targetSystem}</Text>
          <Text block size={200}>Duration: {data.summary.durationMs === null ? "—" : `${data.summary.durationMs.toLocaleString()} ms`} · Initiated by: {data.summary.initiatedBy || "—"}</Text>
          <Text block size={200}>Change ID {data.summary.changeId} · Cycle ID {data.summary.cycleId} · Job ID {data.summary.jobId}</Text>
          {data.portalUrl ? <Link href={data.portalUrl} target="_blank" rel="noreferrer">Open the app's provisioning page in the Entra admin center</Link> : null}
        </section>
      ) : null}
    </div>
  );
}

function EventsView(props: { filters: Filters; setFilter: (f: Filters) => void }) {
  const [page, setPage] = useState(1);
  const [columns, setColumnsState] = useState<Column[]>(savedColumns);
  const setColumns = (c: Column[]) => {
    setColumnsState(c);
    try {
      localStorage.setItem(COLUMNS_KEY, JSON.stringify(c));
    } catch {
      // not kept: the choice lasts for this visit
    }
  };
  const [open, setOpen] = useState<Row | null>(null);
  const [who, setWho] = useState(props.filters["identity"] ?? "");
  const [busy, setBusy] = useState<string | null>(null);
  const key = JSON.stringify(props.filters);
  useEffect(() => setPage(1), [key]);
  const { data, error, loading } = useData(() => get<EventsPage>("events", { ...props.filters, page: String(page) }), [key, page]);
  const save = async (format: "json" | "csv") => {
    setBusy(format);
    try {
      await download(format, props.filters);
    } finally {
      setBusy(null);
    }
  };
  return (
    <div style={{ display: "grid", gap: 12 }} data-testid="events" data-loaded={loading ? "no" : "yes"}>
      <div style={{ display: "flex", gap: 8, flexWrap: "wrap", alignItems: "end" }}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            props.setFilter({ identity: who.trim() });
          }}
        >
          <Input aria-label="Identity (name, UPN or id)" placeholder="Identity: name, UPN or id" value={who} onChange={(_, d) => setWho(d.value)} data-testid="identity" />
          <Button type="submit">Search</Button>
        </form>
        <Menu>
          <MenuTrigger disableButtonEnhancement>
            <Button>Columns</Button>
          </MenuTrigger>
          <MenuPopover>
            <MenuList checkedValues={{ columns }} onCheckedValueChange={(_, d) => setColumns(COLUMNS.filter((c) => d.checkedItems.includes(c)))}>
              {COLUMNS.map((c) => (
                <MenuItemCheckbox key={c} name="columns" value={c}>
                  {c}
                </MenuItemCheckbox>
              ))}
            </MenuList>
          </MenuPopover>
        </Menu>
        <Button onClick={() => void save("json")} disabled={busy !== null} data-testid="download-json">Download JSON</Button>
        <Button onClick={() => void save("csv")} disabled={busy !== null} data-testid="download-csv">Download CSV (zip)</Button>
      </div>
      {error ? <Problem text={error} /> : !data ? <Spinner label="Loading events" /> : (
        <>
          {data.person ? <Text>Every app, newest first: {data.person.name} ({data.person.identity})</Text> : null}
          {data.states && data.states.length > 0 ? (
            <div className="scroll-x">
            <Table size="extra-small" aria-label="Last known state per app" data-testid="states">
              <Head cells={["App", "Last known state", "When (UTC)"]} />
              <TableBody>
                {data.states.map((st) => (
                  <TableRow key={st.app}>
                    <TableCell>{st.app}</TableCell>
                    <TableCell>{st.action} · {st.status}{st.errorCode ? ` · ${st.errorCode}` : ""}</TableCell>
                    <TableCell>{when(st.at)}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
            </div>
          ) : null}
          {data.candidates && data.candidates.length > 0 ? (
            <div style={{ display: "flex", gap: 6, flexWrap: "wrap", alignItems: "center" }} data-testid="candidates">
              <Text>Several people match; pick one:</Text>
              {data.candidates.map((c) => (
                <Button key={c.identity} size="small" onClick={() => (setWho(c.identity), props.setFilter({ identity: c.identity }))} data-testid="candidate" title={c.identity} style={{ maxWidth: "100%", whiteSpace: "normal", overflowWrap: "anywhere" }}>
                  {c.name} ({c.identity})
                </Button>
              ))}
            </div>
          ) : null}
          <Text data-testid="total">{data.total.toLocaleString()} events{data.exact === false ? " (about)" : ""}</Text>
          <div className="scroll-x">
          <Table size="small" aria-label="Events" data-testid="events-table">
            <Head cells={columns} />
            <TableBody>
              {data.rows.map((r) => (
                <TableRow key={`${r.ref.pk}|${r.ref.rk}`} onClick={() => setOpen(r)} style={{ cursor: "pointer" }} data-testid="event-row" data-status={r.status} data-action={r.action} data-app={r.app} data-change={r.changeId}>
                  {columns.map((c) => (
                    <TableCell key={c} title={cell(r, c)}>{cell(r, c)}</TableCell>
                  ))}
                </TableRow>
              ))}
            </TableBody>
          </Table>
          </div>
          <div style={{ display: "flex", gap: 8 }}>
            <Button disabled={page <= 1} onClick={() => setPage(page - 1)}>Previous</Button>
            <Text>Page {page}</Text>
            <Button disabled={data.rows.length < 25} onClick={() => setPage(page + 1)}>Next</Button>
          </div>
        </>
      )}
      {open ? <Detail row={open} close={() => setOpen(null)} /> : null}
    </div>
  );
}

const CYCLES_PAGE = 25;

/** How long a cycle ran, from its first to its last event. */
function duration(first: string, last: string): string {
  const minutes = Math.round((Date.parse(last) - Date.parse(first)) / 60_000);
  return minutes < 1 ? "under a minute" : minutes < 120 ? `${minutes} min` : `${(minutes / 60).toFixed(1)} h`;
}

function CyclesView(props: { filters: Filters; open: (f: Filters) => void }) {
  const key = JSON.stringify(props.filters);
  const { data, error } = useData(() => get<Cycles>("cycles", props.filters), [key]);
  const [page, setPage] = useState(1);
  useEffect(() => setPage(1), [key]);
  if (error) return <Problem text={error} />;
  if (!data) return <Spinner label="Loading cycles" />;
  const pages = Math.max(1, Math.ceil(data.cycles.length / CYCLES_PAGE));
  const shown = data.cycles.slice((page - 1) * CYCLES_PAGE, page * CYCLES_PAGE);
  return (
    <div style={{ display: "grid", gap: 8 }}>
    <Text data-testid="cycles-total">{data.cycles.length.toLocaleString()} cycles · page {page} of {pages}</Text>
    <div className="scroll-x">
    <Table size="small" aria-label="Cycles" data-testid="cycles">
      <Head cells={["Began (UTC)", "App", "Duration", "Status", "Events", "Created", "Updated", "Disabled / deleted", "Failures", "Skipped"]} />
      <TableBody>
        {shown.map((c) => (
          <TableRow key={`${c.jobKey}|${c.cycleId}`} onClick={() => props.open({ cycleId: c.cycleId, job: c.jobKey, from: "", to: "" })} style={{ cursor: "pointer" }} data-testid="cycle-row">
            <TableCell>{when(c.first)}</TableCell>
            <TableCell>{c.app}</TableCell>
            <TableCell data-testid="cycle-duration">{duration(c.first, c.last)}</TableCell>
            <TableCell data-testid="cycle-status">{(c.byStatus["failure"] ?? 0) > 0 ? `with ${c.byStatus["failure"]} failure${c.byStatus["failure"] === 1 ? "" : "s"}` : "succeeded"}</TableCell>
            <TableCell>{c.events}</TableCell>
            <TableCell>{c.byAction["create"] ?? 0}</TableCell>
            <TableCell>{c.byAction["update"] ?? 0}</TableCell>
            <TableCell>{(c.byAction["disable"] ?? 0) + (c.byAction["delete"] ?? 0)}</TableCell>
            <TableCell>{c.byStatus["failure"] ?? 0}</TableCell>
            <TableCell>{c.byStatus["skipped"] ?? 0}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
    </div>
    <div style={{ display: "flex", gap: 8 }}>
      <Button disabled={page <= 1} onClick={() => setPage(page - 1)} data-testid="cycles-previous">Previous</Button>
      <Button disabled={page >= pages} onClick={() => setPage(page + 1)} data-testid="cycles-next">Next</Button>
    </div>
    </div>
  );
}

function App(props: { host: Host }) {
  const [theme, setTheme] = useState<ThemeName>(props.host.theme);
  useEffect(() => props.host.onTheme(setTheme), [props.host]);
  const [view, setView] = useState<View>("overview");
  const [range, setRange] = useState<Range>({ preset: "7d", from: "", to: "" });
  const [filters, setFilters] = useState<Filters>({});
  const [apps, setApps] = useState<string[]>([]);
  const [stamp, setStamp] = useState(0);
  const [more, setMore] = useState(false);
  const all = useMemo((): Filters => {
    const r = rangeOf(range);
    return { ...Object.fromEntries(Object.entries(filters).filter(([k, v]) => k !== "from" && k !== "to" && v !== undefined)), from: filters["from"] || r.from, to: filters["to"] || r.to };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [range, filters, stamp]);
  const open = useCallback((f: Filters) => {
    setFilters((cur) => ({ ...cur, ...f }));
    setView("events");
  }, []);
  const set = (k: string, v: string) => setFilters((cur) => ({ ...cur, [k]: v }));
  const foreground = THEMES[theme].colorNeutralForeground1;
  return (
    <FluentProvider theme={THEMES[theme]} style={{ minHeight: "100vh", padding: 16, boxSizing: "border-box" }} data-theme={theme}>
      <div style={{ display: "grid", gap: 12 }}>
        <div style={{ display: "flex", gap: 8, flexWrap: "wrap", alignItems: "end" }}>
          <Title3 style={{ marginRight: 16 }}>Provisioning health</Title3>
          <Select aria-label="Time range" value={range.preset} onChange={(_, d) => (setRange({ ...range, preset: d.value }), setFilters(({ from: _f, to: _t, ...rest }) => rest))} data-testid="range">
            <option value="24h">Last 24 hours</option>
            <option value="7d">Last 7 days</option>
            <option value="1m">One month</option>
            <option value="30d">Last 30 days</option>
            <option value="custom">Custom range</option>
          </Select>
          {range.preset === "custom" ? (
            <>
              <Input type="datetime-local" aria-label="From (UTC)" value={range.from} onChange={(_, d) => setRange({ ...range, from: d.value })} />
              <Input type="datetime-local" aria-label="To (UTC)" value={range.to} onChange={(_, d) => setRange({ ...range, to: d.value })} />
            </>
          ) : null}
          <Select aria-label="App" value={filters["app"] ?? ""} onChange={(_, d) => set("app", d.value)} data-testid="filter-app">
            <option value="">All apps</option>
            {apps.map((a) => (
              <option key={a} value={a}>{a}</option>
            ))}
          </Select>
          <Select aria-label="Status" value={filters["status"] ?? ""} onChange={(_, d) => set("status", d.value)} data-testid="filter-status">
            <option value="">All statuses</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>{s}</option>
            ))}
          </Select>
          <Select aria-label="Action" value={filters["action"] ?? ""} onChange={(_, d) => set("action", d.value)} data-testid="filter-action">
            <option value="">All actions</option>
            {ACTIONS.map((s) => (
              <option key={s} value={s}>{s === "other" ? "Other" : s}</option>
            ))}
          </Select>
          <Button onClick={() => (setFilters({}), setStamp(stamp + 1))} data-testid="clear">Clear filters</Button>
          <Button appearance="subtle" onClick={() => setMore(!more)} aria-expanded={more}>{more ? "Fewer filters" : "More filters"}</Button>
        </div>
        {more ? (
          <div style={{ display: "flex", gap: 8, flexWrap: "wrap" }} data-testid="more-filters">
            {([
              ["changeId", "Change ID"],
              ["job", "Job ID"],
              ["cycleId", "Cycle ID"],
              ["errorCode", "Error code"],
              ["sourceSystem", "Source system"],
              ["targetSystem", "Target system"],
            ] as const).map(([k, label]) => (
              <Input key={k} aria-label={label} placeholder={label} value={filters[k] ?? ""} onChange={(_, d) => set(k, d.value)} data-testid={`filter-${k}`} />
            ))}
          </div>
        ) : null}
        <ActiveFilters view={view} filters={filters} remove={(keys) => setFilters((cur) => Object.fromEntries(Object.entries(cur).filter(([k]) => !keys.includes(k))))} />
        <TabList selectedValue={view} onTabSelect={(_, d) => setView(d.value as View)}>
          <Tab value="overview">Overview</Tab>
          <Tab value="events">Events</Tab>
          <Tab value="cycles">Cycles</Tab>
        </TabList>
        <div style={{ color: tokens.colorNeutralForeground1 }}>
          {view === "overview" ? <OverviewView filters={{ from: all["from"] ?? "", to: all["to"] ?? "", app: all["app"] ?? "" }} open={open} foreground={foreground} onApps={(a) => apps.length === 0 && setApps(a)} /> : null}
          {view === "events" ? <EventsView filters={all} setFilter={(f) => setFilters((c) => ({ ...c, ...f }))} /> : null}
          {view === "cycles" ? <CyclesView filters={{ from: all["from"] ?? "", to: all["to"] ?? "", app: all["app"] ?? "" }} open={open} /> : null}
        </div>
      </div>
    </FluentProvider>
  );
}

async function start(): Promise<void> {
  const host = await connect();
  useToken(() => host.token());
  // The overview's data is asked for before React draws anything: by boot.ts outside Teams, here
  // (with the token) inside Teams.
  const booted = (window as unknown as { provbotFirst?: { url: string; response: Promise<Response> } }).provbotFirst;
  if (booted) adopt(booted.url, booted.response);
  else {
    const first = rangeOf({ preset: "7d", from: "", to: "" });
    prefetch("overview", { from: first.from, to: first.to, app: "" });
  }
  createRoot(document.getElementById("root")!).render(
    <StrictMode>
      <App host={host} />
    </StrictMode>,
  );
}

void start();
