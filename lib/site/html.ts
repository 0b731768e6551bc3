// The page shell and cell helpers of the status site. Every page is self-contained: inline CSS,
// a Content-Security-Policy that forbids any request (so nothing can leave, even opened from
// disk), and a little inline script that sorts and filters tables; without it the tables are
// still complete and in a sensible order.

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
main{padding:.8rem 1rem;max-width:1400px}h1{font-size:1.3rem;margin:.2rem 0 .6rem}h2{font-size:1.05rem;margin:1.4rem 0 .5rem}
a{color:var(--acc)}.mut{color:var(--mut)}.bad{color:var(--bad)}.ok{color:var(--ok)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:.6rem}
.card{border:1px solid var(--line);border-radius:6px;padding:.5rem .7rem;background:var(--alt)}.card .k{color:var(--mut);font-size:.8rem}.card .v{font-size:1.25rem;font-weight:600}.card .s{color:var(--mut);font-size:.8rem}
.wrap{overflow-x:auto;border:1px solid var(--line);border-radius:6px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}th,td{padding:.3rem .5rem;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap;vertical-align:top}
th{background:var(--alt);position:sticky;top:0;cursor:pointer;user-select:none}th.n,td.n{text-align:right}th[aria-sort=ascending]::after{content:" ▲"}th[aria-sort=descending]::after{content:" ▼"}
td.msg{white-space:normal;min-width:20rem;max-width:48rem;word-break:break-word}
tr.mock td{background:var(--mock)}.mock-badge{display:inline-block;margin-left:.3rem;padding:0 .3rem;border-radius:3px;font-size:.75rem;background:#d4a72c;color:#000}
.filter{margin:.4rem 0;padding:.3rem .5rem;width:min(24rem,100%);font:inherit}
svg.spark{vertical-align:middle}svg.spark path{fill:none;stroke:var(--acc);stroke-width:1.5;stroke-linejoin:round;stroke-linecap:round}
figure{margin:.5rem 0 1rem}figcaption{color:var(--mut);font-size:.85rem}svg.chart{width:100%;max-width:720px;height:auto;display:block}
svg.chart text{font-size:11px;fill:var(--mut)}svg.chart .grid{stroke:var(--line)}svg.chart path{fill:none;stroke-width:1.8;stroke-linejoin:round;stroke-linecap:round}
svg.chart .p50,.l50{stroke:var(--acc);color:var(--acc)}svg.chart .p95,.l95{stroke:#bf8700;color:#bf8700;stroke-dasharray:4 3}
footer{padding:1rem;color:var(--mut);font-size:.8rem}
.pub-badge{display:inline-block;margin-left:.3rem;padding:0 .3rem;border-radius:3px;font-size:.75rem;background:var(--ok);color:#fff}tr.off td{color:var(--mut)}td.txt{white-space:normal;min-width:12rem;max-width:28rem;word-break:break-word}
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
export function page(options: { title: string; file: string; root: string; generatedAt: Date; body: string }): string {
  const nav = PAGES.map(
    ([href, label]) => `<a href="${options.root}${href}"${href === options.file ? ' aria-current="page"' : ''}>${label}</a>`,
  ).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}"><meta name="referrer" content="no-referrer">
<title>${esc(options.title)} · llm-bench</title><style>${CSS}</style></head>
<body><header><b>llm-bench</b><nav>${nav}</nav><span class="mut">generated ${when(options.generatedAt)}</span></header>
<main>${options.body}</main>
<footer>Static pages written by llm-bench after every sweep. Times are UTC; "–" means no data (never 0). Percentiles are nearest-rank (estimated, when MongoDB 7.0+ holds the data).</footer>
<script>${SCRIPT}</script></body></html>
`;
}
