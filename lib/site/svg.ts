// Charts as inline SVG, so the site needs no script library and no request: sparklines for
// table rows, time charts (a line per series, over days), a scatter of one point per model,
// a strip of daily success rates and a distribution bar. Empty buckets break a line rather
// than drawing it through zero (unknown is not 0), and a point with no neighbour is drawn as a
// dot, so one run or a run between gaps is visible. Axis ticks are chosen so no two read alike.
// Labels and titles given as data are escaped here; captions are the caller's HTML.
import { plural } from '../plural.ts';
import { esc } from './html.ts';

/** One value per bucket; null where the bucket had no sample. */
export type Series = Array<number | null>;

/** The 0-based index of the nearest-rank p-th percentile among n sorted values. */
function rankIndex(n: number, p: number): number {
  return Math.min(n, Math.max(1, Math.ceil((p / 100) * n))) - 1;
}

/** Nearest-rank percentiles of the values (the same definition as the store's KPIs). */
export function percentilesOf<P extends number>(values: number[], ps: readonly P[]): Record<P, number> | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Object.fromEntries(ps.map((p) => [p, sorted[rankIndex(sorted.length, p)]!])) as Record<P, number>;
}

/** The p-th percentile (nearest rank) of each bucketMs-wide bucket from since to until. */
export function bucketPercentile(
  points: Array<{ t: number; v: number | null }>,
  options: { since: number; until: number; bucketMs: number; p: number },
): Series {
  const n = Math.ceil((options.until - options.since) / options.bucketMs);
  const buckets: number[][] = Array.from({ length: n }, () => []);
  for (const { t, v } of points) {
    if (v === null || t < options.since || t >= options.until) continue;
    buckets[Math.floor((t - options.since) / options.bucketMs)]!.push(v);
  }
  return buckets.map((b) => {
    if (b.length === 0) return null;
    b.sort((x, y) => x - y);
    return b[rankIndex(b.length, options.p)]!;
  });
}

const round = (n: number) => Math.round(n * 10) / 10;

/** "M x y L x y …" with a new M after each gap; points with no neighbour are left to dots(). */
function path(series: Series, x: (i: number) => number, y: (v: number) => number): string {
  let d = '';
  const known = (i: number) => i >= 0 && i < series.length && series[i] !== null;
  series.forEach((v, i) => {
    if (v === null || (!known(i - 1) && !known(i + 1))) return;
    d += `${known(i - 1) ? 'L' : 'M'}${round(x(i))} ${round(y(v))}`;
  });
  return d;
}

/** Indexes of values whose neighbours are both missing: a line cannot show them. */
function isolated(series: Series): number[] {
  const known = (i: number) => i >= 0 && i < series.length && series[i] !== null;
  return series.flatMap((_, i) => (known(i) && !known(i - 1) && !known(i + 1) ? [i] : []));
}

function maxOf(...series: Series[]): number {
  let max = 0;
  for (const s of series) for (const v of s) if (v !== null && v > max) max = v;
  return max;
}

/** A 100×20 sparkline; an empty string when the series has no value. */
export function sparkline(series: Series, label: string): string {
  const max = maxOf(series);
  if (!series.some((v) => v !== null)) return '';
  const w = 100;
  const h = 20;
  const step = series.length > 1 ? (w - 4) / (series.length - 1) : 0;
  const x = (i: number) => 2 + i * step;
  const y = (v: number) => h - 2 - (max > 0 ? (v / max) * (h - 4) : 0);
  const dots = isolated(series).map((i) => `<circle cx="${round(x(i))}" cy="${round(y(series[i]!))}" r="1.6"/>`);
  return `<svg class="spark" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${label}"><path d="${path(series, x, y)}"/>${dots.join('')}</svg>`;
}

// ---- axes ----

/** A y scale: the value's position as a fraction of the plot's height (0 bottom, 1 top) and its ticks. */
export interface Scale {
  at(v: number): number;
  ticks: Array<{ v: number; label: string }>;
}

const LADDER = [1, 2, 2.5, 5];

/** The smallest of 1, 2, 2.5, 5 × 10^k at or above v. */
function niceUp(v: number): number {
  const k = 10 ** Math.floor(Math.log10(v));
  for (const m of [...LADDER, 10]) if (m * k >= v * (1 - 1e-9)) return m * k;
  return 10 * k;
}

/** Each tick's shortest exact text (0.05, 0.1, 1, 2.5, 5,000): distinct values never read alike. */
function labels(values: number[]): string[] {
  return values.map((v) => (v >= 1000 ? Math.round(v).toLocaleString('en') : String(Number(v.toPrecision(6)))));
}

/** 0 to a round maximum above every value, in four or five steps. */
export function linearScale(max: number): Scale {
  const top = max > 0 ? niceUp(max) : 1;
  const step = niceUp(top / 5);
  const values: number[] = [];
  for (let v = 0; v <= top * (1 + 1e-9); v += step) values.push(v);
  const end = values.at(-1)!;
  const text = labels(values);
  return { at: (v) => v / end, ticks: values.map((v, i) => ({ v, label: text[i]! })) };
}

/**
 * A log scale from a 1-2-5 step at or below min to one at or above max (a decade either way
 * when they are equal), ticked at 1, 2 and 5 × 10^k (only powers of ten over many decades).
 */
export function logScale(min: number, max: number): Scale {
  const lo = Math.max(min, 1e-9);
  const hi = Math.max(max, lo);
  const steps: number[] = [];
  for (let k = Math.floor(Math.log10(lo)) - 1; k <= Math.ceil(Math.log10(hi)) + 1; k++) for (const m of [1, 2, 5]) steps.push(m * 10 ** k);
  let from = [...steps].reverse().find((s) => s <= lo * (1 + 1e-9))!;
  let to = steps.find((s) => s >= hi * (1 - 1e-9))!;
  if (from === to) {
    from = steps[steps.indexOf(from) - 1]!;
    to = steps[steps.indexOf(to) + 1]!;
  }
  const decades = Math.log10(to / from);
  const values = steps.filter((s) => s >= from && s <= to && (decades <= 3 || Number.isInteger(Math.log10(s))));
  const text = labels(values);
  const span = Math.log10(to) - Math.log10(from);
  return { at: (v) => (Math.log10(Math.max(v, from)) - Math.log10(from)) / span, ticks: values.map((v, i) => ({ v, label: text[i]! })) };
}

// ---- marks ----

export type Shape = 'circle' | 'square' | 'triangle' | 'diamond' | 'cross';
export const SHAPES: readonly Shape[] = ['circle', 'square', 'triangle', 'diamond', 'cross'];

/** A marker of the shape centred on (x, y), about 2r across. */
export function marker(shape: Shape, x: number, y: number, r: number, attrs = ''): string {
  const [cx, cy] = [round(x), round(y)];
  if (shape === 'circle') return `<circle cx="${cx}" cy="${cy}" r="${r}"${attrs}/>`;
  if (shape === 'square') return `<rect x="${round(cx - r * 0.9)}" y="${round(cy - r * 0.9)}" width="${round(r * 1.8)}" height="${round(r * 1.8)}"${attrs}/>`;
  const pts =
    shape === 'triangle'
      ? [[0, -1.2], [1.1, 0.8], [-1.1, 0.8]]
      : shape === 'diamond'
        ? [[0, -1.25], [1.1, 0], [0, 1.25], [-1.1, 0]]
        : [[-0.35, -1.1], [0.35, -1.1], [0.35, -0.35], [1.1, -0.35], [1.1, 0.35], [0.35, 0.35], [0.35, 1.1], [-0.35, 1.1], [-0.35, 0.35], [-1.1, 0.35], [-1.1, -0.35], [-0.35, -0.35]];
  return `<polygon points="${pts.map(([a, b]) => `${round(cx + a! * r)},${round(cy + b! * r)}`).join(' ')}"${attrs}/>`;
}

/** A small inline SVG of the marker and a line in the colour, for legends. */
export function legendKey(color: string, shape: Shape | null, dash = ''): string {
  return (
    `<svg class="key" viewBox="0 0 24 12" width="24" height="12" aria-hidden="true">` +
    `<line x1="1" x2="23" y1="6" y2="6" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>` +
    `${shape ? marker(shape, 12, 6, 3.5, ` fill="${color}"`) : ''}</svg>`
  );
}

// ---- time charts ----

const DAY_MS = 86_400_000;

/** The bucket count from since to until, and an x tick ("11-28") where each UTC day starts. */
export function dayAxis(since: number, until: number, bucketMs: number): { n: number; xTicks: Array<{ index: number; label: string }> } {
  const xTicks: Array<{ index: number; label: string }> = [];
  for (let t = Math.ceil(since / DAY_MS) * DAY_MS; t < until; t += DAY_MS) xTicks.push({ index: (t - since) / bucketMs, label: new Date(t).toISOString().slice(5, 10) });
  return { n: Math.ceil((until - since) / bucketMs), xTicks };
}

export interface ChartSeries {
  label: string;
  values: Series;
  color: string;
  /** Drawn at every value (days); without, only values with no neighbour get a dot. */
  shape?: Shape;
  dash?: string;
  /** Drawn wide and pale beneath the others, so it shows where a thin line covers it. */
  halo?: boolean;
  /** Extra attributes of the series' group (data-*, hidden). */
  attrs?: string;
}

const W = 600;
const H = 220;
const PAD = { left: 46, right: 12, top: 10, bottom: 24 };

/**
 * A chart of series over n time slots (buckets or days), each series in a <g data-series>
 * of its own; x ticks at the given slot indexes. Without a value it says "no data" and draws
 * no y ticks.
 */
/** A vertical mark on a time chart: `at` in bucket units (fractional), `label` plain text. */
export interface ChartMark {
  at: number;
  label: string;
  /** Shown on hover. */
  title: string;
}

/**
 * A dashed vertical line with its label at the top, right of the line (left of it near the right
 * edge); the labels of later marks step down a line so that marks close together stay legible.
 */
function chartMark(m: ChartMark, i: number, px: number): string {
  const nearEnd = px > W - PAD.right - 140;
  const ty = PAD.top + 10 + (i % 3) * 12;
  return (
    `<g class="mark"><title>${esc(m.title)}</title>` +
    `<line x1="${round(px)}" x2="${round(px)}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke-dasharray="4 3"/>` +
    `<text x="${round(px + (nearEnd ? -3 : 3))}" y="${ty}"${nearEnd ? ' text-anchor="end"' : ''}>${esc(m.label)}</text></g>`
  );
}

export function timeChart(o: {
  title: string;
  caption: string;
  n: number;
  xTicks: Array<{ index: number; label: string }>;
  series: ChartSeries[];
  scale: 'linear' | 'log';
  /** What to say when no series has a value. */
  empty: string;
  id?: string;
  /** Values that set the log axis's range besides the series' own (all a page may show). */
  range?: { min: number; max: number };
  /** Vertical marks at fractional bucket positions (0..n-1), each labelled: e.g. a change of the model that answered. */
  marks?: ChartMark[];
}): string {
  const values = o.series.flatMap((s) => s.values.filter((v): v is number => v !== null && (o.scale === 'linear' || v > 0)));
  const hasData = values.length > 0;
  const lo = o.range ? Math.min(o.range.min, ...values) : Math.min(...values);
  const hi = o.range ? Math.max(o.range.max, ...values) : Math.max(...values);
  const scale = !hasData ? null : o.scale === 'log' ? logScale(lo, hi) : linearScale(hi);
  const x = (i: number) => PAD.left + (o.n > 1 ? i / (o.n - 1) : 0.5) * (W - PAD.left - PAD.right);
  const y = (v: number) => PAD.top + (1 - scale!.at(v)) * (H - PAD.top - PAD.bottom);
  const parts: string[] = [];
  for (const t of o.xTicks) {
    parts.push(`<line class="grid" x1="${round(x(t.index))}" x2="${round(x(t.index))}" y1="${PAD.top}" y2="${H - PAD.bottom}"/>`);
    const nearEnd = x(t.index) > W - PAD.right - 30;
    parts.push(`<text x="${round(x(t.index)) + (nearEnd ? 0 : 2)}" y="${H - 8}"${nearEnd ? ' text-anchor="end"' : ''}>${t.label}</text>`);
  }
  if (!scale) {
    parts.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle">${o.empty}</text>`);
  } else {
    for (const t of scale.ticks) {
      parts.push(`<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${round(y(t.v))}" y2="${round(y(t.v))}"/>`);
      parts.push(`<text class="yt" x="${PAD.left - 4}" y="${round(y(t.v)) + 4}" text-anchor="end">${t.label}</text>`);
    }
    o.marks?.forEach((m, i) => parts.push(chartMark(m, i, x(m.at))));
    for (const s of o.series) {
      const vals = s.values.map((v) => (v !== null && o.scale === 'log' && v <= 0 ? null : v));
      const marks = s.shape
        ? vals.flatMap((v, i) => (v === null ? [] : [marker(s.shape!, x(i), y(v), 3.2)]))
        : isolated(vals).map((i) => `<circle cx="${round(x(i))}" cy="${round(y(vals[i]!))}" r="3"/>`);
      const d = path(vals, x, y);
      parts.push(
        `<g class="series${s.halo ? ' halo' : ''}" data-series="${esc(s.label)}" style="color:${s.color}"${s.attrs ?? ''}>` +
          (d ? `<path d="${d}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>` : '') +
          marks.join('') +
          '</g>',
      );
    }
  }
  return (
    `<figure${o.id ? ` id="${o.id}"` : ''}><figcaption><b>${o.title}</b> ${o.caption}</figcaption>` +
    `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${o.title}">${parts.join('')}</svg></figure>`
  );
}

// ---- scatter ----

export interface ScatterPoint {
  x: number;
  y: number;
  label: string;
  /** Shown on hover: the model and its numbers. */
  title: string;
  color: string;
  shape: Shape;
  href: string;
}

/**
 * One point per model on log axes, labelled where a label fits without covering another
 * (the rest say who they are on hover and in the table below the chart).
 */
export function scatterChart(o: { title: string; caption: string; xLabel: string; yLabel: string; points: ScatterPoint[]; empty: string; id?: string }): string {
  const w = 720;
  const h = 420;
  const pad = { left: 56, right: 12, top: 12, bottom: 40 };
  const parts: string[] = [];
  if (o.points.length === 0) {
    parts.push(`<text x="${w / 2}" y="${h / 2}" text-anchor="middle">${o.empty}</text>`);
  } else {
    const xs = logScale(Math.min(...o.points.map((p) => p.x)), Math.max(...o.points.map((p) => p.x)));
    const ys = logScale(Math.min(...o.points.map((p) => p.y)), Math.max(...o.points.map((p) => p.y)));
    const px = (v: number) => pad.left + xs.at(v) * (w - pad.left - pad.right);
    const py = (v: number) => pad.top + (1 - ys.at(v)) * (h - pad.top - pad.bottom);
    for (const t of xs.ticks) {
      parts.push(`<line class="grid" x1="${round(px(t.v))}" x2="${round(px(t.v))}" y1="${pad.top}" y2="${h - pad.bottom}"/>`);
      parts.push(`<text x="${round(px(t.v))}" y="${h - pad.bottom + 14}" text-anchor="middle">${t.label}</text>`);
    }
    for (const t of ys.ticks) {
      parts.push(`<line class="grid" x1="${pad.left}" x2="${w - pad.right}" y1="${round(py(t.v))}" y2="${round(py(t.v))}"/>`);
      parts.push(`<text x="${pad.left - 4}" y="${round(py(t.v)) + 4}" text-anchor="end">${t.label}</text>`);
    }
    parts.push(`<text x="${(pad.left + w - pad.right) / 2}" y="${h - 6}" text-anchor="middle">${o.xLabel}</text>`);
    parts.push(`<text transform="translate(12 ${(pad.top + h - pad.bottom) / 2}) rotate(-90)" text-anchor="middle">${o.yLabel}</text>`);
    const placed: Array<[number, number, number, number]> = o.points.map((p) => [px(p.x) - 5, py(p.y) - 5, px(p.x) + 5, py(p.y) + 5]);
    const labelsOut: string[] = [];
    const overlaps = (b: [number, number, number, number]) => placed.some((q) => b[0] < q[2] && b[2] > q[0] && b[1] < q[3] && b[3] > q[1]);
    for (const p of o.points) {
      const [cx, cy] = [px(p.x), py(p.y)];
      const width = p.label.length * 6.2;
      // Right of the point, left of it, above, below: the first place that is free.
      const spots: Array<[number, number, 'start' | 'end' | 'middle']> = [[cx + 7, cy + 3, 'start'], [cx - 7, cy + 3, 'end'], [cx, cy - 8, 'middle'], [cx, cy + 15, 'middle']];
      for (const [tx, ty, anchor] of spots) {
        const left = anchor === 'start' ? tx : anchor === 'end' ? tx - width : tx - width / 2;
        const box: [number, number, number, number] = [left, ty - 11, left + width, ty + 1];
        if (box[0] < pad.left || box[2] > w - pad.right || box[1] < pad.top || box[3] > h - pad.bottom || overlaps(box)) continue;
        placed.push(box);
        labelsOut.push(`<text class="pl" x="${round(tx)}" y="${round(ty)}"${anchor === 'start' ? '' : ` text-anchor="${anchor}"`}>${esc(p.label)}</text>`);
        break;
      }
    }
    for (const p of o.points) {
      parts.push(`<a href="${esc(p.href)}" data-series="${esc(p.title)}"><title>${esc(p.title)}</title>${marker(p.shape, px(p.x), py(p.y), 4.5, ` fill="${p.color}"`)}</a>`);
    }
    parts.push(...labelsOut);
  }
  return (
    `<figure${o.id ? ` id="${o.id}"` : ''}><figcaption><b>${o.title}</b> ${o.caption}</figcaption>` +
    `<div class="hscroll ltr"><svg class="chart scatter" viewBox="0 0 ${w} ${h}" role="img" aria-label="${o.title}">${parts.join('')}</svg></div></figure>`
  );
}

// ---- success strip ----

/**
 * A row of day cells per provider, coloured by success rate (green at 100 %, red at 0 %,
 * empty without runs); each cell says its numbers on hover.
 */
export function successStrip(o: {
  title: string;
  caption: string;
  days: string[];
  rows: Array<{ label: string; cells: Array<{ rate: number | null; title: string }> }>;
  id?: string;
}): string {
  const cell = 18;
  const left = 110;
  const w = left + o.days.length * cell + 4;
  const h = o.rows.length * cell + 22;
  const parts: string[] = [];
  o.rows.forEach((r, j) => {
    parts.push(`<text x="${left - 6}" y="${j * cell + 13}" text-anchor="end">${esc(r.label)}</text>`);
    r.cells.forEach((c, i) => {
      const fill = c.rate === null ? 'none' : `hsl(${Math.round(c.rate * 120)} 65% 45%)`;
      parts.push(
        `<rect x="${left + i * cell + 1}" y="${j * cell + 1}" width="${cell - 2}" height="${cell - 2}" rx="2" fill="${fill}"${c.rate === null ? ' class="none"' : ''}><title>${esc(c.title)}</title></rect>`,
      );
    });
  });
  o.days.forEach((d, i) => {
    // Every seventh day back from the last, which is right-aligned to its cell.
    const last = i === o.days.length - 1;
    if ((o.days.length - 1 - i) % 7 === 0) parts.push(`<text x="${left + i * cell + (last ? cell : 0)}" y="${h - 6}"${last ? ' text-anchor="end"' : ''}>${d}</text>`);
  });
  return (
    `<figure${o.id ? ` id="${o.id}"` : ''}><figcaption><b>${o.title}</b> ${o.caption}</figcaption>` +
    `<div class="hscroll"><svg class="strip" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${o.title}">${parts.join('')}</svg></div></figure>`
  );
}

// ---- distribution ----

/** p5, p25, p50, p75 and p95 of the values as a bar on a linear axis from 0. */
export function distributionBar(o: { title: string; unit: string; values: number[]; digits: number }): string {
  const w = 720;
  const h = 64;
  const pad = { left: 14, right: 24 };
  const p = percentilesOf(o.values, [5, 25, 50, 75, 95] as const);
  if (!p) return `<figure><figcaption><b>${o.title}</b></figcaption><p class="mut">No successful run in these 7 days.</p></figure>`;
  const scale = linearScale(p[95]);
  const x = (v: number) => pad.left + scale.at(v) * (w - pad.left - pad.right);
  const f = (v: number) => v.toFixed(o.digits);
  const parts = [
    ...scale.ticks.map((t) => `<line class="grid" x1="${round(x(t.v))}" x2="${round(x(t.v))}" y1="4" y2="40"/><text x="${round(x(t.v))}" y="56" text-anchor="middle">${t.label}</text>`),
    `<line class="whisker" x1="${round(x(p[5]))}" x2="${round(x(p[95]))}" y1="22" y2="22"/>`,
    `<rect class="box" x="${round(x(p[25]))}" y="12" width="${Math.max(2, round(x(p[75]) - x(p[25])))}" height="20"/>`,
    `<line class="med" x1="${round(x(p[50]))}" x2="${round(x(p[50]))}" y1="8" y2="36"/>`,
  ];
  return (
    `<figure class="dist" data-p5="${p[5]}" data-p50="${p[50]}" data-p95="${p[95]}"><figcaption><b>${o.title}</b> (${o.unit}) over ${plural(o.values.length, 'run')}: ` +
    `p5 ${f(p[5])}, p25 ${f(p[25])}, <b>p50 ${f(p[50])}</b>, p75 ${f(p[75])}, p95 ${f(p[95])}; the bar spans p25 to p75, the whisker p5 to p95</figcaption>` +
    `<svg class="dist" viewBox="0 0 ${w} ${h}" role="img" aria-label="${o.title}">${parts.join('')}</svg></figure>`
  );
}
