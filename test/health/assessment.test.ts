// The LLM assessment through the real `openai` SDK against a local fake of the Responses API
// (non-streaming JSON in the real response shape), and the rule-based fallback.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { loadConfig } from '../../lib/config.ts';
import { ASSESSMENT_SCHEMA, assessHealth, ruleBasedStatus, type AssessmentAnswer } from '../../lib/health/assessment.ts';
import { makeHealthReport } from '../fixtures.ts';

const KEY = 'sk-test-health-0123456789abcdef';

interface Recorded {
  method: string;
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown>;
}

/** What the fake answers: a JSON body with a status, or nothing at all (a hung server). */
type Reply = { status: number; body: unknown } | 'hang';

let server: Server;
let baseUrl: string;
let reply: () => Reply;
const requests: Recorded[] = [];

/** A completed Responses API answer carrying text, shaped like the real one (output_text is the SDK's, not the wire's). */
function responseWithText(text: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b',
    object: 'response',
    created_at: 1763625600,
    status: 'completed',
    error: null,
    incomplete_details: null,
    instructions: 'You review…',
    max_output_tokens: 4000,
    model: 'gpt-4o-mini-2024-07-18',
    output: [
      {
        type: 'message',
        id: 'msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
      },
    ],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: 1,
    text: { format: { type: 'json_schema', name: 'health_assessment', strict: true } },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage: { input_tokens: 812, input_tokens_details: { cached_tokens: 0 }, output_tokens: 96, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 908 },
    user: null,
    metadata: {},
    ...overrides,
  };
}

const GOOD: AssessmentAnswer = {
  overall_status: 'warning',
  summary: 'alpha/gone was retired; alpha/slow is 30% slower than last week.',
  models_likely_deprecated: [{ provider: 'alpha', model: 'gone', reason: '404 model retired' }],
  code_fixes_needed: [],
  provider_issues: [{ provider: 'alpha', issue: 'slower decoding since yesterday' }],
  recommended_actions: ['npm run models -- disable alpha gone --reason "retired"'],
};

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      requests.push({ method: req.method!, path: req.url!, authorization: req.headers.authorization, body: JSON.parse(body || '{}') });
      const r = reply();
      if (r === 'hang') return;
      res.writeHead(r.status, { 'content-type': 'application/json', 'x-request-id': 'req_fake' });
      res.end(JSON.stringify(r.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  requests.length = 0;
  reply = () => ({ status: 200, body: responseWithText(JSON.stringify(GOOD)) });
});

function config(env: Record<string, string> = {}) {
  return loadConfig({ env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: baseUrl, ...env }, dotenvPath: false });
}

const NOW = new Date('2026-11-20T08:00:00.000Z');

const REGRESSED = makeHealthReport({
  regressions: [
    {
      provider: 'alpha',
      model_name: 'slow',
      metric: 'tokens_per_second',
      baseline_median: 100,
      current_median: 70,
      worse_pct: 30,
      current_samples: 48,
      baseline_samples: 336,
      p_value: 1e-9,
    },
  ],
});

describe('assessHealth with the LLM', () => {
  it('returns the validated answer, asking through the Responses API with a strict JSON schema', async () => {
    const a = await assessHealth(REGRESSED, config());
    assert.equal(a.source, 'llm');
    assert.equal(a.model, 'gpt-4o-mini');
    assert.equal(a.missing_reason, null);
    const { source: _s, model: _m, missing_reason: _r, rules, ...answer } = a;
    assert.deepEqual(answer, GOOD);
    assert.deepEqual(rules, { status: 'warning', reasons: ['1 speed regression'] });

    assert.equal(requests.length, 1);
    const [req] = requests;
    assert.equal(req!.method, 'POST');
    assert.equal(req!.path, '/v1/responses');
    assert.equal(req!.authorization, `Bearer ${KEY}`);
    assert.equal(req!.body.model, 'gpt-4o-mini');
    assert.deepEqual(req!.body.text, { format: { type: 'json_schema', name: 'health_assessment', strict: true, schema: ASSESSMENT_SCHEMA } });
    const input = JSON.parse(req!.body.input as string);
    assert.deepEqual(input.speed_regressions.items[0].model_name, 'slow');
    assert.deepEqual(input.rule_based_status, { status: 'warning', reasons: ['1 speed regression'] });
    assert.doesNotMatch(JSON.stringify(req!.body), new RegExp(KEY));
  });

  it('asks HEALTH_CHECK_MODEL when set', async () => {
    const a = await assessHealth(makeHealthReport(), config({ HEALTH_CHECK_MODEL: 'gpt-5-mini' }));
    assert.equal(requests[0]!.body.model, 'gpt-5-mini');
    assert.equal(a.model, 'gpt-5-mini');
  });

  it('keeps critical when the rules say critical, whatever the model answers', async () => {
    const failing = makeHealthReport({
      providers: [{ provider: 'alpha', successes: 10, errors: 30, error_rate: 0.75 }],
      totals: { successes: 10, errors: 30, error_rate: 0.75 },
    });
    reply = () => ({ status: 200, body: responseWithText(JSON.stringify({ ...GOOD, overall_status: 'healthy' })) });
    const a = await assessHealth(failing, config());
    assert.equal(a.source, 'llm');
    assert.equal(a.overall_status, 'critical');
  });

  it('lets the model lower a rule-based warning', async () => {
    reply = () => ({ status: 200, body: responseWithText(JSON.stringify({ ...GOOD, overall_status: 'healthy' })) });
    const a = await assessHealth(REGRESSED, config());
    assert.equal(a.overall_status, 'healthy');
    assert.equal(a.rules.status, 'warning');
  });
});

describe('assessHealth falls back to the rules', () => {
  it('without OPENAI_API_KEY, sending nothing', async () => {
    const a = await assessHealth(REGRESSED, loadConfig({ env: { OPENAI_BASE_URL: baseUrl }, dotenvPath: false }));
    assert.equal(requests.length, 0);
    assert.equal(a.source, 'rules');
    assert.equal(a.missing_reason, 'OPENAI_API_KEY is not set');
    assert.equal(a.overall_status, 'warning');
    assert.match(a.summary, /1 speed regression/);
  });

  it('on an answer that does not match the schema', async () => {
    reply = () => ({ status: 200, body: responseWithText(JSON.stringify({ ...GOOD, overall_status: 'fine', extra: 1 })) });
    const a = await assessHealth(REGRESSED, config());
    assert.equal(a.source, 'rules');
    assert.equal(a.overall_status, 'warning');
    assert.match(a.missing_reason!, /^gpt-4o-mini answered off-schema: .*overall_status/);
    assert.deepEqual(a.models_likely_deprecated, [], 'nothing of the rejected answer is used');
  });

  it('on an answer that is not JSON', async () => {
    reply = () => ({ status: 200, body: responseWithText('All good!') });
    const a = await assessHealth(makeHealthReport(), config());
    assert.equal(a.source, 'rules');
    assert.equal(a.missing_reason, 'gpt-4o-mini answered with something that is not JSON: All good!');
    assert.equal(a.overall_status, 'healthy');
  });

  it('on HTTP 500, without retrying', async () => {
    reply = () => ({
      status: 500,
      body: { error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } },
    });
    const a = await assessHealth(REGRESSED, config());
    assert.equal(requests.length, 1, 'maxRetries 0');
    assert.equal(a.source, 'rules');
    assert.match(a.missing_reason!, /^the call to gpt-4o-mini failed \(HTTP 500, transient_provider\): .*server had an error/);
  });

  it('on an incomplete response', async () => {
    reply = () => ({
      status: 200,
      body: responseWithText('{"overall_status": "warn', { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } }),
    });
    const a = await assessHealth(makeHealthReport(), config());
    assert.equal(a.source, 'rules');
    assert.equal(a.missing_reason, 'gpt-4o-mini answered with status incomplete (max_output_tokens)');
  });

  it('on a refusal', async () => {
    const refused = responseWithText('');
    (refused.output as Array<{ content: unknown[] }>)[0]!.content = [{ type: 'refusal', refusal: "I can't help with that." }];
    reply = () => ({ status: 200, body: refused });
    const a = await assessHealth(makeHealthReport(), config());
    assert.equal(a.source, 'rules');
    assert.equal(a.missing_reason, "gpt-4o-mini refused: I can't help with that.");
  });

  it('when the call times out', async () => {
    reply = () => 'hang';
    const a = await assessHealth(makeHealthReport(), config(), { timeoutMs: 200 });
    assert.equal(a.source, 'rules');
    assert.match(a.missing_reason!, /^the call to gpt-4o-mini failed \(timeout\)/);
  });
});

describe('ruleBasedStatus', () => {
  it('is healthy when nothing needs attention', () => {
    assert.deepEqual(ruleBasedStatus(makeHealthReport()), { status: 'healthy', reasons: [] });
  });

  it('is a warning on regressions, stale models, models with only errors and new fingerprints', () => {
    const r = makeHealthReport({
      stale_models: [{ provider: 'alpha', model_id: 'x', last_success: null }],
      only_errors: [
        { provider: 'alpha', model_name: 'y', errors: 2, successes: 0, last_error_ts: NOW, last_message: 'm', last_error_kind: 'timeout', last_stage: 'generate', error_kinds: { timeout: 2 } },
      ],
      new_fingerprints: [
        { fingerprint: 'f'.repeat(64), provider: 'alpha', model_name: 'y', stage: 'generate', error_kind: 'timeout', first_seen: NOW, count: 2, sample_message: 'm' },
      ],
    });
    assert.deepEqual(ruleBasedStatus(r), { status: 'warning', reasons: ['1 stale model', '1 model with only errors', '1 new error fingerprint'] });
    assert.equal(ruleBasedStatus(REGRESSED).status, 'warning');
  });

  it('is critical when a provider fails at least half its calls', () => {
    const r = makeHealthReport({ providers: [{ provider: 'beta', successes: 5, errors: 5, error_rate: 0.5 }], totals: { successes: 5, errors: 5, error_rate: 0.5 } });
    assert.deepEqual(ruleBasedStatus(r), { status: 'critical', reasons: ['beta failed 50% of 10 calls'] });
    const fine = makeHealthReport({ providers: [{ provider: 'beta', successes: 6, errors: 4, error_rate: 0.4 }], totals: { successes: 6, errors: 4, error_rate: 0.4 } });
    assert.equal(ruleBasedStatus(fine).status, 'healthy');
  });

  it('is critical on any auth or billing error', () => {
    const r = makeHealthReport({ errors_by_kind: [{ provider: 'openai', error_kind: 'billing', count: 2 }] });
    assert.deepEqual(ruleBasedStatus(r), { status: 'critical', reasons: ['2 billing errors from openai'] });
  });

  it('is critical when nothing at all was measured', () => {
    const r = makeHealthReport({ providers: [], totals: { successes: 0, errors: 0, error_rate: null } });
    assert.equal(ruleBasedStatus(r).status, 'critical');
  });
});
