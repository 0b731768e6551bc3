// The assessment at the top of the daily mail (SPEC 10): an LLM reads the report and answers
// in a strict JSON schema through OpenAI's Responses API. It is an extra, never a
// dependency: without a key, or when the call fails or answers off-schema, a rule-based
// status stands in and the mail says the assessment is missing and why.
import OpenAI from 'openai';
import { z } from 'zod';
import type { Config } from '../config.ts';
import { classifyError } from '../errors.ts';
import type { HealthReport } from './report.ts';
import { redact } from '../log.ts';

export const OVERALL_STATUSES = ['healthy', 'warning', 'critical'] as const;
export type OverallStatus = (typeof OVERALL_STATUSES)[number];

/** A provider failing at least this share of its calls makes the rule-based status critical. */
export const CRITICAL_ERROR_RATE = 0.5;
const DEFAULT_TIMEOUT_MS = 60_000;
// Room for reasoning models (HEALTH_CHECK_MODEL=gpt-5-mini spends tokens thinking first).
const MAX_OUTPUT_TOKENS = 4000;
// Caps on what the model is shown, so a bad day with hundreds of failing models stays a
// prompt of a few tens of kilobytes.
const LIST_CAP = 40;
const MESSAGE_CAP = 300;

/** The JSON schema the model must answer in (Structured Outputs, strict: every field required, nothing else allowed). */
export const ASSESSMENT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['overall_status', 'summary', 'models_likely_deprecated', 'code_fixes_needed', 'provider_issues', 'recommended_actions'],
  properties: {
    overall_status: { type: 'string', enum: [...OVERALL_STATUSES] },
    summary: { type: 'string', description: 'Two to four sentences for the operator.' },
    models_likely_deprecated: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['provider', 'model', 'reason'],
        properties: { provider: { type: 'string' }, model: { type: 'string' }, reason: { type: 'string' } },
      },
    },
    code_fixes_needed: { type: 'array', items: { type: 'string' } },
    provider_issues: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['provider', 'issue'],
        properties: { provider: { type: 'string' }, issue: { type: 'string' } },
      },
    },
    recommended_actions: { type: 'array', items: { type: 'string' } },
  },
} as const;

// The same contract, checked on our side: strict mode is the provider's promise, not ours.
const AnswerSchema = z.strictObject({
  overall_status: z.enum(OVERALL_STATUSES),
  summary: z.string().min(1),
  models_likely_deprecated: z.array(z.strictObject({ provider: z.string(), model: z.string(), reason: z.string() })),
  code_fixes_needed: z.array(z.string()),
  provider_issues: z.array(z.strictObject({ provider: z.string(), issue: z.string() })),
  recommended_actions: z.array(z.string()),
});
export type AssessmentAnswer = z.infer<typeof AnswerSchema>;

export interface RuleStatus {
  status: OverallStatus;
  /** Why, one short sentence each; empty when healthy. */
  reasons: string[];
}

export interface Assessment extends AssessmentAnswer {
  source: 'llm' | 'rules';
  /** The model that answered (source llm). */
  model: string | null;
  /** Why there is no LLM assessment (source rules), else null. */
  missing_reason: string | null;
  /** The rule-based status, always computed. */
  rules: RuleStatus;
}

export interface AssessOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

const SYSTEM_PROMPT = `You review the daily health report of llm-bench, a service that benchmarks hosted LLM APIs (time to first token, tokens per second, failures) for every enabled model of every configured provider, once per sweep period.
Answer in the given JSON schema:
- overall_status: "critical" when a provider fails for most calls, credentials or billing fail, or nothing was measured; "warning" for speed regressions, stale models, models that only fail, or new kinds of errors that need a look; "healthy" otherwise. The rule_based_status field is what simple rules concluded; you may disagree with reason.
- summary: two to four plain sentences for the operator.
- models_likely_deprecated: only models named in the report whose errors say they were retired, removed or not found.
- code_fixes_needed: errors that look like a fault in the benchmark client (a parameter or API the model does not accept) rather than in the provider.
- provider_issues: per provider, what is wrong on their side (outages, rate limits, slowdowns).
- recommended_actions: short imperative lines. To stop benchmarking a model write \`npm run models -- disable PROVIDER MODEL --reason "WHY"\`; for a model replaced by another, \`npm run models -- deprecate PROVIDER MODEL --successor NEW_MODEL\`. Use only provider and model ids from the report.`;

/** The status simple rules give the report: critical, warning or healthy, with the reasons. */
export function ruleBasedStatus(report: HealthReport): RuleStatus {
  const critical: string[] = [];
  const warning: string[] = [];
  if (report.totals.successes + report.totals.errors === 0) {
    critical.push('no benchmark call was recorded in the window: are the sweeps running?');
  }
  for (const p of report.providers) {
    if (p.error_rate !== null && p.error_rate >= CRITICAL_ERROR_RATE && p.errors > 0) {
      critical.push(`${p.provider} failed ${percent(p.error_rate)} of ${p.successes + p.errors} calls`);
    }
  }
  for (const k of report.errors_by_kind) {
    if (k.error_kind === 'auth' || k.error_kind === 'billing') {
      critical.push(`${k.count} ${k.error_kind} error${k.count === 1 ? '' : 's'} from ${k.provider}`);
    }
  }
  const n = (count: number, what: string) => `${count} ${what}${count === 1 ? '' : 's'}`;
  if (report.regressions.length > 0) warning.push(n(report.regressions.length, 'speed regression'));
  if (report.stale_models.length > 0) warning.push(n(report.stale_models.length, 'stale model'));
  if (report.only_errors.length > 0) warning.push(n(report.only_errors.length, 'model') + ' with only errors');
  if (report.new_fingerprints.length > 0) warning.push(n(report.new_fingerprints.length, 'new error fingerprint'));
  // TinyFish runs: a key or credits problem stops every run; an automation that never completed needs a look.
  for (const r of report.agent_runs ?? []) {
    for (const kind of ['auth', 'billing'] as const) {
      const count = r.failures_by_kind[kind] ?? 0;
      if (count > 0) critical.push(`${n(count, `${kind} error`)} from tinyfish/${r.automation}`);
    }
  }
  const stuck = (report.agent_runs ?? []).filter((r) => r.runs > 0 && r.completed === 0);
  if (stuck.length > 0) warning.push(`${n(stuck.length, 'TinyFish automation')} with no completed run (${stuck.map((r) => `${r.automation} in ${r.scenario_id}`).join(', ')})`);
  // A skipped model has no fresh numbers on the dashboard: the operator raises the budget or prices it.
  const skipped = report.budget_skips ?? [];
  if (skipped.length > 0) warning.push(`${n(skipped.length, 'model')} not started for the daily budget`);
  if (critical.length > 0) return { status: 'critical', reasons: [...critical, ...warning] };
  if (warning.length > 0) return { status: 'warning', reasons: warning };
  return { status: 'healthy', reasons: [] };
}

/** The rule-based assessment, with a line saying why the LLM one is missing. */
export function ruleBasedAssessment(report: HealthReport, missingReason: string): Assessment {
  const rules = ruleBasedStatus(report);
  return {
    source: 'rules',
    model: null,
    missing_reason: missingReason,
    rules,
    overall_status: rules.status,
    summary: rules.reasons.length > 0 ? `Rule-based status ${rules.status}: ${rules.reasons.join('; ')}.` : 'Rule-based status healthy: nothing needs attention.',
    models_likely_deprecated: [],
    code_fixes_needed: [],
    provider_issues: [],
    recommended_actions: report.suggested_commands.map((c) => c.command),
  };
}

/**
 * Asks config.health.model for an assessment of the report. Never throws: any failure
 * (no OPENAI_API_KEY, HTTP error, timeout, refusal, incomplete or off-schema answer) gives
 * the rule-based assessment with missing_reason saying what happened.
 */
export async function assessHealth(report: HealthReport, config: Config, options: AssessOptions = {}): Promise<Assessment> {
  const { apiKey, baseUrl } = config.providers.openai;
  if (!apiKey) return ruleBasedAssessment(report, 'OPENAI_API_KEY is not set');
  const model = config.health.model;
  const rules = ruleBasedStatus(report);
  let text: string;
  try {
    const client = new OpenAI({ apiKey, baseURL: baseUrl, maxRetries: 0, timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
    const response = await client.responses.create(
      {
        model,
        instructions: SYSTEM_PROMPT,
        input: redact(JSON.stringify(promptPayload(report, rules))),
        max_output_tokens: MAX_OUTPUT_TOKENS,
        store: false,
        text: { format: { type: 'json_schema', name: 'health_assessment', strict: true, schema: ASSESSMENT_SCHEMA } },
      },
      options.signal ? { signal: options.signal } : undefined,
    );
    if (response.status && response.status !== 'completed') {
      const why = response.incomplete_details?.reason ?? response.error?.message ?? 'no reason given';
      return ruleBasedAssessment(report, `${model} answered with status ${response.status} (${why})`);
    }
    const refusal = response.output
      .flatMap((o) => (o.type === 'message' ? o.content : []))
      .find((c) => c.type === 'refusal');
    if (refusal) return ruleBasedAssessment(report, `${model} refused: ${clip(refusal.refusal)}`);
    text = response.output_text;
  } catch (err) {
    const c = classifyError(err);
    const status = c.httpStatus ? `HTTP ${c.httpStatus}, ` : '';
    return ruleBasedAssessment(report, `the call to ${model} failed (${status}${c.kind}): ${clip(c.detail)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return ruleBasedAssessment(report, `${model} answered with something that is not JSON: ${clip(text)}`);
  }
  const answer = AnswerSchema.safeParse(parsed);
  if (!answer.success) {
    return ruleBasedAssessment(report, `${model} answered off-schema: ${clip(z.prettifyError(answer.error))}`);
  }
  // The rules are a floor for critical only: a model must not talk a provider failing half
  // its calls, or a dead key, down to a quiet [INFO] mail. Below critical the model's
  // judgement wins, which is the point of asking it (a new fingerprint is not always news).
  const overall = rules.status === 'critical' ? 'critical' : answer.data.overall_status;
  return {
    ...answer.data,
    overall_status: overall,
    source: 'llm',
    model,
    missing_reason: null,
    rules,
  };
}

/** What the model is shown: the report's sections, capped, with times as ISO strings. */
export function promptPayload(report: HealthReport, rules: RuleStatus): Record<string, unknown> {
  const cap = <T>(xs: T[]) => ({ items: xs.slice(0, LIST_CAP), total: xs.length });
  return {
    window: { since: report.window.since, until: report.window.until, days: report.window.days },
    rule_based_status: rules,
    totals: report.totals,
    providers: report.providers,
    errors_by_kind: report.errors_by_kind,
    failing_models: cap(
      report.failing_models.map((m) => ({
        provider: m.provider,
        model: m.model_name,
        errors: m.errors,
        successes: m.successes,
        error_kinds: m.error_kinds,
        last_stage: m.last_stage,
        last_message: clip(m.last_message),
      })),
    ),
    new_fingerprints: cap(
      report.new_fingerprints.map((f) => ({
        provider: f.provider,
        model: f.model_name,
        stage: f.stage,
        kind: f.error_kind,
        count: f.count,
        first_seen: f.first_seen,
        message: clip(f.sample_message),
      })),
    ),
    stale_models: cap(report.stale_models),
    stale_after_minutes: report.stale_after_minutes,
    speed_regressions: cap(report.regressions),
    agent_runs: cap(report.agent_runs ?? []),
    budget_skips: cap((report.budget_skips ?? []).map((b) => ({ ...b, last_reason: clip(b.last_reason) }))),
    suggested_commands: report.suggested_commands,
  };
}

function clip(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length <= MESSAGE_CAP ? one : `${one.slice(0, MESSAGE_CAP - 1)}…`;
}

function percent(x: number): string {
  return `${Math.round(x * 100)}%`;
}
