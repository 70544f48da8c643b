// Charts on uPlot: time series with prediction bands, observation points and
// intervention markers; histograms; bar charts. Every chart is a <figure>
// with a caption and an aria-label summarising it, and resizes with its
// container.

import uPlot from "uplot";
import { h } from "../ui/dom";

export const PALETTE = ["#1f5fa8", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0f766e", "#a16207", "#be185d"];

export interface Line {
  label: string;
  x: number[];
  y: (number | null)[];
  /** Prediction or percentile band around the line, same length as x. */
  lower?: (number | null)[];
  upper?: (number | null)[];
  bandLabel?: string;
  color?: string;
  /** Points only (observations), no line. */
  points?: boolean;
  dash?: number[];
}

export interface Marker {
  x: number;
  label: string;
  color?: string;
}

export interface TimeChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  lines: Line[];
  markers?: Marker[];
  /** A vertical line (e.g. "now": where the forecast starts). */
  now?: number;
  height?: number;
  /** Horizontal reference lines (alert thresholds). */
  thresholds?: { y: number; label: string; color?: string }[];
}

function withAlpha(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

function figure(title: string, summary: string): { fig: HTMLElement; plotEl: HTMLElement } {
  const plotEl = h("div", { class: "plot", role: "img", "aria-label": `${title}. ${summary}` });
  const fig = h("figure", { class: "chart" }, h("figcaption", {}, title), plotEl);
  return { fig, plotEl };
}

function autoSize(plot: uPlot, el: HTMLElement, height: number): void {
  const resize = () => {
    const w = Math.max(280, el.clientWidth || el.parentElement?.clientWidth || 600);
    if (Math.abs(plot.width - w) > 2) plot.setSize({ width: w, height });
  };
  new ResizeObserver(resize).observe(el);
  requestAnimationFrame(resize);
}

/** Overlaid time series with optional bands, points, markers; appended to `parent`. */
export function timeChart(parent: HTMLElement, o: TimeChartOptions): uPlot {
  const height = o.height ?? 300;
  const tables: uPlot.AlignedData[] = [];
  const series: uPlot.Series[] = [{ label: o.xLabel }];
  const bands: uPlot.Band[] = [];
  let col = 1;
  o.lines.forEach((line, i) => {
    const color = line.color ?? PALETTE[i % PALETTE.length];
    const cols: (number | null)[][] = [line.y];
    series.push({
      label: line.label,
      stroke: color,
      width: line.points ? 0 : 2,
      dash: line.dash,
      spanGaps: !line.points,
      paths: line.points ? () => null : undefined,
      points: line.points ? { show: true, size: 6, fill: color, stroke: color } : { show: false },
    });
    const mid = col;
    col += 1;
    if (line.lower && line.upper) {
      cols.push(line.upper, line.lower);
      const band = line.bandLabel ?? `${line.label} band`;
      series.push({ label: `${band} (upper)`, stroke: withAlpha(color, 0.35), width: 1, points: { show: false } });
      series.push({ label: `${band} (lower)`, stroke: withAlpha(color, 0.35), width: 1, points: { show: false } });
      bands.push({ series: [mid + 1, mid + 2], fill: withAlpha(color, 0.15) });
      col += 2;
    }
    tables.push([line.x, ...cols] as uPlot.AlignedData);
  });
  const data = tables.length === 1 ? tables[0] : uPlot.join(tables);
  const markers = o.markers ?? [];
  const thresholds = o.thresholds ?? [];
  const summary = `${o.lines.map((l) => l.label).join(", ")} against ${o.xLabel}${markers.length ? `; ${markers.length} interventions marked` : ""}.`;
  const { fig, plotEl } = figure(o.title, summary);
  parent.append(fig);

  const drawOverlays = (u: uPlot) => {
    const ctx = u.ctx;
    const { top, height: ph, left, width: pw } = u.bbox;
    ctx.save();
    ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
    ctx.textAlign = "left";
    ctx.textBaseline = "alphabetic";
    for (const t of thresholds) {
      const y = u.valToPos(t.y, "y", true);
      if (y < top || y > top + ph) continue;
      ctx.strokeStyle = t.color ?? "#b91c1c";
      ctx.setLineDash([6, 4]);
      ctx.lineWidth = devicePixelRatio;
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + pw, y);
      ctx.stroke();
      ctx.fillStyle = t.color ?? "#b91c1c";
      ctx.fillText(t.label, left + 4, y - 4);
    }
    ctx.setLineDash([3, 3]);
    markers.forEach((m, i) => {
      const x = u.valToPos(m.x, "x", true);
      if (x < left || x > left + pw) return;
      ctx.strokeStyle = m.color ?? "#6b7280";
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + ph);
      ctx.stroke();
      ctx.fillStyle = m.color ?? "#374151";
      ctx.fillText(m.label, x + 3, top + 12 * devicePixelRatio * (1 + (i % 3)));
    });
    if (o.now !== undefined) {
      const x = u.valToPos(o.now, "x", true);
      ctx.setLineDash([]);
      ctx.strokeStyle = "#111827";
      ctx.lineWidth = 2 * devicePixelRatio;
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + ph);
      ctx.stroke();
      ctx.fillStyle = "#111827";
      ctx.fillText("now", x + 4, top + ph - 6);
    }
    ctx.restore();
  };

  const plot = new uPlot(
    {
      width: 600,
      height,
      scales: { x: { time: false } },
      axes: [
        { label: o.xLabel, stroke: "#374151" },
        { label: o.yLabel, stroke: "#374151", size: 60 },
      ],
      series,
      bands,
      legend: { live: true },
      hooks: { draw: [drawOverlays] },
    },
    data,
    plotEl,
  );
  autoSize(plot, plotEl, height);
  return plot;
}

/** Histogram of `values` with `bins` equal bins; one or more overlaid distributions. */
export function histogram(
  parent: HTMLElement,
  o: { title: string; xLabel: string; groups: { label: string; values: number[] }[]; bins?: number; height?: number },
): uPlot | null {
  const all = o.groups.flatMap((g) => g.values).filter(Number.isFinite);
  if (!all.length) return null;
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const nb = o.bins ?? Math.min(30, Math.max(8, Math.ceil(Math.sqrt(all.length))));
  const width = (hi - lo) / nb;
  const centers = Array.from({ length: nb }, (_, i) => lo + (i + 0.5) * width);
  const counts = o.groups.map((g) => {
    const c = new Array<number>(nb).fill(0);
    for (const v of g.values) {
      if (!Number.isFinite(v)) continue;
      c[Math.min(nb - 1, Math.floor((v - lo) / width))] += 1;
    }
    return c;
  });
  const height = o.height ?? 220;
  const summary = o.groups.map((g) => `${g.label}: ${g.values.length} values`).join("; ");
  const { fig, plotEl } = figure(o.title, `Histogram of ${o.xLabel}. ${summary}.`);
  parent.append(fig);
  const n = o.groups.length;
  const plot = new uPlot(
    {
      width: 400,
      height,
      scales: { x: { time: false, range: [lo, hi] } },
      axes: [{ label: o.xLabel }, { label: "members", size: 50 }],
      series: [
        { label: o.xLabel },
        ...o.groups.map((g, i) => ({
          label: g.label,
          stroke: PALETTE[i % PALETTE.length],
          fill: withAlpha(PALETTE[i % PALETTE.length], n > 1 ? 0.45 : 0.7),
          paths: uPlot.paths.bars!({ size: [n > 1 ? 0.95 : 0.9, Infinity], align: 0 }),
          points: { show: false },
        })),
      ],
    },
    [centers, ...counts],
    plotEl,
  );
  autoSize(plot, plotEl, height);
  return plot;
}

/** A y range that includes 0, so bar lengths are comparable, with 10 % headroom. */
function zeroBasedRange(values: number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  const lo = Math.min(0, ...finite);
  const hi = Math.max(0, ...finite);
  const pad = (hi - lo || 1) * 0.1;
  return [lo < 0 ? lo - pad : 0, hi > 0 ? hi + pad : 0];
}

/** Bar chart of one value per category (e.g. a sensitivity index per parameter). */
export function barChart(
  parent: HTMLElement,
  o: {
    title: string;
    categories: string[];
    values: number[];
    label: string;
    yLabel: string;
    height?: number;
    range?: [number, number];
    /** Confidence intervals drawn as whiskers on the bars. */
    errors?: { low: number[]; high: number[] };
  },
): uPlot {
  const xs = o.categories.map((_, i) => i);
  const height = o.height ?? 220;
  const summary = o.categories
    .map((c, i) => `${c}: ${Number.isFinite(o.values[i]) ? o.values[i].toFixed(2) : "n/a"}${o.errors ? ` (${o.errors.low[i]?.toFixed(2)} to ${o.errors.high[i]?.toFixed(2)})` : ""}`)
    .join(", ");
  const whiskers = (u: uPlot) => {
    if (!o.errors) return;
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = "#111827";
    ctx.lineWidth = 1.5 * devicePixelRatio;
    o.categories.forEach((_, i) => {
      const lo = o.errors!.low[i];
      const hi = o.errors!.high[i];
      if (!Number.isFinite(lo) || !Number.isFinite(hi)) return;
      const x = u.valToPos(i, "x", true);
      const y0 = u.valToPos(lo, "y", true);
      const y1 = u.valToPos(hi, "y", true);
      const w = 6 * devicePixelRatio;
      ctx.beginPath();
      ctx.moveTo(x, y0);
      ctx.lineTo(x, y1);
      ctx.moveTo(x - w, y0);
      ctx.lineTo(x + w, y0);
      ctx.moveTo(x - w, y1);
      ctx.lineTo(x + w, y1);
      ctx.stroke();
    });
    ctx.restore();
  };
  const { fig, plotEl } = figure(o.title, summary);
  parent.append(fig);
  const plot = new uPlot(
    {
      width: 400,
      height,
      scales: { x: { time: false, range: [-0.5, o.categories.length - 0.5] }, y: { range: o.range ?? zeroBasedRange([...o.values, ...(o.errors?.low ?? []), ...(o.errors?.high ?? [])]) } },
      axes: [
        { values: (_u, splits) => splits.map((s) => (Number.isInteger(s) ? (o.categories[s] ?? "") : "")), splits: () => xs },
        { label: o.yLabel, size: 50 },
      ],
      hooks: { draw: [whiskers] },
      series: [
        { label: "parameter", value: (_u, v) => (v === null ? "" : (o.categories[v] ?? "")) },
        {
          label: o.label,
          stroke: PALETTE[0],
          fill: withAlpha(PALETTE[0], 0.7),
          paths: uPlot.paths.bars!({ size: [0.6, Infinity], align: 0 }),
          points: { show: false },
        },
      ],
    },
    [xs, o.values],
    plotEl,
  );
  autoSize(plot, plotEl, height);
  return plot;
}
