import { useEffect, useRef } from "react";
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from "chart.js";
import { tokens } from "@fluentui/react-components";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

/** Colours per series, readable on light, dark and high-contrast backgrounds. */
const PALETTE: Record<string, string> = {
  create: "#2e7d32",
  update: "#1565c0",
  disable: "#ef6c00",
  delete: "#c62828",
  stagedDelete: "#8e24aa",
  other: "#607d8b",
  success: "#2e7d32",
  failure: "#c62828",
  skipped: "#9e9e9e",
  warning: "#f9a825",
};

export interface BarSeries {
  key: string;
  label: string;
  values: number[];
}

/**
 * A stacked bar chart (chart.js on a canvas). A click on a bar calls `onPick` with the bucket and
 * the series, so the page can open the events behind it.
 */
export function StackedBars(props: { id: string; title: string; labels: string[]; series: BarSeries[]; onPick: (bucket: number, seriesKey: string) => void; foreground: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart | null>(null);
  const pick = useRef(props.onPick);
  pick.current = props.onPick;
  useEffect(() => {
    if (!canvas.current) return;
    chart.current?.destroy();
    chart.current = new Chart(canvas.current, {
      type: "bar",
      data: { labels: props.labels, datasets: props.series.map((s) => ({ label: s.label, data: s.values, backgroundColor: PALETTE[s.key] ?? "#888", stack: "all" })) },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: { x: { stacked: true, ticks: { color: props.foreground, maxRotation: 0, autoSkip: true } }, y: { stacked: true, beginAtZero: true, ticks: { color: props.foreground, precision: 0 } } },
        plugins: { legend: { labels: { color: props.foreground } } },
        onClick: (event, elements) => {
          const hit = elements[0];
          if (hit) pick.current(hit.index, props.series[hit.datasetIndex]!.key);
        },
      },
    });
    // The canvas also says what it shows (bars drawn, and where the biggest of each series is), for
    // screen readers' summaries and for tests that click a bar.
    canvas.current.dataset["points"] = String(props.series.reduce((n, s) => n + s.values.filter((v) => v > 0).length, 0));
    const bars: { series: string; index: number; x: number; y: number }[] = [];
    props.series.forEach((s, d) => {
      const max = s.values.reduce((best, v, i) => (v > (s.values[best] ?? 0) ? i : best), 0);
      const el = chart.current?.getDatasetMeta(d).data[max] as unknown as { x: number; y: number; base: number } | undefined;
      if (el && (s.values[max] ?? 0) > 0) bars.push({ series: s.key, index: max, x: Math.round(el.x), y: Math.round((el.y + el.base) / 2) });
    });
    canvas.current.dataset["bars"] = JSON.stringify(bars);
    return () => chart.current?.destroy();
  }, [props.labels, props.series, props.foreground]);
  return (
    <div style={{ height: 220, position: "relative", border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: 4, padding: 8 }}>
      <canvas ref={canvas} id={props.id} role="img" aria-label={props.title} data-testid={props.id} />
    </div>
  );
}
