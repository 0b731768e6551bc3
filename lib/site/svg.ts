// Charts as inline SVG, so the site needs no script library and no request: a sparkline for
// table rows and a line chart with day ticks for the model pages. Empty buckets break the line
// rather than drawing it through zero (unknown is not 0).

/** One value per bucket; null where the bucket had no sample. */
export type Series = Array<number | null>;

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
    return b[Math.min(b.length, Math.max(1, Math.ceil((options.p / 100) * b.length))) - 1]!;
  });
}

/** "M x y L x y …" with a new M after each gap; coordinates rounded to one decimal. */
function path(series: Series, x: (i: number) => number, y: (v: number) => number): string {
  let d = '';
  let pen = false;
  series.forEach((v, i) => {
    if (v === null) {
      pen = false;
      return;
    }
    // "h0" after a move: a zero-length segment, so a lone point shows as a dot (round caps).
    d += `${pen ? 'L' : 'M'}${round(x(i))} ${round(y(v))}${pen ? '' : 'h0'}`;
    pen = true;
  });
  return d;
}

const round = (n: number) => Math.round(n * 10) / 10;

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
  const step = series.length > 1 ? w / (series.length - 1) : 0;
  const d = path(series, (i) => i * step, (v) => h - 1 - (max > 0 ? (v / max) * (h - 2) : 0));
  return `<svg class="spark" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${label}"><path d="${d}"/></svg>`;
}

/**
 * A line chart of one or two series (p50 solid, p95 dashed) over days, y from 0.
 * dayStarts are the bucket indexes where a UTC day starts, with their labels.
 */
export function lineChart(options: {
  title: string;
  unit: string;
  p50: Series;
  p95: Series;
  days: Array<{ index: number; label: string }>;
  digits: number;
}): string {
  const { p50, p95 } = options;
  const W = 640;
  const H = 200;
  const left = 48;
  const right = 8;
  const top = 10;
  const bottom = 22;
  const max = maxOf(p50, p95);
  const niceMax = max > 0 ? nice(max) : 1;
  const n = Math.max(1, p50.length - 1);
  const x = (i: number) => left + (i / n) * (W - left - right);
  const y = (v: number) => top + (1 - v / niceMax) * (H - top - bottom);
  const parts: string[] = [];
  for (const frac of [0, 0.5, 1]) {
    const v = niceMax * frac;
    parts.push(`<line class="grid" x1="${left}" x2="${W - right}" y1="${round(y(v))}" y2="${round(y(v))}"/>`);
    parts.push(`<text x="${left - 4}" y="${round(y(v)) + 4}" text-anchor="end">${v.toFixed(options.digits)}</text>`);
  }
  for (const d of options.days) {
    parts.push(`<line class="grid" x1="${round(x(d.index))}" x2="${round(x(d.index))}" y1="${top}" y2="${H - bottom}"/>`);
    parts.push(`<text x="${round(x(d.index)) + 2}" y="${H - 6}">${d.label}</text>`);
  }
  const hasData = p50.some((v) => v !== null);
  if (hasData) {
    parts.push(`<path class="p95" d="${path(p95, x, y)}"/>`);
    parts.push(`<path class="p50" d="${path(p50, x, y)}"/>`);
  } else {
    parts.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no data in these 7 days</text>`);
  }
  return (
    `<figure><figcaption>${options.title} (${options.unit}); <span class="l50">p50</span> and <span class="l95">p95</span> per 3 hours</figcaption>` +
    `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${options.title}">${parts.join('')}</svg></figure>`
  );
}

/** The smallest of 1, 2, 2.5, 5 × 10^k at or above v. */
function nice(v: number): number {
  const k = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * k >= v) return m * k;
  return 10 * k;
}
