// The discovery report (SPEC 11): catalog models we do not benchmark yet, newest first, each
// with a ready `models.ts add` command and, where it matches an OpenRouter entry, the price and
// context length; and `stats`, the catalog and models counts per provider.
import { PROVIDERS } from '../config.ts';
import { UsageError } from '../cli.ts';
import { isBenchmarked, type OpenRouterCatalogDoc, type ProviderCatalogDoc } from '../store/documents.ts';
import { indexOpenRouter, matchOpenRouter, modelKey } from './model-match.ts';
import { checkModelId } from '../models/rules.ts';
import type { Store } from '../store/store.ts';

const CLI = 'npm run models --';
const DAY_MS = 86_400_000;
export const DEFAULT_REPORT_DAYS = 7;
/** Models listed per provider and section before "… and N more". */
export const DEFAULT_REPORT_MAX = 20;

/** The providers that have a catalog (the mock provider and TinyFish's automations have none). */
export const CATALOG_PROVIDERS = PROVIDERS.filter((p) => p !== 'mock' && p !== 'tinyfish');

export interface OpenRouterInfo {
  id: string;
  name: string;
  /** USD per million prompt tokens; null when OpenRouter does not say. */
  promptPerMillion: number | null;
  completionPerMillion: number | null;
  contextLength: number | null;
}

export interface Candidate {
  provider: string;
  modelId: string;
  name: string | null;
  firstSeenAt: Date;
  openrouter: OpenRouterInfo | null;
  /** Other ids of the same model at this provider (dated snapshots, other routings). */
  alsoListedAs: string[];
  command: string;
}

export interface ProviderGroup {
  provider: string;
  /** At most `max` of them. */
  models: Candidate[];
  total: number;
  /**
   * When this provider's catalog was first fetched inside the window: then every model of it
   * counts as new because discovery only started looking, not because the model is new.
   */
  catalogFirstFetchedAt: Date | null;
}

export interface DiscoveryReport {
  generatedAt: Date;
  days: number;
  since: Date;
  provider: string | null;
  max: number;
  /** Catalog models first seen in the window, not in `models`. */
  newModels: ProviderGroup[];
  /** Catalog models seen before the window and still not in `models`. */
  notYetBenchmarked: ProviderGroup[];
  /** OpenRouter models first seen in the window that no fetched provider catalog lists. */
  openRouterOnly: { models: Array<OpenRouterInfo & { firstSeenAt: Date }>; total: number };
  /** New models in all sections, before --max: what the mail subject counts. */
  newCount: number;
  /** Catalog models left out because they cannot be benchmarked (model-rules, catalog metadata). */
  refusedCount: number;
  /** Catalog models left out as other ids of a model in `models` (e.g. a dated snapshot). */
  variantCount: number;
  /**
   * Catalogs in scope with no entry at all (OpenRouter's included): never fetched, or fetched
   * without a key, so "nothing new" would say nothing about them.
   */
  neverFetched: string[];
}

export interface ReportOptions {
  now?: Date;
  days?: number;
  provider?: string | null;
  max?: number;
}

/**
 * Why a catalog entry cannot be benchmarked, or null when it can: the rules of SPEC 5
 * (lib/models/rules.ts) and what the provider's own catalog says about the model.
 */
export function catalogRefusal(entry: Pick<ProviderCatalogDoc, 'provider' | 'model_id' | 'raw'>): string | null {
  const rule = checkModelId(entry.provider, entry.model_id);
  if (rule) return rule.reason;
  const raw = (typeof entry.raw === 'object' && entry.raw !== null ? entry.raw : {}) as Record<string, unknown>;
  const list = (v: unknown): string[] | null => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : null);
  switch (entry.provider) {
    case 'together':
      // Together's /models lists image, embedding, rerank, moderation, audio and base
      // ("language") models beside the chat ones.
      if (typeof raw.type === 'string' && raw.type !== 'chat') return `Together lists it as a ${raw.type} model, not chat`;
      break;
    case 'groq':
      if (raw.active === false) return 'Groq lists it as inactive';
      break;
    case 'fireworks':
      if (typeof raw.state === 'string' && raw.state !== 'READY') return `Fireworks lists it as ${raw.state}`;
      break;
    case 'bedrock': {
      if ('modelArn' in raw) {
        const out = list(raw.outputModalities);
        if (out && !out.includes('TEXT')) return `it outputs ${out.join(', ') || 'no text'}, not text`;
        if (raw.responseStreamingSupported === false) return 'Bedrock does not stream it';
        const inference = list(raw.inferenceTypesSupported);
        // Such models (Anthropic, newer Llama, Nova Premier, DeepSeek-R1…) are invoked through
        // their inference profile id, which the profile list brings in separately.
        if (inference && !inference.includes('ON_DEMAND')) return 'not invocable on demand by this id: use its inference profile id';
        const lifecycle = (raw.modelLifecycle ?? {}) as { status?: unknown };
        if (lifecycle.status === 'LEGACY') return 'Bedrock lists it as legacy';
      } else if (typeof raw.status === 'string' && raw.status !== 'ACTIVE') {
        return `the inference profile is ${raw.status}`;
      }
      break;
    }
    case 'vertex':
      if (!entry.model_id.toLowerCase().startsWith('gemini-')) {
        return "not a Gemini model: Google's other publisher models (Gemma, legacy PaLM, …) need their own endpoint deployment";
      }
      if (raw.launchStage === 'DEPRECATED') return 'Google lists it as deprecated';
      break;
  }
  return null;
}

/**
 * Builds the report from the store's catalogs and models.
 * @throws UsageError for an unknown provider or a bad days/max value.
 */
export async function buildDiscoveryReport(store: Store, options: ReportOptions = {}): Promise<DiscoveryReport> {
  const now = options.now ?? new Date();
  const days = options.days ?? DEFAULT_REPORT_DAYS;
  const max = options.max ?? DEFAULT_REPORT_MAX;
  const provider = options.provider ?? null;
  if (!(Number.isFinite(days) && days > 0)) throw new UsageError(`--days must be a positive number (got ${days})`);
  if (!(Number.isInteger(max) && max > 0)) throw new UsageError(`--max must be a positive integer (got ${max})`);
  if (provider !== null && !(CATALOG_PROVIDERS as readonly string[]).includes(provider)) {
    throw new UsageError(`Unknown provider '${provider}'. Providers with a catalog: ${CATALOG_PROVIDERS.join(', ')}`);
  }
  const since = new Date(now.getTime() - days * DAY_MS);

  const [catalog, openrouter, models] = await Promise.all([
    store.listProviderCatalog(),
    store.listOpenRouterCatalog(),
    store.listModels(),
  ]);
  const orIndex = indexOpenRouter(openrouter);

  // What we already have, per provider: exact ids (ignoring case, as models.ts add does) and
  // comparison keys (so `gpt-4o-2024-08-06` is not proposed when `gpt-4o` is benchmarked).
  const haveIds = new Set(models.map((m) => `${m.provider}\u0000${m.model_id.toLowerCase()}`));
  const haveKeys = new Set(models.map((m) => `${m.provider}\u0000${modelKey(m.model_id, m.provider)}`));

  let refusedCount = 0;
  let variantCount = 0;
  // One candidate per (provider, key): the other ids of the same model are listed with it.
  const byKey = new Map<string, ProviderCatalogDoc[]>();
  for (const doc of catalog) {
    if (provider !== null && doc.provider !== provider) continue;
    if (haveIds.has(`${doc.provider}\u0000${doc.model_id.toLowerCase()}`)) continue;
    if (catalogRefusal(doc)) {
      refusedCount++;
      continue;
    }
    const key = `${doc.provider}\u0000${modelKey(doc.model_id, doc.provider) || doc.model_id.toLowerCase()}`;
    if (haveKeys.has(key)) {
      variantCount++;
      continue;
    }
    const same = byKey.get(key);
    if (same) same.push(doc);
    else byKey.set(key, [doc]);
  }

  const fresh: Candidate[] = [];
  const older: Candidate[] = [];
  for (const docs of byKey.values()) {
    docs.sort((a, b) => rank(a) - rank(b) || a.model_id.length - b.model_id.length || cmp(a.model_id, b.model_id));
    const main = docs[0]!;
    // A model is as new as the first of its ids: a new snapshot of a model the catalog has
    // listed for months is not news.
    const firstSeenAt = new Date(Math.min(...docs.map((d) => d.first_seen_at.getTime())));
    const match = matchOpenRouter(orIndex, { provider: main.provider, id: main.model_id });
    const candidate: Candidate = {
      provider: main.provider,
      modelId: main.model_id,
      name: main.name,
      firstSeenAt,
      openrouter: match ? openRouterInfo(match) : null,
      alsoListedAs: docs.slice(1).map((d) => d.model_id),
      command: addCommand(main.provider, main.model_id, main.name),
    };
    (firstSeenAt >= since ? fresh : older).push(candidate);
  }
  fresh.sort((a, b) => b.firstSeenAt.getTime() - a.firstSeenAt.getTime() || cmp(a.provider, b.provider) || cmp(a.modelId, b.modelId));
  // Older ones: those OpenRouter also lists (the models people use) first, newest first.
  older.sort(
    (a, b) =>
      Number(b.openrouter !== null) - Number(a.openrouter !== null) ||
      b.firstSeenAt.getTime() - a.firstSeenAt.getTime() ||
      cmp(a.modelId, b.modelId),
  );

  const firstFetch = new Map<string, Date>();
  for (const doc of catalog) {
    const t = firstFetch.get(doc.provider);
    if (!t || doc.first_seen_at < t) firstFetch.set(doc.provider, doc.first_seen_at);
  }
  const group = (list: Candidate[]): ProviderGroup[] => {
    const groups = new Map<string, Candidate[]>();
    for (const c of list) groups.set(c.provider, [...(groups.get(c.provider) ?? []), c]);
    return [...groups.entries()]
      .sort(([a], [b]) => providerOrder(a) - providerOrder(b))
      .map(([p, all]) => {
        const first = firstFetch.get(p) ?? null;
        return { provider: p, models: all.slice(0, max), total: all.length, catalogFirstFetchedAt: first && first >= since ? first : null };
      });
  };

  // New on OpenRouter but listed by no provider catalog we fetched (nor benchmarked): news,
  // without an add command. Left out with --provider.
  const orOnly: Array<OpenRouterInfo & { firstSeenAt: Date }> = [];
  if (provider === null) {
    const known = new Set([...catalog.map((d) => modelKey(d.model_id, d.provider)), ...models.map((m) => modelKey(m.model_id, m.provider))]);
    for (const [key, entry] of orIndex) {
      if (entry.first_seen_at < since || known.has(key)) continue;
      // OpenRouter's own router picks another model per request: not a model.
      if (entry.openrouter_id === 'openrouter/auto') continue;
      if (checkModelId('openrouter', entry.openrouter_id)) continue;
      orOnly.push({ ...openRouterInfo(entry), firstSeenAt: entry.first_seen_at });
    }
    orOnly.sort((a, b) => b.firstSeenAt.getTime() - a.firstSeenAt.getTime() || cmp(a.id, b.id));
  }

  return {
    generatedAt: now,
    days,
    since,
    provider,
    max,
    newModels: group(fresh),
    notYetBenchmarked: group(older),
    openRouterOnly: { models: orOnly.slice(0, max), total: orOnly.length },
    newCount: fresh.length + orOnly.length,
    refusedCount,
    variantCount,
    neverFetched: [...(provider === null ? ['openrouter'] : []), ...(provider === null ? CATALOG_PROVIDERS : [provider])].filter((p) =>
      p === 'openrouter' ? openrouter.length === 0 : !catalog.some((d) => d.provider === p),
    ),
  };
}

// Bedrock: the `us.` profile is the one SPEC 5 names; other geographies after it.
function rank(d: ProviderCatalogDoc): number {
  if (d.provider !== 'bedrock') return 0;
  return d.model_id.startsWith('us.') ? 0 : 1;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function providerOrder(p: string): number {
  const i = (CATALOG_PROVIDERS as readonly string[]).indexOf(p);
  return i === -1 ? CATALOG_PROVIDERS.length : i;
}

function openRouterInfo(e: OpenRouterCatalogDoc): OpenRouterInfo {
  return {
    id: e.openrouter_id,
    name: e.name,
    promptPerMillion: perMillion(e.pricing.prompt),
    completionPerMillion: perMillion(e.pricing.completion),
    contextLength: e.context_length,
  };
}

function perMillion(perToken: number | null): number | null {
  // Rounded to a millionth of a dollar: 0.000003 * 1e6 is 2.9999999999999996 in floating point.
  return perToken === null ? null : Math.round(perToken * 1e12) / 1e6;
}

/** A shell word: bare when it is only safe characters, else single-quoted. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9._:/@+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The ready command to start benchmarking a model. */
export function addCommand(provider: string, modelId: string, name: string | null = null): string {
  const display = name && name !== modelId ? ` --display-name ${shellWord(name)}` : '';
  return `${CLI} add ${provider} ${shellWord(modelId)}${display}`;
}

const USD = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 });
const INT = new Intl.NumberFormat('en-US');

function price(v: number | null): string {
  if (v === null) return '?';
  return v === 0 ? 'free' : `$${USD.format(v)}`;
}

function describeOpenRouter(o: OpenRouterInfo): string {
  const cost =
    o.promptPerMillion === null && o.completionPerMillion === null
      ? 'price unknown'
      : `${price(o.promptPerMillion)} / ${price(o.completionPerMillion)} per M tokens (prompt / completion)`;
  const ctx = o.contextLength === null ? 'context unknown' : `${INT.format(o.contextLength)} context`;
  return `${o.id}: ${cost}, ${ctx}`;
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function renderGroups(groups: ProviderGroup[], report: DiscoveryReport, lines: string[]): void {
  for (const g of groups) {
    lines.push('', `${g.provider} (${g.total})`);
    if (g.catalogFirstFetchedAt) {
      lines.push(`  (catalog first fetched ${day(g.catalogFirstFetchedAt)}: all of its models count as new this time)`);
    }
    for (const c of g.models) {
      lines.push(`  ${c.modelId}${c.name && c.name !== c.modelId ? ` "${c.name}"` : ''}  first seen ${day(c.firstSeenAt)}`);
      lines.push(`    ${c.openrouter ? `openrouter ${describeOpenRouter(c.openrouter)}` : 'openrouter: no matching entry'}`);
      if (c.alsoListedAs.length) lines.push(`    also listed as: ${c.alsoListedAs.join(', ')}`);
      lines.push(`    ${c.command}`);
    }
    if (g.total > g.models.length) {
      lines.push(`  … and ${g.total - g.models.length} more: discovery.ts report --provider ${g.provider} --max ${g.total}${report.days !== DEFAULT_REPORT_DAYS ? ` --days ${report.days}` : ''}`);
    }
  }
}

/** The report as a mail subject and plain text (also what `report` prints). */
export function formatDiscoveryReport(report: DiscoveryReport): { subject: string; text: string } {
  const subject = `[INFO] llm-bench discovery: ${report.newCount} new model${report.newCount === 1 ? '' : 's'}`;
  const newProvider = report.newModels.reduce((n, g) => n + g.total, 0);
  const olderTotal = report.notYetBenchmarked.reduce((n, g) => n + g.total, 0);
  const scope = report.provider ? ` for ${report.provider}` : '';
  const lines: string[] = [
    `llm-bench discovery report${scope}, ${report.generatedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    `Window: the last ${report.days} day${report.days === 1 ? '' : 's'} (since ${day(report.since)}).`,
  ];
  const inScope = report.provider ? 1 : CATALOG_PROVIDERS.length + 1;
  if (report.neverFetched.length === inScope) {
    // Nothing was ever looked at: "nothing new" would be a claim about catalogs nobody read.
    lines.push('', `No catalog has been fetched yet${scope}: run npm run discovery -- fetch first (OpenRouter's list needs no key; each provider's needs its key).`);
  } else if (report.newCount === 0) {
    lines.push('', `Nothing new: no catalog model first seen in the window that we do not benchmark${scope}.`);
  } else {
    lines.push(
      '',
      `${newProvider} new model${newProvider === 1 ? '' : 's'} in provider catalogs to consider` +
        (report.provider ? '' : `, ${report.openRouterOnly.total} new on OpenRouter only`) +
        '.',
    );
  }
  if (newProvider > 0) {
    lines.push('', `== New in provider catalogs (first seen since ${day(report.since)}) ==`);
    renderGroups(report.newModels, report, lines);
  }
  if (report.openRouterOnly.total > 0) {
    lines.push('', '== New on OpenRouter, listed by no provider catalog we fetch ==');
    for (const o of report.openRouterOnly.models) lines.push(`  ${describeOpenRouter(o)}  first seen ${day(o.firstSeenAt)}`);
    if (report.openRouterOnly.total > report.openRouterOnly.models.length) {
      lines.push(`  … and ${report.openRouterOnly.total - report.openRouterOnly.models.length} more (--max ${report.openRouterOnly.total})`);
    }
  }
  if (olderTotal > 0) {
    lines.push('', `== Not benchmarked yet, in the catalogs since before ${day(report.since)} ==`);
    renderGroups(report.notYetBenchmarked, report, lines);
  }
  const left: string[] = [];
  if (report.refusedCount) left.push(`${report.refusedCount} that cannot be benchmarked (embeddings, speech, image, guard, legacy, …)`);
  if (report.variantCount) {
    const one = report.variantCount === 1;
    left.push(`${report.variantCount} other id${one ? ' of a model' : 's of models'} we already have (snapshots, other routings)`);
  }
  if (left.length) lines.push('', `Left out: ${left.join('; ')}.`);
  if (report.neverFetched.length > 0 && report.neverFetched.length < inScope) {
    lines.push('', `Never fetched (no entry stored; a provider without its key is skipped by fetch): ${report.neverFetched.join(', ')}.`);
  }
  return { subject, text: `${lines.join('\n')}\n` };
}

export interface ProviderStats {
  provider: string;
  catalog: number;
  /** Rows in `models`, whatever their state. */
  models: number;
  /** Enabled and not deprecated: what the sweep benchmarks. */
  enabled: number;
  disabled: number;
  deprecated: number;
  /** Catalog entries first seen in the last 7 days. */
  newThisWeek: number;
  /** When the catalog was last fetched successfully (latest last_seen_at). */
  lastFetched: Date | null;
}

/** Counts per provider (OpenRouter first), for `discovery.ts stats`. */
export async function buildDiscoveryStats(store: Store, options: { now?: Date } = {}): Promise<ProviderStats[]> {
  const now = options.now ?? new Date();
  const weekAgo = new Date(now.getTime() - 7 * DAY_MS);
  const [catalog, openrouter, models] = await Promise.all([store.listProviderCatalog(), store.listOpenRouterCatalog(), store.listModels()]);
  const rows = new Map<string, ProviderStats>();
  const row = (p: string): ProviderStats => {
    let r = rows.get(p);
    if (!r) {
      r = { provider: p, catalog: 0, models: 0, enabled: 0, disabled: 0, deprecated: 0, newThisWeek: 0, lastFetched: null };
      rows.set(p, r);
    }
    return r;
  };
  const seen = (r: ProviderStats, first: Date, last: Date) => {
    r.catalog++;
    if (first >= weekAgo) r.newThisWeek++;
    if (!r.lastFetched || last > r.lastFetched) r.lastFetched = last;
  };
  row('openrouter');
  for (const e of openrouter) seen(row('openrouter'), e.first_seen_at, e.last_seen_at);
  for (const d of catalog) seen(row(d.provider), d.first_seen_at, d.last_seen_at);
  for (const m of models) {
    const r = row(m.provider);
    r.models++;
    if (isBenchmarked(m)) r.enabled++;
    else if (m.deprecated) r.deprecated++;
    else r.disabled++;
  }
  const order = (p: string) => (p === 'openrouter' ? -1 : providerOrder(p));
  return [...rows.values()].sort((a, b) => order(a.provider) - order(b.provider) || cmp(a.provider, b.provider));
}

/** The stats as an aligned table. */
export function formatDiscoveryStats(stats: ProviderStats[]): string {
  const header = ['provider', 'catalog', 'new 7d', 'models', 'enabled', 'disabled', 'deprecated', 'last fetched'];
  const dash = (r: ProviderStats, n: number) => (r.provider === 'openrouter' ? '–' : String(n));
  const table = stats.map((r) => [
    r.provider,
    String(r.catalog),
    String(r.newThisWeek),
    dash(r, r.models),
    dash(r, r.enabled),
    dash(r, r.disabled),
    dash(r, r.deprecated),
    r.lastFetched ? r.lastFetched.toISOString().slice(0, 16).replace('T', ' ') : 'never',
  ]);
  const all = [header, ...table];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  return all
    .map((row) => row.map((cell, i) => (i === 0 || i === row.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}
