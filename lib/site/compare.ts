// The compare page: up to five models' median TTFT and tokens/s per 6 hours over 7 days, on
// shared axes. Every model's lines are in the page on one fixed log axis (the range of all of
// them), so the little script only shows the chosen ones and colours them; without it the page
// shows the five models with the most runs.
import type { MetricPoint } from '../store/store.ts';
import { plural } from '../plural.ts';
import { esc, page, when } from './html.ts';
import { HOUR_MS, PUBLISHED, modelKey, type SiteData } from './data.ts';
import { modelLink } from './blocks.ts';
import { bucketPercentile, dayAxis, legendKey, timeChart, type ChartSeries, type Series } from './svg.ts';

export const MAX_COMPARED = 5;
const BUCKET_MS = 6 * HOUR_MS;
const SLOT_COLORS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#d55e00'];

interface Compared {
  key: string;
  provider: string;
  model: string;
  successes: number;
  ttft: Series;
  tps: Series;
}

/** The picker's value of a model: provider/model, as the URL's hash lists them. */
const pickKey = (provider: string, model: string) => `${provider}/${model}`;

export function comparePage(data: SiteData, pointsByModel: Map<string, MetricPoint[]>): string {
  const window = { since: data.week.since.getTime(), until: data.week.until.getTime(), bucketMs: BUCKET_MS, p: 50 };
  const models: Compared[] = data.kpis7d.models
    .filter((r) => r.scenario === PUBLISHED && r.successes > 0)
    .map((r) => {
      const mine = (pointsByModel.get(modelKey(r.provider!, r.model_name!)) ?? []).filter((p) => p.scenario === PUBLISHED);
      return {
        key: pickKey(r.provider!, r.model_name!),
        provider: r.provider!,
        model: r.model_name!,
        successes: r.successes,
        ttft: bucketPercentile(mine.map((p) => ({ t: p.run_ts.getTime(), v: p.time_to_first_token })), window),
        tps: bucketPercentile(mine.map((p) => ({ t: p.run_ts.getTime(), v: p.tokens_per_second })), window),
      };
    });
  const chosen = [...models].sort((a, b) => b.successes - a.successes || (a.key < b.key ? -1 : 1)).slice(0, MAX_COMPARED).map((m) => m.key);
  const { n, xTicks } = dayAxis(window.since, window.until, BUCKET_MS);
  const chart = (id: string, title: string, caption: string, pick: (m: Compared) => Series) => {
    const all = models.flatMap((m) => pick(m).filter((v): v is number => v !== null && v > 0));
    const series = models.map((m): ChartSeries => {
      const slot = chosen.indexOf(m.key);
      return { label: m.key, values: pick(m), color: slot < 0 ? SLOT_COLORS[0]! : SLOT_COLORS[slot]!, attrs: ` data-key="${esc(m.key)}"${slot < 0 ? ' data-off=""' : ''}` };
    });
    return timeChart({ id, title, caption, n, xTicks, scale: 'log', series, empty: 'no successful run in these 7 days', range: all.length ? { min: Math.min(...all), max: Math.max(...all) } : undefined });
  };
  const byKey = new Map(models.map((m) => [m.key, m]));
  const legend = chosen
    .map((k, i) => `<li>${legendKey(SLOT_COLORS[i]!, null)}${modelLink(byKey.get(k)!.provider, byKey.get(k)!.model, '', data.displayNames)} <span class="sub">${esc(byKey.get(k)!.provider)}</span></li>`)
    .join('');
  const picker = [...models]
    .sort((a, b) => (a.key < b.key ? -1 : 1))
    .map((m) => `<label data-key="${esc(m.key)}"><input type="checkbox" value="${esc(m.key)}"${chosen.includes(m.key) ? ' checked' : ''}> ${esc(m.provider)} / ${esc(m.model)}</label>`)
    .join('');
  const body = `
<h1>Compare models</h1>
<p class="lede">Median time to first token and tokens/s per 6 hours of up to ${MAX_COMPARED} models, scenario <b>${PUBLISHED}</b> (the published one),
${when(data.week.since)} to ${when(data.week.until)}. Both charts share one logarithmic axis each across every model, so lines compare as they are.</p>
${models.length ? '' : `<p>No model has a successful run of ${PUBLISHED} in the last 7 days.</p>`}
<noscript><p class="mut">Without JavaScript the charts show the ${plural(chosen.length, 'model')} with the most runs.</p></noscript>
<ul class="legend" id="compare-legend">${legend}</ul>
<div class="charts" id="compare">
${chart('compare-ttft', 'Time to first token, s', '(p50 per 6 hours, log scale)', (m) => m.ttft)}
${chart('compare-tps', 'Tokens per second', '(p50 per 6 hours, log scale)', (m) => m.tps)}
</div>
<div id="picker" hidden data-colors="${esc(JSON.stringify(SLOT_COLORS))}">
<h2>Choose up to ${MAX_COMPARED} models</h2>
<p class="mut">The choice is kept in the address, so a comparison can be linked. <span id="pick-count"></span></p>
<input class="filter" type="search" id="pick-filter" placeholder="Filter: provider, model…" aria-label="Filter models">
<div class="picker">${picker}</div>
</div>`;
  return page({ title: 'Compare', file: 'compare.html', root: '', generatedAt: data.now, body, script: PICKER_SCRIPT });
}

// Shows the chosen models' lines in slot colours, keeps at most five chosen, and mirrors the
// choice in the URL's hash (#provider%2Fmodel&…), which it also reads on load.
const PICKER_SCRIPT = `
(function(){var box=document.getElementById('picker');if(!box)return;box.hidden=false;
var colors=JSON.parse(box.getAttribute('data-colors')),max=colors.length;
var inputs=Array.prototype.slice.call(box.querySelectorAll('input[type=checkbox]'));
var order=inputs.filter(function(i){return i.checked}).map(function(i){return i.value});
var want=location.hash.slice(1).split('&').filter(Boolean).map(function(s){try{return decodeURIComponent(s)}catch(e){return ''}});
var known=inputs.map(function(i){return i.value});want=want.filter(function(k){return known.indexOf(k)>=0}).slice(0,max);
if(want.length)order=want;
function draw(){
inputs.forEach(function(i){var at=order.indexOf(i.value);i.checked=at>=0;i.disabled=at<0&&order.length>=max;i.parentNode.style.borderLeft=at<0?'':'4px solid '+colors[at]});
document.querySelectorAll('#compare g.series').forEach(function(g){var at=order.indexOf(g.getAttribute('data-key'));if(at<0)g.setAttribute('data-off','');else{g.removeAttribute('data-off');g.style.color=colors[at]}});
var legend=document.getElementById('compare-legend');legend.textContent='';
order.forEach(function(k,at){var li=document.createElement('li');li.setAttribute('data-key',k);var s=document.createElement('span');s.className='swatch';s.style.background=colors[at];li.appendChild(s);li.appendChild(document.createTextNode(k));legend.appendChild(li)});
document.getElementById('pick-count').textContent=order.length+' of '+max+' chosen.';
history.replaceState(null,'','#'+order.map(encodeURIComponent).join('&'))}
inputs.forEach(function(i){i.addEventListener('change',function(){var at=order.indexOf(i.value);if(i.checked&&at<0&&order.length<max)order.push(i.value);if(!i.checked&&at>=0)order.splice(at,1);draw()})});
var f=document.getElementById('pick-filter');f.addEventListener('input',function(){var w=f.value.toLowerCase().split(/\\s+/).filter(Boolean);
inputs.forEach(function(i){var s=i.value.toLowerCase();i.parentNode.hidden=!w.every(function(x){return s.indexOf(x)>=0})})});
draw()})();
`.replace(/\n/g, '');
