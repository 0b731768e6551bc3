// The page shell and cell helpers of the status site. Every page is self-contained: inline CSS,
// a Content-Security-Policy that forbids any request (so nothing can leave, even opened from
// disk), and a little inline script that sorts and filters tables; without it the tables are
// still complete and in a sensible order.
import { TOO_FEW_RUNS_NOTE } from '../runs/format.ts';

export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A number to show, or an en dash for unknown (never 0). */
export function num(v: number | null | undefined, digits: number, unit = ''): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(digits)}${unit}`;
}

export function pct(rate: number | null): string {
  return rate === null ? '–' : `${(rate * 100).toFixed(1)}%`;
}

/** "2026-11-28 10:32Z": UTC, the same for every reader. */
export function when(d: Date | null): string {
  return d ? `${d.toISOString().slice(0, 16).replace('T', ' ')}Z` : '–';
}

/** A table cell whose sort key is the raw value (data-v), so sorting is numeric and nulls go last. */
export function td(text: string, sortValue?: number | string | null, className?: string): string {
  const v = sortValue === undefined ? '' : ` data-v="${sortValue === null ? '' : esc(sortValue)}"`;
  return `<td${v}${className ? ` class="${className}"` : ''}>${text}</td>`;
}

/** A header cell; numeric columns sort largest first on the first click. */
export function th(label: string, numeric = false): string {
  return `<th${numeric ? ' class="n"' : ''}>${esc(label)}</th>`;
}

/** A table column: its header, whether it sorts as numbers, and whether a phone shows its name beside each value. */
export interface Column {
  label: string;
  numeric?: boolean;
  /** The phone's list shows the value alone (a name, a time): its column name would be noise. */
  bare?: boolean;
}

export interface Row {
  /** Cells made by td(), one per column. */
  cells: string[];
  /** Classes of the row (mock, r-failed…). */
  cls?: string;
  id?: string;
}

/**
 * A sortable table in a bordered box that fits its page: long text wraps, and below 640 px
 * each row reads as a short list of "column value" pairs (data-label says the column).
 */
export function table(id: string, columns: Column[], rows: Row[], empty: string): string {
  const body = rows.length
    ? rows
        .map(
          (r) =>
            `<tr${r.id ? ` id="${esc(r.id)}"` : ''}${r.cls ? ` class="${r.cls}"` : ''}>` +
            r.cells.map((c, i) => (columns[i]?.bare ? c : c.replace(/^<td/, `<td data-label="${esc(columns[i]?.label ?? '')}"`))).join('') +
            '</tr>',
        )
        .join('')
    : `<tr><td colspan="${columns.length}">${empty}</td></tr>`;
  return (
    `<div class="wrap"><table class="sortable list" id="${id}"><thead><tr>${columns.map((c) => th(c.label, c.numeric)).join('')}</tr></thead>` +
    `<tbody>${body}</tbody></table></div>`
  );
}

export const MOCK_BADGE = '<span class="mock-badge" title="simulated by the mock provider, not a real API">mock</span>';

export function card(label: string, value: string, kpi: string, raw: number | null, sub = ''): string {
  return (
    `<div class="card" data-kpi="${esc(kpi)}" data-value="${raw === null ? '' : raw}">` +
    `<div class="k">${esc(label)}</div><div class="v">${value}</div>${sub ? `<div class="s">${sub}</div>` : ''}</div>`
  );
}

export const PAGES = [
  ['index.html', 'Overview'],
  ['models.html', 'Models'],
  ['compare.html', 'Compare'],
  ['runs.html', 'Recent runs'],
  ['failures.html', 'Failures'],
  ['scenarios.html', 'Scenarios'],
  ['agents.html', 'Agent runs'],
] as const;

const CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const CSS = `
:root{color-scheme:light dark;--fg:#1b1f24;--mut:#59636e;--bg:#fff;--alt:#f4f6f8;--line:#d8dee4;--acc:#0969da;--bad:#cf222e;--ok:#1a7f37;--mock:#fff4d6}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--mut:#9198a1;--bg:#0d1117;--alt:#161b22;--line:#30363d;--acc:#4493f8;--bad:#f85149;--ok:#3fb950;--mock:#3a2f0b}}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;flex-wrap:wrap;gap:.3rem 1rem;align-items:baseline;padding:.6rem 1rem;border-bottom:1px solid var(--line);background:var(--alt)}
header b{font-size:1.05rem}nav{display:flex;flex-wrap:wrap}nav a{margin-right:.8rem;white-space:nowrap}nav a[aria-current]{font-weight:600;text-decoration:none;color:var(--fg)}
main{padding:.8rem 1rem;max-width:1400px}h1{font-size:1.3rem;margin:.2rem 0 .4rem}h2{font-size:1.05rem;margin:1.6rem 0 .5rem}
a{color:var(--acc)}.mut{color:var(--mut)}.bad{color:var(--bad)}.ok{color:var(--ok)}p{max-width:60rem}
.lede{font-size:1rem;margin:.2rem 0 .8rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:.6rem}
.card{border:1px solid var(--line);border-radius:6px;padding:.5rem .7rem;background:var(--alt)}.card .k{color:var(--mut);font-size:.8rem}.card .v{font-size:1.25rem;font-weight:600}.card .s{color:var(--mut);font-size:.8rem}
.wrap{overflow-x:auto;border:1px solid var(--line);border-radius:6px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}th,td{padding:.3rem .45rem;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap;vertical-align:top}
th{background:var(--alt);position:sticky;top:0;cursor:pointer;user-select:none;font-weight:600}th.n,td.n{text-align:right}th[aria-sort=ascending]::after{content:" ▲"}th[aria-sort=descending]::after{content:" ▼"}
td.name{white-space:normal;overflow-wrap:anywhere;min-width:13rem;max-width:22rem}
td.msg{white-space:normal;min-width:14rem;width:35%;overflow-wrap:anywhere}
td.txt{white-space:normal;min-width:8rem;max-width:24rem;overflow-wrap:anywhere}
td.sub,span.sub{color:var(--mut);font-size:.85em}
tr.mock td{background:var(--mock)}.mock-badge{display:inline-block;margin-left:.3rem;padding:0 .3rem;border-radius:3px;font-size:.75rem;background:#d4a72c;color:#000}
.filter{margin:.4rem 0;padding:.3rem .5rem;width:min(24rem,100%);font:inherit}
svg.spark{vertical-align:middle}svg.spark path{fill:none;stroke:var(--acc);stroke-width:1.5;stroke-linejoin:round;stroke-linecap:round}svg.spark circle{fill:var(--acc)}
figure{margin:.6rem 0 1.2rem}figcaption{color:var(--mut);font-size:.85rem;margin-bottom:.2rem}figcaption b{color:var(--fg)}
svg.chart,svg.dist{width:100%;max-width:640px;height:auto;display:block}svg.chart.scatter{max-width:900px}
svg text{font-size:11px;fill:var(--mut)}svg .mark line{stroke:#cf222e;stroke-width:1.5}svg .mark text{fill:#cf222e;font-size:10.5px}svg .grid{stroke:var(--line)}svg text.pl{fill:var(--fg);font-size:10.5px}
svg.chart .series path{fill:none;stroke:currentColor;stroke-width:2;stroke-linejoin:round;stroke-linecap:round}svg.chart .halo path{stroke-width:6;opacity:.4}svg.chart .series circle,svg.chart .series rect,svg.chart .series polygon{fill:currentColor}
svg .whisker{stroke:var(--mut);stroke-width:2}svg .box{fill:var(--acc);opacity:.35}svg .med{stroke:var(--acc);stroke-width:3}
svg.strip rect.none{stroke:var(--line)}.hscroll{overflow-x:auto;width:max-content;max-width:100%;direction:rtl}.hscroll>*,.hscroll.ltr{direction:ltr}.hscroll.ltr{width:auto}.hscroll svg.chart.scatter{min-width:540px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,520px),1fr));gap:0 1.5rem}
.legend{display:flex;flex-wrap:wrap;gap:.2rem 1rem;margin:.2rem 0 .6rem;padding:0;list-style:none;font-size:.85rem}.legend li{white-space:nowrap}svg.key{vertical-align:middle;margin-right:.3rem}
.picker{display:grid;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));gap:.1rem 1rem;max-height:18rem;overflow-y:auto;border:1px solid var(--line);border-radius:6px;padding:.4rem .6rem}
.picker label{display:block;padding-left:.35rem;border-left:4px solid transparent;overflow-wrap:anywhere}svg g[data-off]{display:none}.swatch{display:inline-block;width:18px;height:4px;margin-right:.35rem;vertical-align:middle}
footer{padding:1rem;color:var(--mut);font-size:.8rem}.few{color:#b45309;display:block;white-space:normal;font-size:.72rem;line-height:1.1}
.pub-badge{display:inline-block;margin-left:.3rem;padding:0 .3rem;border-radius:3px;font-size:.75rem;background:var(--ok);color:#fff}tr.off td{color:var(--mut)}
@media (max-width:640px){
main{padding:.6rem .6rem}
table.list thead{display:none}table.list,table.list tbody{display:block}
table.list tr{display:flex;flex-wrap:wrap;gap:.1rem .9rem;padding:.45rem .55rem;border-bottom:1px solid var(--line)}
table.list td{display:block;border:0;padding:0;text-align:left;white-space:normal;min-width:0;max-width:100%}
table.list td[data-label]::before{content:attr(data-label) " ";color:var(--mut);font-size:.8rem}
table.list tr.mock{background:var(--mock)}table.list td.name{flex-basis:100%;font-weight:600}table.list td.msg,table.list td.txt{flex-basis:100%}table.list td:empty{display:none}
}
`.replace(/\n/g, '');

// Sorting: click a header; numbers by data-v, nulls last either way. Filtering: an input with
// data-filter="tableId" hides rows whose text does not contain every word typed.
const SCRIPT = `
document.querySelectorAll('table.sortable').forEach(function(t){t.querySelectorAll('th').forEach(function(h,i){h.addEventListener('click',function(){
var desc=h.getAttribute('aria-sort')?h.getAttribute('aria-sort')==='ascending':h.classList.contains('n');
t.querySelectorAll('th').forEach(function(o){o.removeAttribute('aria-sort')});h.setAttribute('aria-sort',desc?'descending':'ascending');
var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows);
function key(r){var c=r.cells[i];var v=c.hasAttribute('data-v')?c.getAttribute('data-v'):c.textContent;return v}
rows.sort(function(a,c){var x=key(a),y=key(c);if(x===''&&y==='')return 0;if(x==='')return 1;if(y==='')return -1;
var nx=Number(x),ny=Number(y),r=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);return desc?-r:r});
rows.forEach(function(r){b.appendChild(r)})})})});
document.querySelectorAll('input[data-filter]').forEach(function(f){var t=document.getElementById(f.getAttribute('data-filter'));
f.hidden=false;f.addEventListener('input',function(){var w=f.value.toLowerCase().split(/\\s+/).filter(Boolean);
Array.prototype.forEach.call(t.tBodies[0].rows,function(r){var s=r.textContent.toLowerCase();r.hidden=!w.every(function(x){return s.indexOf(x)>=0})})})});
`.replace(/\n/g, '');

/** A filter box for a table (hidden until the script runs, since without it it cannot work). */
export function filterBox(tableId: string, placeholder: string): string {
  return `<input class="filter" type="search" data-filter="${tableId}" placeholder="${esc(placeholder)}" aria-label="${esc(placeholder)}" hidden>`;
}

/**
 * A whole page. root is the relative path back to the site's top ('' or '../'), so links work
 * from disk and under any URL prefix.
 */
export function page(options: { title: string; file: string; root: string; generatedAt: Date; body: string; script?: string }): string {
  const nav = PAGES.map(
    ([href, label]) => `<a href="${options.root}${href}"${href === options.file ? ' aria-current="page"' : ''}>${label}</a>`,
  ).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}"><meta name="referrer" content="no-referrer">
<title>${esc(options.title)} · llm-bench</title><style>${CSS}</style></head>
<body><header><b>llm-bench</b><nav>${nav}</nav><span class="mut">generated ${when(options.generatedAt)}</span></header>
<main>${options.body}</main>
<footer>Static pages written by llm-bench after every sweep. Times are UTC; "–" means no data (never 0). Percentiles are nearest-rank (estimated, when MongoDB 7.0+ holds the data). A p50's 95 % interval is distribution-free, from order statistics (not given for estimated percentiles or long windows read from daily rollups); ${esc(TOO_FEW_RUNS_NOTE)}.</footer>
<script>${SCRIPT}${options.script ?? ''}</script></body></html>
`;
}
