// What `models.ts list` and `show` print: tables with headers and plain column names. The
// catalog may hold documents the Python system wrote (SPEC 4.0): `added_at` instead of
// `created_at`, upstream lifecycle fields (status, disabled_class, recheck_after,
// deprecation_reason), and providers llm-bench has no adapter for. All are shown as they are.
import { isProviderName } from '../config.ts';
import { formatPrice, formatUsd, type Price } from '../bench/cost.ts';
import { PUBLISHED_SCENARIO_ID, isBenchmarked, type ModelDoc } from '../store/documents.ts';
import type { ModelSpend } from '../store/store.ts';
import { formatAgentRunStats } from '../tinyfish/stats.ts';
import { textTable } from '../runs/format.ts';
import type { ModelRow, ShownModel } from './admin.ts';
import { formatAgentRunLine } from './scenarios.ts';

/** Fields the Python system's catalog documents may carry besides ours (upstream-documents.md 2.4). */
interface UpstreamModelFields {
  added_at?: unknown;
  status?: unknown;
  disabled_class?: unknown;
  recheck_after?: unknown;
  deprecation_reason?: unknown;
}

type AnyModel = ModelDoc & UpstreamModelFields;

/** When the model was added: created_at, or added_at on documents seeded upstream; null when neither. */
export function addedAt(m: ModelDoc): Date | null {
  const doc = m as AnyModel;
  return asDate(doc.created_at) ?? asDate(doc.added_at);
}

function asDate(v: unknown): Date | null {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v;
  if (typeof v === 'string' || typeof v === 'number') {
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  return null;
}

/** The upstream lifecycle fields a document carries, as "status probation, disabled class auth, …"; '' when none. */
export function upstreamLifecycle(m: ModelDoc): string {
  const doc = m as AnyModel;
  const parts: string[] = [];
  if (typeof doc.status === 'string' && doc.status) parts.push(`status ${doc.status}`);
  if (typeof doc.disabled_class === 'string' && doc.disabled_class) parts.push(`disabled class ${doc.disabled_class}`);
  const recheck = asDate(doc.recheck_after);
  if (recheck) parts.push(`recheck after ${recheck.toISOString().slice(0, 16).replace('T', ' ')}`);
  if (typeof doc.deprecation_reason === 'string' && doc.deprecation_reason) parts.push(`deprecated because ${doc.deprecation_reason}`);
  return parts.join(', ');
}

/** enabled, disabled: why, deprecated → successor; a provider without an adapter is listed only. */
export function modelState(m: ModelDoc): string {
  if (!isProviderName(m.provider)) return 'listed only (no adapter)';
  if (isBenchmarked(m)) return 'enabled';
  if (m.deprecated) return m.successor_model ? `deprecated → ${m.successor_model}` : 'deprecated';
  return m.disabled_reason ? `disabled: ${m.disabled_reason}` : 'disabled';
}

export function ago(d: Date | null, now: number): string {
  if (!d) return 'never';
  const minutes = Math.round((now - d.getTime()) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h ago`;
  return `${Math.round(minutes / 1440)} d ago`;
}

/** "$0.59 / $0.79" per million tokens in / out, * when from the OpenRouter catalog; "unknown". */
function priceCell(p: Price | null | undefined): string {
  if (!p) return 'unknown';
  const n = (x: number) => `$${Number(x.toPrecision(4))}`;
  return `${n(p.input)} / ${n(p.output)}${p.source === 'openrouter' ? ' *' : ''}`;
}

function spendCell(s: ModelSpend | null | undefined): string {
  if (!s) return '$0';
  return `${formatUsd(s.cost_usd)}${s.unpriced_calls ? ` (+${s.unpriced_calls} unpriced)` : ''}`;
}

function clip(s: string, max: number): string {
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** `models.ts list`: one row per model under a header; what to do when there is none. */
export function formatModelList(rows: ModelRow[], o: { hidden: number; now: number }): string {
  if (rows.length === 0) {
    if (o.hidden > 0) {
      return `No enabled models; ${o.hidden} ${o.hidden === 1 ? 'is' : 'are'} disabled or deprecated: see ${o.hidden === 1 ? 'it' : 'them'} with --all, ` +
        'then npm run models -- enable P ID (or undeprecate P ID), or add another model: npm run models -- add P ID';
    }
    return 'No models yet. Add one: npm run models -- add openai gpt-4o-mini';
  }
  const upstream = rows.map((r) => upstreamLifecycle(r.model));
  const withUpstream = upstream.some(Boolean);
  const header = ['provider', 'model', 'state', 'last success', 'price in / out per 1M tokens', 'spent 24 h', ...(withUpstream ? ['upstream lifecycle'] : []), 'last error'];
  const table = rows.map((r, i) => [
    r.model.provider,
    r.model.model_id,
    modelState(r.model),
    ago(r.lastSuccess, o.now),
    priceCell(r.price),
    spendCell(r.spend24h),
    ...(withUpstream ? [upstream[i] || '-'] : []),
    r.lastError ? `${ago(r.lastError.ts, o.now)}, ${r.lastError.error_kind}: ${clip(r.lastError.message, 80)}` : '-',
  ]);
  const lines = [textTable(header, table, new Set())];
  if (rows.some((r) => r.price?.source === 'openrouter')) {
    lines.push("* OpenRouter's price for the model (this provider may charge otherwise): set misc.price for its own");
  }
  return lines.join('\n');
}

/** `models.ts show`: the model's fields as labelled lines, then its recent results and errors as tables. */
export function formatModelShow(s: ShownModel, provider: string, modelId: string): string {
  const m = s.model;
  const fields: Array<[string, string]> = [];
  if (m) {
    fields.push(['state', modelState(m)]);
    const added = addedAt(m);
    fields.push(['added', added ? added.toISOString() : 'unknown']);
    if (m.disabled_at) fields.push(['disabled', m.disabled_at.toISOString()]);
    if (m.deprecation_date) fields.push(['deprecation date', m.deprecation_date]);
    const upstream = upstreamLifecycle(m);
    if (upstream) fields.push(['upstream lifecycle', upstream]);
    if (m.misc && Object.keys(m.misc).length) fields.push(['misc', JSON.stringify(m.misc)]);
  } else {
    fields.push(['state', 'not in the models catalog (results from ad-hoc runs such as bench-once --models)']);
  }
  if (!isProviderName(provider)) fields.push(['benchmarked', `never: llm-bench has no adapter for ${provider}`]);
  fields.push(['price', s.price ? formatPrice(s.price) : 'unknown (set misc.price, or run discovery for the OpenRouter catalog)']);
  const calls = (s.spend24h?.priced_calls ?? 0) + (s.spend24h?.unpriced_calls ?? 0);
  fields.push(['spent, last 24 h', `${spendCell(s.spend24h)} over ${calls} ${calls === 1 ? 'call' : 'calls'}`]);
  const width = Math.max(...fields.map(([k]) => k.length));
  const lines = [`${provider}/${modelId}${m?.display_name ? ` (${m.display_name})` : ''}`, ...fields.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)];

  // A TinyFish automation's results are agent runs, not metrics.
  if (s.agentRuns) {
    lines.push('', `Agent runs, last 7 days:${s.agentStats!.length ? '' : ' none'}`);
    for (const st of s.agentStats!) lines.push(`  ${st.scenario_id}: ${formatAgentRunStats(st)}`);
    lines.push('', `Recent agent runs (${s.agentRuns.length}):`);
    for (const r of s.agentRuns) lines.push(`  ${formatAgentRunLine(r)}`);
    return lines.join('\n');
  }
  lines.push('', `Recent results (${s.metrics.length}):`);
  if (s.metrics.length) {
    const rows = s.metrics.map((r) => [
      r.run_ts.toISOString().slice(0, 19).replace('T', ' '),
      r.time_to_first_token === null ? '-' : r.time_to_first_token.toFixed(3),
      r.tokens_per_second.toFixed(1),
      String(r.output_tokens),
      r.benchmark_profile_id ?? PUBLISHED_SCENARIO_ID,
    ]);
    lines.push(indent(textTable(['time (UTC)', 'TTFT s', 'tokens/s', 'tokens', 'scenario'], rows, new Set([1, 2, 3]))));
  }
  lines.push('', `Recent errors (${s.errors.length}):`);
  if (s.errors.length) {
    const rows = s.errors.map((e) => [e.ts.toISOString().slice(0, 19).replace('T', ' '), e.stage, e.error_kind ?? 'unknown', clip(e.message, 160)]);
    lines.push(indent(textTable(['time (UTC)', 'stage', 'kind', 'message'], rows, new Set())));
  }
  return lines.join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
