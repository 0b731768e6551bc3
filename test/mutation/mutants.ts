// The bugs npm run test:mutation plants, one at a time, per module (issue 29). Each is a slip a
// person could make that users would notice: a wrong number on a row, a failure stored as a
// success, money spent that should not be, a result lost. `find` must occur exactly once in
// the module (or name its occurrence); when the code moves on and it no longer matches, the
// run reports the mutant as stale, and this list is updated with the code. A mutant that
// changes no behaviour is kept with `equivalent` saying why, so nobody plants it again.
import type { ModuleMutants } from './harness.ts';

const PROVIDER_TESTS = ['test/bench/providers/openai-compatible.test.ts', 'test/bench/providers/anthropic.test.ts', 'test/bench/providers/bedrock.test.ts'];

export const MODULES: ModuleMutants[] = [
  {
    module: 'lib/bench/measure.ts',
    tests: ['test/bench/measure.test.ts', 'test/bench/providers/mock.test.ts'],
    mutants: [
      { bug: "the clock started when the SDK built the request, not when it was sent", find: "if (e.type === 'connection') return e.sentAt ?? events[last]!.t;", replace: "if (e.type === 'connection') return events[last]!.t;" },
      { bug: 'TTFT taken from the first byte, not the first visible text', find: 'time_to_first_token: firstText ? sec(firstText.t) : null', replace: 'time_to_first_token: firstByte ? sec(firstByte.t) : null' },
      { bug: 'without provider usage, chunks counted as tokens', find: 'outputTokens = tokenizerVisible + tokenizerReasoning;', replace: 'outputTokens = deltas.length;' },
      { bug: 'the first usage event wins over the later, complete one', find: 'if (typeof v === \'number\' && Number.isFinite(v)) out[k] = v;', replace: 'if (typeof v === \'number\' && Number.isFinite(v)) out[k] ??= v;' },
      { bug: 'generate_time stretched to a usage event after the last text', find: "e.type === 'text' || e.type === 'reasoning' || e.type === 'finish');\n  const generateTime", replace: "e.type !== 'connection');\n  const generateTime" },
      { bug: "decode speed counts the first chunk's tokens", find: 'if (d.t > first) tokens += perChunk[i]!;', replace: 'tokens += perChunk[i]!;' },
      { bug: 'strict providers allowed 20 % off the budget instead of 10 %', find: '> 0.1 * m.requested_tokens', replace: '> 0.2 * m.requested_tokens' },
      { bug: "finish reason 'error' with text stored as a success", find: "if (m.finish_reason === 'error') {", replace: "if (m.finish_reason === 'error' && !m.ttft_available) {" },
      { bug: 'a budget spent on reasoning reported as unknown, not budget_exhausted', find: "if (m.finish_reason === 'length') {", replace: "if (m.finish_reason === 'max_tokens') {" },
      { bug: 'inter-chunk percentiles not interpolated', find: 'const hi = Math.ceil(pos);', replace: 'const hi = Math.floor(pos);' },
      { bug: "an adapter's retry measured from its first request, not its last", find: '    lastRequest = i;', replace: '    if (lastRequest < 0) lastRequest = i;' },
      { bug: "the runner's earlier attempts left out of attempts_count", find: '(ctx.previousAttempts ?? 0) + Math.max(1, requestsSeen)', replace: 'Math.max(1, requestsSeen)' },
      { bug: "the mock's counts stored as provider usage", find: "tokenSource = ctx.provider === 'mock' ? 'simulated' : 'provider_usage';", replace: "tokenSource = 'provider_usage';" },
      { bug: 'visible tokens include the reasoning tokens', find: 'reasoningTokens !== null ? Math.max(0, outputTokens - reasoningTokens)', replace: 'reasoningTokens !== null ? outputTokens' },
      { bug: 'time to 64 visible tokens waits for the 65th', find: 'if (seen >= n - 1e-6) return d.t;', replace: 'if (seen > n) return d.t;' },
      { bug: 'reasoning that never streamed is not counted as reasoning', find: 'if (holdsHidden(output, visible + reasoning)) return Math.max(0, output - visible);', replace: 'if (holdsHidden(output, visible + reasoning)) return null;' },
      { bug: 'a call with zero output tokens passes validation', find: 'if (!(m.output_tokens > 0))', replace: 'if (m.output_tokens < 0)' },
      { bug: 'TTFT reported available when only reasoning streamed', find: 'ttft_available: firstText !== undefined,', replace: 'ttft_available: deltas.length > 0,' },
      { bug: 'the provider usage objects not kept beside the counts', find: 'raw_usage: usageEvents.length > 0 ? usageEvents.map((u) => u.raw ?? null) : null,', replace: 'raw_usage: null,' },
    ],
  },
  {
    module: 'lib/bench/call.ts',
    tests: ['test/bench/call.test.ts', 'test/bench/scenarios.test.ts', 'test/bench/evidence.test.ts', 'test/bench/loop-lag.test.ts'],
    mutants: [
      { bug: 'a failure after part of the answer streamed is retried, throwing the answer away', find: '!a.sawContent && RETRY_KINDS.has(c.kind)', replace: 'RETRY_KINDS.has(c.kind)' },
      { bug: 'a billing error retried', find: "new Set(['rate_limit', 'transient_provider', 'network'])", replace: "new Set(['rate_limit', 'transient_provider', 'network', 'billing'])" },
      { bug: "the provider's Retry-After ignored", find: 'const delay = c.retryAfterMs ?? Math.min(', replace: 'const delay = Math.min(' },
      { bug: 'one attempt more than BENCH_MAX_ATTEMPTS', find: 'attempt < bench.maxAttempts', replace: 'attempt <= bench.maxAttempts' },
      { bug: 'a Retry-After longer than BENCH_MAX_RETRY_DELAY_MS is waited out', find: ' && delay <= bench.maxRetryDelayMs', replace: '' },
      { bug: 'the stall timeout not reset by stream events', find: '      stallTimer.refresh();\n    }\n    const endT', replace: '    }\n    const endT' },
      { bug: 'an HTTP 200 whose first event is an error is not retried', find: 'if (CONTENT_EVENTS.has(ev.type)) sawContent = true;', replace: 'sawContent = true;' },
      { bug: 'a sweep aborted from outside recorded as a timeout', find: "return new BenchError(describeAbort(reason), { kind: 'aborted'", replace: "return new BenchError(describeAbort(reason), { kind: 'timeout'" },
      {
        bug: 'retries go on after the sweep was aborted',
        find: ' && !sweepSignal.aborted',
        replace: '',
        equivalent: 'runAttempt reports an attempt cut by the sweep\'s abort as aborted, never retried, and nothing awaits between it and this check',
      },
      { bug: 'a timeout stored at stage generate', find: "c.kind === 'timeout' ? 'timeout' : 'generate'", replace: "'generate'" },
      { bug: 'the backoff doubles from 2 s, not 1 s', find: '2 ** (attempt - 1)', replace: '2 ** attempt' },
      { bug: 'the cache-defeating nonce not recorded on the row', find: '        if (inputs.nonce) metric.cache_defeat_nonce = inputs.nonce;\n', replace: '' },
      { bug: 'a cache hit not marked on the row', find: 'withEvidence(metric, cacheEvidence(metric), ', replace: 'withEvidence(metric, ' },
      { bug: 'a row timed while the runner lagged not marked saturated', find: ', saturationEvidence(model.provider, a.lag, ctx.saturatedLagMs));', replace: ');' },
      { bug: "the runner's lag not recorded on the row", find: '        metric.client_lag_ms = lagField(a.lag.ms);\n', replace: '' },
      { bug: "an error row without its attempt's lag", find: '    if (lagMs !== null) error.client_lag_ms = lagField(lagMs);\n', replace: '' },
      { bug: 'a stream with no event after the request measured as an answer', find: "if (!sawByte) throw new BenchError(`the stream of ${target} ended without any event`, { kind: 'unknown' });", replace: '' },
    ],
  },
  {
    module: 'lib/errors.ts',
    tests: ['test/errors.test.ts', 'test/bench/call.test.ts', ...PROVIDER_TESTS],
    mutants: [
      { bug: 'a 429 saying the credits ran out classified rate_limit (and retried), not billing', find: "if (status === 429) return byMessage === 'billing' ? 'billing' : 'rate_limit';", replace: "if (status === 429) return 'rate_limit';" },
      { bug: 'insufficient_quota inside the error body not read as billing', find: "if (code === 'insufficient_quota' || errorType === 'insufficient_quota') return 'billing';", replace: "if (code === 'insufficient_quota') return 'billing';" },
      { bug: 'a 5xx saying the model is gone classified transient, not hard_model', find: "return byMessage === 'hard_model' ? 'hard_model' : 'transient_provider';", replace: "return 'transient_provider';" },
      { bug: 'a 400 saying the credits ran out classified hard_capability', find: " || byMessage === 'billing') return byMessage;", replace: ') return byMessage;' },
      { bug: 'Retry-After as an HTTP date ignored', find: 'return Number.isNaN(date) ? null : Math.max(0, date - now);', replace: 'return null;' },
      { bug: 'retry-after-ms read as seconds', find: 'return Math.max(0, Number(ms));', replace: 'return Math.max(0, Number(ms) * 1000);' },
      { bug: 'HTTP 403 not classified auth', find: 'if (status === 401 || status === 403) return', replace: 'if (status === 401) return' },
      { bug: 'an aborted request classified by its message, not as a timeout', find: "if (name === 'AbortError' || name === 'APIUserAbortError') return 'timeout';", replace: "if (name === 'APIUserAbortError') return 'timeout';" },
      { bug: 'long hex request ids left in the normalized message, so every error is a new fingerprint', find: ".replace(/\\b[0-9a-f]{16,}\\b/g, '<id>')", replace: '' },
      { bug: 'an error document keeps a key the message carried', find: 'const message = redact(fields.message);', replace: 'const message = fields.message;' },
      {
        bug: 'Bedrock AccessDenied for a retired model classified auth',
        find: "return awsKind === 'auth' && byMessage === 'hard_model' ? 'hard_model' : awsKind;",
        replace: 'return awsKind;',
        equivalent: "the AWS SDK's errors always carry $metadata.httpStatusCode, so the status rules decide before the exception name is read",
      },
      { bug: 'an in-stream error code wins over the HTTP status', find: 'const streamedKind = status === null ? (', replace: 'const streamedKind = true ? (' },
      { bug: 'a socket error code deep in the cause chain not seen as network', find: 'for (let i = 0; cur && i < 6; i++)', replace: 'for (let i = 0; cur && i < 1; i++)' },
    ],
  },
  {
    module: 'lib/bench/providers/openai-compatible.ts',
    tests: ['test/bench/providers/openai-compatible.test.ts', 'test/bench/providers/vertex.test.ts'],
    mutants: [
      { bug: 'a chat stream cut off after its usage chunk (no finish reason, no [DONE]) accepted as a complete answer', find: 'if (rawReason === null && !(sawUsage && sawDone(tap))) {', replace: 'if (rawReason === null && !sawUsage) {' },
      { bug: 'deltas of a second choice (index 1) counted into the answer', find: 'if (choice.index !== undefined && choice.index !== 0) continue;', replace: 'if (choice.index !== undefined && choice.index < 0) continue;' },
      { bug: 'the usage chunk with empty choices ignored', find: 'if (chunk.usage) {', replace: 'if (chunk.usage && chunk.choices?.length) {' },
      { bug: "Groq's x_groq.usage ignored", find: "yield { type: 'usage', t, usage: chatUsage(vendor.x_groq.usage) };", replace: '' },
      { bug: 'a <think> tag split across chunks shown as text', find: 'if (lead.length < THINK_OPEN.length && THINK_OPEN.startsWith(lead)) return out;', replace: '' },
      { bug: 'any 400 retried with max_completion_tokens', find: '!switchedTokensParam && refusesMaxTokens(err)', replace: '!switchedTokensParam' },
      { bug: 'misc.omit_temperature ignored', find: "const temperature = req.temperature === null || req.misc.omit_temperature === true ? null : req.temperature;", replace: 'const temperature = req.temperature;' },
      { bug: "DeepInfra's reasoning_content ignored", find: 'stringOr(delta?.reasoning_content) ?? stringOr(delta?.reasoning)', replace: 'stringOr(delta?.reasoning)' },
      { bug: 'cached input tokens not read', find: 'cachedInputTokens: count(promptDetails.cached_tokens),', replace: 'cachedInputTokens: null,' },
      { bug: 'text after </think> in the same chunk lost', find: "if (rest) out.push({ type: 'text', text: rest });", replace: '' },
    ],
  },
  {
    module: 'lib/bench/providers/openai.ts',
    tests: ['test/bench/providers/openai.test.ts'],
    mutants: [
      { bug: 'one budget retry more than allowed', find: 'budgetRetries < MAX_BUDGET_RETRIES', replace: 'budgetRetries <= MAX_BUDGET_RETRIES' },
      { bug: 'a refusal not counted as visible text', find: "        case 'response.refusal.delta':\n", replace: '' },
      { bug: "response.incomplete's reason dropped", find: "(response.incomplete_details?.reason ?? 'incomplete')", replace: "'incomplete'" },
      { bug: 'a stream that broke off after text accepted without response.completed', find: 'if (finished === null) {', replace: 'if (finished === null && !sawText) {' },
      { bug: "reasoning models run at 'medium' effort by default", find: ": 'low';", replace: ": 'medium';" },
      { bug: "a reasoning model's budget not raised to the minimum", find: 'maxTokens: Math.max(req.maxTokens, REASONING_MIN_BUDGET),', replace: 'maxTokens: req.maxTokens,' },
      { bug: 'a spent budget retried after text was shown', find: "budgetRanOutBeforeText: finished.reason === 'length' && !sawText", replace: "budgetRanOutBeforeText: finished.reason === 'length'" },
    ],
  },
  {
    module: 'lib/bench/providers/anthropic.ts',
    tests: ['test/bench/providers/anthropic.test.ts'],
    mutants: [
      { bug: "message_start's placeholder output count taken as the answer's", find: 'toUsage(usage, { withOutput: false })', replace: 'toUsage(usage, { withOutput: true })' },
      { bug: 'a stream ended before message_stop accepted', find: '  if (!stopped) {', replace: '  if (false) {' },
      { bug: 'thinking deltas counted as the visible answer', find: "yield { type: 'reasoning', t, text: d.thinking }", replace: "yield { type: 'text', t, text: d.thinking }" },
      { bug: 'a mid-stream overloaded error raised as a 400 (not retried)', find: 'overloaded_error: 529,', replace: 'overloaded_error: 400,' },
      { bug: 'cache reads not reported', find: 'cachedInputTokens: num(raw.cache_read_input_tokens),', replace: 'cachedInputTokens: null,' },
      { bug: 'any 400 retried without temperature', find: '    /temperature/i.test(err.message) &&\n', replace: '' },
    ],
  },
  {
    module: 'lib/bench/providers/bedrock.ts',
    tests: ['test/bench/providers/bedrock.test.ts'],
    mutants: [
      { bug: 'an event stream ended before messageStop accepted', find: '    if (rawReason === undefined) {', replace: '    if (false) {' },
      { bug: 'reasoning content counted as the visible answer', find: "yield { type: 'reasoning', t, text: delta.reasoningContent.text }", replace: "yield { type: 'text', t, text: delta.reasoningContent.text }" },
      { bug: "Bedrock's own latency not recorded", find: "providerLatencyMs = typeof latency === 'number' ? latency : null;", replace: 'providerLatencyMs = null;' },
      { bug: 'misc.additional_model_request_fields not sent', find: '...(extra ? { additionalModelRequestFields:', replace: '...(false ? { additionalModelRequestFields:' },
    ],
  },
  {
    module: 'lib/bench/providers/vertex.ts',
    tests: ['test/bench/providers/vertex.test.ts'],
    mutants: [
      { bug: "Gemini's thought parts counted as the visible answer", find: "part.thought === true ? { type: 'reasoning', t, text: part.text }", replace: "part.thought === false ? { type: 'reasoning', t, text: part.text }" },
      { bug: "the final chunk's missing counts (proto3 zeros) left unknown", find: 'const known = final || candidates !== null || thoughts !== null;', replace: 'const known = candidates !== null || thoughts !== null;' },
      { bug: 'a Gemini stream without a finish reason accepted', find: '  if (finish === null) {', replace: '  if (false) {' },
      { bug: 'thinking tokens left out of the output count', find: 'outputTokens: known ? (candidates ?? 0) + (thoughts ?? 0) : null,', replace: 'outputTokens: known ? (candidates ?? 0) : null,' },
      { bug: 'a prompt blocked by safety has no finish reason', find: 'candidate?.finishReason ?? chunk.promptFeedback?.blockReason ?? null', replace: 'candidate?.finishReason ?? null' },
    ],
  },
  {
    module: 'lib/bench/provider-stream.ts',
    tests: ['test/bench/provider-stream.test.ts', 'test/bench/providers/openai.test.ts', 'test/bench/providers/vertex.test.ts'],
    mutants: [
      { bug: "Gemini's upper-case finish reasons (STOP, MAX_TOKENS) read as other", find: 'const r = raw.toLowerCase();', replace: 'const r = raw;' },
      { bug: "OpenAI's max_output_tokens not a length finish, so the budget retry never happens", find: "'length', 'max_tokens', 'max_output_tokens', 'incomplete'", replace: "'length', 'max_tokens', 'incomplete'" },
      { bug: 'a finish reason saying the answer broke off stored as other (a success)', find: "if (['error', 'abort', 'aborted', 'failed', 'cancelled'].includes(r)) return 'error';", replace: '' },
      { bug: "Gemini's SAFETY not a content filter", find: "'content_filtered', 'safety', ", replace: "'content_filtered', " },
    ],
  },
  {
    module: 'lib/bench/providers/wire.ts',
    tests: [...PROVIDER_TESTS, 'test/bench/providers/wire.test.ts'],
    mutants: [
      { bug: 'any stream that sent bytes counted as having reached [DONE]', find: 'return /data:\\s*\\[DONE\\]\\s*$/.test(tap.tail);', replace: "return tap.tail !== '';" },
      { bug: 'an HTTP 200 HTML page read as an (empty) stream', find: "if (tap.status !== 200 || isEventStream(tap.contentType)) return null;", replace: 'return null;' },
      { bug: 'a chunk timed when the SDK read it, not when it arrived', find: '          tap.arrivedAt = t;', replace: '          tap.arrivedAt = tap.now();' },
      { bug: "a Bedrock message timed by the chunk that began it, not the one that completed it", find: '      if (pending.length - at < total) break;', replace: '      if (pending.length - at < 12) break;' },
      { bug: 'an SDK event matched to the newest message of its type, not the oldest', find: 'const i = tap.messages.findIndex((m) => m.type === type);', replace: 'const i = tap.messages.findLastIndex((m) => m.type === type);' },
      { bug: 'a chunk the fetch thread read timed when this thread handled it', find: 'const callTime = exact ? (at: number) => performance.now() - Math.max(0, hrNow() - at) : () => tap.now();', replace: 'const callTime = (_at: number) => tap.now();' },
      { bug: "a chunk's wait taken from this thread's loop, not the fetch thread's that read it", find: 'exact ? m.wait : undefined', replace: 'undefined' },
    ],
  },
  {
    module: 'lib/bench/due.ts',
    tests: ['test/bench/due.test.ts', 'test/bench/scenarios.test.ts', 'test/bench/sweep.test.ts'],
    mutants: [
      { bug: "FRESH_MINUTES' minute of slack added instead of taken off", find: 'const freshMs = o.freshMinutes * 60_000 - FRESH_SLACK_MS;', replace: 'const freshMs = o.freshMinutes * 60_000 + FRESH_SLACK_MS;' },
      { bug: "a scenario's interval without the minute of slack (due every other sweep)", find: 's.intervalMinutes * 60_000 - FRESH_SLACK_MS', replace: 's.intervalMinutes * 60_000' },
      { bug: 'freshness from the call time, not the sweep start', find: 'const last = model.lastSweepStartedAt ?? model.lastSuccessAt;', replace: 'const last = model.lastSuccessAt ?? model.lastSweepStartedAt;' },
      { bug: '--force ignored', find: 'if (!o.force && last &&', replace: 'if (last &&', occurrence: 2 },
      { bug: 'the published scenario no longer runs first', find: 'Number(b.scenario_id === PUBLISHED_SCENARIO_ID) - Number(a.scenario_id === PUBLISHED_SCENARIO_ID)', replace: 'Number(a.scenario_id === PUBLISHED_SCENARIO_ID) - Number(b.scenario_id === PUBLISHED_SCENARIO_ID)' },
      { bug: 'LLM scenarios run TinyFish automations', find: "if ((doc.kind === 'agent') !== (m.provider === 'tinyfish')) return false;", replace: '' },
      { bug: "a scenario's provider targets ignored", find: "if (t.type === 'providers') return t.providers.includes(m.provider);", replace: "if (t.type === 'providers') return true;" },
      { bug: "the cache-defeating nonce not put in the prompt", find: 'const prompt = nonce ? `[${nonce}] ${s.prompt}` : s.prompt;', replace: 'const prompt = s.prompt;' },
      { bug: 'a Bedrock id with a colon read as provider:model', find: 'if (prefix !== null && isProviderName(prefix)) return', replace: 'if (prefix !== null && providers.length !== 1) return' },
      { bug: "last successes looked up over one minute, not the longest scenario interval", find: 'new Date(options.wallNow - longest * 60_000)', replace: 'new Date(options.wallNow - 60_000)' },
    ],
  },
  {
    module: 'lib/bench/budget.ts',
    tests: ['test/bench/budget.test.ts', 'test/health/budget-skips.test.ts'],
    mutants: [
      { bug: "a call started when its worst case passes the limit", find: 'if (committed + worst > o.limitUsd) {', replace: 'if (committed > o.limitUsd) {' },
      { bug: 'calls in flight not counted, so side by side they overshoot', find: 'const committed = state.stored + state.spent + state.reserved;', replace: 'const committed = state.stored + state.spent;' },
      { bug: 'a failed call settled at $0 instead of its worst case', find: 'ticket.day.spent += costUsd ?? ticket.worstUsd;', replace: 'ticket.day.spent += costUsd ?? 0;' },
      { bug: 'the day is the last 24 hours, not the UTC day', find: 'state = await dayState(now - (now % DAY_MS));', replace: 'state = await dayState(now - DAY_MS);' },
      { bug: "a failed spend query remembered, so the day's calls are all refused", find: 'state.catch(() => days.delete(start));', replace: 'state.catch(() => {});' },
      { bug: 'the worst case counts prompt characters, not bytes', find: "Buffer.byteLength(call.prompt, 'utf8')", replace: 'call.prompt.length' },
      { bug: "the settled reservation not released", find: 'ticket.day.reserved -= ticket.worstUsd;', replace: '' },
    ],
  },
  {
    module: 'lib/bench/cost.ts',
    tests: ['test/bench/cost.test.ts', 'test/bench/budget.test.ts'],
    mutants: [
      { bug: 'an unknown input count costed as 0', find: 'const input = price.input === 0 ? 0 : metric.input_tokens === null ? null : metric.input_tokens * price.input;', replace: 'const input = (metric.input_tokens ?? 0) * price.input;' },
      { bug: "OpenRouter's per-token price used as per million", find: 'input: entry.pricing.prompt * PER_MILLION,', replace: 'input: entry.pricing.prompt,' },
      { bug: 'a catalog entry with half a price gives a price', find: 'if (!entry || entry.pricing.prompt === null || entry.pricing.completion === null) return null;', replace: 'if (!entry) return null;' },
      { bug: "an invalid misc.price silently replaced by the catalog's", find: 'if (own !== undefined) {', replace: 'if (own !== undefined && checkMiscPrice(own) === null) {' },
      { bug: 'a negative misc.price accepted', find: ' || v < 0) {', replace: ') {' },
      { bug: "the mock's calls have no price", find: "if (model.provider === 'mock') return { input: 0, output: 0, source: 'mock' };", replace: '' },
    ],
  },
  {
    module: 'lib/tinyfish/run.ts',
    tests: ['test/tinyfish/run.test.ts', 'test/tinyfish/mock.test.ts'],
    mutants: [
      { bug: 'the stall timeout not reset by events, so a long healthy run is cut', find: '      stallTimer.refresh();\n      const item = next.value;', replace: '      const item = next.value;' },
      {
        bug: 'a completed run timed to when its COMPLETE was handled, not when it arrived',
        find: "return doc({ status: 'completed', endpoint: request.endpoint, complete: ev, endT: item.t });",
        replace: "return doc({ status: 'completed', endpoint: request.endpoint, complete: ev });",
        equivalent: 'runAgent handles COMPLETE in the turn it is read, with no await between: the clock reads the same',
      },
      { bug: 'time to first progress taken from the last PROGRESS', find: 'seen.firstProgress ??= item.t;', replace: 'seen.firstProgress = item.t;' },
      { bug: 'a run cut by its timeout stored as failed, not timeout', find: "return doc({ status: 'timeout', endpoint: request.endpoint, error: reason.message, kind: 'timeout' });", replace: "return doc({ status: 'failed', endpoint: request.endpoint, error: reason.message, kind: 'timeout' });" },
      { bug: 'an ERROR about credits stored as run_failed, not billing', find: "kind: c.kind === 'unknown' ? 'run_failed' : c.kind", replace: "kind: 'run_failed'" },
      { bug: "the automation's timeout_seconds read as milliseconds", find: '? t * 1000 :', replace: '? t :' },
      { bug: 'a result of exactly RESULT_CAP_BYTES cut', find: 'if (Buffer.byteLength(text) <= RESULT_CAP_BYTES)', replace: 'if (Buffer.byteLength(text) < RESULT_CAP_BYTES)' },
      { bug: 'TINYFISH_MOCK_MODE runs written to MongoDB', find: 'const mocks = [...new Set(automations.filter((a) => isMockRun(a, config)))];', replace: 'const mocks = [...new Set(automations.filter((a) => isMockAutomation(a)))];' },
      { bug: 'a stream that ended without COMPLETE stored as completed', find: "return doc({ status: 'failed', endpoint: request.endpoint, error: `The event stream of ${name} ended without COMPLETE`", replace: "return doc({ status: 'completed', endpoint: request.endpoint, error: `The event stream of ${name} ended without COMPLETE`" },
    ],
  },
  {
    module: 'lib/tinyfish/client.ts',
    tests: ['test/tinyfish/client.test.ts', 'test/tinyfish/run.test.ts'],
    mutants: [
      { bug: 'an event split across reads parsed too early', find: 'buffer = buffer.slice(nl + 1);', replace: "buffer = '';" },
      { bug: 'SSE comments (heartbeats) not reported, so the stall watch cuts a live run', find: "yield { kind: 'keepalive', t };", replace: '' },
      { bug: 'the synchronous endpoint loses the run id', find: "...(typeof b.run_id === 'string' ? { runId: b.run_id } : {}),", replace: '' },
      { bug: 'an HTML answer read as an empty event stream', find: "if (!type.includes('text/event-stream')) {", replace: 'if (false) {' },
    ],
  },
  {
    module: 'lib/tinyfish/stats.ts',
    tests: ['test/health/agent-runs.test.ts', 'test/health/report.test.ts', 'test/store/sqlite-store.test.ts'],
    mutants: [
      { bug: 'timeouts counted as failed runs', find: "failed: g.filter((r) => r.status === 'failed').length,", replace: "failed: g.filter((r) => r.status !== 'completed').length," },
      { bug: 'the oldest failure shown as the last one', find: 'b.started_at.getTime() - a.started_at.getTime()', replace: 'a.started_at.getTime() - b.started_at.getTime()' },
      { bug: "failed runs' durations in the percentiles", find: 'const durations = ok.map((r) => r.total_duration_ms);', replace: 'const durations = g.map((r) => r.total_duration_ms);' },
    ],
  },
  {
    module: 'lib/health/assessment.ts',
    tests: ['test/health/assessment.test.ts', 'test/health/report.test.ts', 'test/health/agent-runs.test.ts', 'test/health/budget-skips.test.ts'],
    mutants: [
      { bug: 'a provider failing half its calls not critical', find: 'p.error_rate >= CRITICAL_ERROR_RATE', replace: 'p.error_rate > CRITICAL_ERROR_RATE' },
      { bug: 'billing errors not critical', find: "if (k.error_kind === 'auth' || k.error_kind === 'billing') {", replace: "if (k.error_kind === 'auth') {" },
      { bug: 'no calls at all is healthy', find: 'if (report.totals.successes + report.totals.errors === 0) {', replace: 'if (false) {' },
      { bug: 'a TinyFish automation with no completed run not warned', find: 'r.runs > 0 && r.completed === 0', replace: 'r.runs > 0 && r.completed < 0' },
      { bug: 'speed regressions not warned', find: "if (report.regressions.length > 0) warning.push(n(report.regressions.length, 'speed regression'));", replace: '' },
    ],
  },
  {
    module: 'lib/health/render.ts',
    tests: ['test/health/report.test.ts'],
    mutants: [
      { bug: 'rows measured while the runner was saturated not in the mail', find: '  if (saturated) out.push(saturated);\n', replace: '' },
      { bug: "a lane's saturated rows counted as its cache hits", find: 'const marked = (report.marked_rows ?? []).filter((m) => m.saturated > 0);', replace: 'const marked = (report.marked_rows ?? []).filter((m) => m.saturated + m.cache_hits > 0);' },
    ],
  },
  {
    module: 'lib/health/report.ts',
    tests: ['test/health/report.test.ts', 'test/health/agent-runs.test.ts', 'test/health/budget-skips.test.ts'],
    mutants: [
      { bug: 'a model is stale after one sweep period without a success, not three', find: 'if (last ? last.getTime() >= staleBefore :', replace: 'if (last ? last.getTime() >= until.getTime() - options.sweepPeriodMinutes * 60_000 :' },
      { bug: 'a model added today and never run listed as stale', find: ': addedAt >= staleBefore) continue;', replace: ': false) continue;' },
      { bug: 'models with some successes listed as only errors', find: 'const onlyErrors = failing.filter((f) => f.successes === 0);', replace: 'const onlyErrors = failing;' },
      { bug: 'a disable command suggested for a model failing with rate limits too', find: "if (kinds.length !== 1 || kinds[0] !== 'hard_model') continue;", replace: "if (!kinds.includes('hard_model')) continue;" },
      { bug: 'TinyFish automations listed as stale models', find: "if (m.provider === 'tinyfish') continue;", replace: '' },
      { bug: 'every key with rate-limit headers flagged as near its limit', find: 'await store.nearLimit(window, NEAR_LIMIT_SHARE);', replace: 'await store.nearLimit(window, 1);' },
      { bug: 'a model swap reported when the new model came before the window', find: 'if (newest.first_seen < window.since) continue;', replace: '' },
    ],
  },
  // Owned by the ingest work (issue 29's known survivors among them).
  {
    module: 'lib/ingest/handler.ts',
    tests: ['test/ingest/handler.test.ts', 'test/ingest/http-hardening.test.ts', 'test/ingest/agent-runs.test.ts'],
    mutants: [
      { bug: 'a body exactly at INGEST_MAX_BODY_BYTES refused with 413', find: 'declared > maxBodyBytes) return tooLarge(req);', replace: 'declared >= maxBodyBytes) return tooLarge(req);' },
      { bug: 'the wrong-key allowance off by one', find: 'return entry.count > wrongKeysPerMinute;', replace: 'return entry.count >= wrongKeysPerMinute;' },
      { bug: 'any key accepted when INGEST_API_KEY is set', find: 'return timingSafeEqual(digest(given), keyDigest);', replace: 'return true;' },
      { bug: 'a refused run answered 200', find: "return json(422, { status: 'rejected'", replace: "return json(200, { status: 'rejected'" },
    ],
  },
  {
    module: 'lib/ingest/client.ts',
    tests: ['test/ingest/client.test.ts', 'test/ingest/faults.test.ts', 'test/ingest/agent-runs.test.ts'],
    mutants: [
      { bug: 'a 429 from the ingest server (or a proxy) taken as a permanent refusal: the result goes to rejected/', find: ' || status === 429', replace: '' },
      { bug: 'a spool batch ignores its byte cap', find: ' || bytes + size > batchBytes', replace: '' },
      { bug: 'a 5xx taken as a permanent refusal', find: 'return status >= 500 ||', replace: 'return status > 500 ||' },
      { bug: 'a 413 batch not split', find: 'if (res.status === 413 && group.length > 1) {', replace: 'if (false) {' },
    ],
  },
  {
    module: 'lib/ingest/schema.ts',
    tests: ['test/ingest/handler.test.ts', 'test/ingest/http-hardening.test.ts', 'test/ingest/agent-runs.test.ts', 'test/ingest/upstream-corpus.test.ts', 'test/ingest/round-trip.test.ts'],
    mutants: [
      { bug: "a remote row whose lag passed the threshold not marked when the runner left the mark off", find: ', saturationEvidence(p.provider, p.client_lag_ms));', replace: ');' },
      { bug: "an error row's lag dropped", find: '  if (p.client_lag_ms !== undefined) doc.client_lag_ms = p.client_lag_ms;\n', replace: '' },
      { bug: 'a row with zero output tokens accepted', find: 'output_tokens: z.int().min(1),', replace: 'output_tokens: z.int().min(0),' },
      { bug: 'a run finished before it started accepted', find: 'if (p.finished_at < p.started_at) {', replace: 'if (false) {' },
      { bug: "an upstream row's decode speed counts its first token", find: '(p.output_tokens - 1) / gapSum', replace: 'p.output_tokens / gapSum' },
      { bug: 'a timestamp far in the future accepted', find: 'if (at.getTime() > now + MAX_FUTURE_MS) {', replace: 'if (false) {' },
    ],
  },
  // Owned by the store and site work: the known survivors, for the merged tree.
  {
    module: 'lib/store/kpis.ts',
    tests: ['test/store/kpis.test.ts', 'test/store/sqlite-store.test.ts', 'test/store/mongo-store.test.ts', 'test/runs/format.test.ts'],
    mutants: [
      { bug: 'the p50 interval one-sided at 5 %, so it covers the median only 90 % of the time', find: 'if (tail > 0.025) break;', replace: 'if (tail > 0.05) break;' },
      { bug: "a provider's last success taken from its oldest model, not its newest", find: 'if (last && (!p.row.last_success || last > p.row.last_success)) p.row.last_success = last;', replace: 'if (last && (!p.row.last_success || last < p.row.last_success)) p.row.last_success = last;' },
    ],
  },
  {
    module: 'lib/store/sqlite/runs.ts',
    tests: ['test/store/sqlite-store.test.ts'],
    mutants: [{ bug: 'marked rows (cache hits) counted in the SQLite KPIs', find: 'AND run_ts < ?${unmarked}`', replace: 'AND run_ts < ?`' }],
  },
  {
    module: 'lib/bench/rate-limit.ts',
    tests: ['test/bench/rate-limit.test.ts'],
    mutants: [
      { bug: "Anthropic's remaining requests not read", find: "'x-ratelimit-remaining-requests', 'anthropic-ratelimit-requests-remaining'", replace: "'x-ratelimit-remaining-requests'" },
      { bug: 'the tokens budget left ignored when the requests budget is known', find: 'return shares.length ? Math.min(...shares) : null;', replace: 'return shares.length ? shares[0]! : null;' },
    ],
  },
  {
    module: 'lib/store/sqlite/metrics.ts',
    tests: ['test/store/sqlite-store.test.ts'],
    mutants: [{ bug: "marked rows (cache hits) in the regression tests' samples", find: "${MODEL_RANGE}${unmarkedRows(c, 'metrics')}", replace: '${MODEL_RANGE}' }],
  },
  {
    module: 'lib/store/sqlite/connection.ts',
    tests: ['test/store/sqlite-store.test.ts'],
    mutants: [
      { bug: "the sweep's pause leaves SQLite's automatic checkpoint on (a 20–25 ms stall mid-sweep)", find: "    this.#checkpointsPaused = true;\n    this.#db.exec('PRAGMA wal_autocheckpoint = 0');", replace: '    this.#checkpointsPaused = true;' },
      { bug: 'resumed checkpoints copy nothing back until the log passes 1,000 pages again', find: "    this.#db.exec('PRAGMA wal_checkpoint(PASSIVE)');\n", replace: '' },
    ],
  },
  {
    module: 'lib/bench/sweep.ts',
    tests: ['test/bench/sweep.test.ts'],
    mutants: [
      { bug: "checkpoints resumed while the agent lane's runs are still streaming", find: "    await agentLane;\n    clearTimeout(deadlineTimer);\n    await housekeeping('resume', options.sink.resumeCheckpoints);", replace: "    await housekeeping('resume', options.sink.resumeCheckpoints);\n    await agentLane;\n    clearTimeout(deadlineTimer);" },
      { bug: "checkpoints that could not be paused or resumed go unsaid in the journal", find: "logger.warn(`Cannot ${what} the store's checkpoints", replace: "logger.debug(`Cannot ${what} the store's checkpoints" },
    ],
  },
  {
    module: 'lib/store/mongo/connection.ts',
    tests: ['test/store/mongo-store.test.ts'],
    mutants: [
      {
        bug: 'marked rows (cache hits, saturated runs) counted in the MongoDB KPIs',
        find: 'export const COUNTED = { ...PUBLISHED, ...Object.fromEntries(EVIDENCE_MARKS.map((k) => [`evidence.${k}`, { $ne: true }])) };',
        replace: 'export const COUNTED = { ...PUBLISHED };',
      },
      { bug: 'rows measured while the runner was saturated counted in the MongoDB KPIs', find: "EVIDENCE_MARKS.map((k) => [`evidence.${k}`", replace: "['cache_hit'].map((k) => [`evidence.${k}`" },
    ],
  },
  {
    module: 'lib/bench/loop-lag.ts',
    tests: ['test/bench/loop-lag.test.ts'],
    mutants: [
      { bug: 'a row whose lag equals the threshold marked', find: "if (typeof lag === 'number') return lag > thresholdMs;", replace: "if (typeof lag === 'number') return lag >= thresholdMs;" },
      { bug: 'a wait that moved the speeds, under the TTFT threshold, not marked', find: ' || lag.speedsMs > thresholdMs / 2', replace: '' },
      { bug: "the first token's wait not counted against the speeds", find: 'speedsMs: Math.max(movedSpeeds(first ?? 0), movedSpeeds(last()))', replace: 'speedsMs: movedSpeeds(last())' },
      { bug: "a wake-up's wait for a core carried only by the first chunk read after it", find: '  if (blocked > 0) wakeWait = Math.min(runDelay - runDelayThen, blocked);', replace: '  wakeWait = blocked > 0 ? Math.min(runDelay - runDelayThen, blocked) : 0;' },
      { bug: 'a wait that began before the call opened counted as its lag', find: 'return Math.min(reads.get(t) ?? olderReads.get(t) ?? loopBusyFor(now), now - start);', replace: 'return reads.get(t) ?? olderReads.get(t) ?? loopBusyFor(now);' },
      { bug: "a chunk's wait taken when its event is handled, not when the socket delivered it", find: 'return Math.min(reads.get(t) ?? olderReads.get(t) ?? loopBusyFor(now), now - start);', replace: 'return Math.min(loopBusyFor(now), now - start);' },
      { bug: 'a pause followed by another hold, the loop never blocking between, counts only the hold', find: '    busySince = Math.max(busySince, Math.min(now, observedAt + blocked));\n  }', replace: '    busySince = Math.max(busySince, Math.min(now, observedAt + blocked));\n  }\n  busySince = Math.max(busySince, observedAt);' },
      { bug: "the last token's wait not counted", find: 'const last = () => Math.max(lastDelta, finish);', replace: 'const last = () => finish;' },
      { bug: "a retry's request keeps the earlier attempt's waits", find: '          first = null;\n          lastDelta = 0;\n', replace: '' },
      { bug: "a mock row marked saturated, though its chunks are made in the runner's own loop", find: "  if (provider === 'mock') return undefined;\n", replace: '' },
      { bug: "a last token's wait counted however long the decode span", find: 'const movedSpeeds = (wait: number) => (wait > SPEED_WAIT_SHARE * (lastAt - firstAt) ? wait : 0);', replace: 'const movedSpeeds = (wait: number) => wait;' },
    ],
  },
  {
    module: 'lib/store/sqlite/schema.ts',
    tests: ['test/store/sqlite-store.test.ts'],
    mutants: [
      { bug: 'the SQLite trigger marks cache hits alone: saturated rows in the KPIs', find: 'const MARKED_WHEN = EVIDENCE_MARKS.map(', replace: "const MARKED_WHEN = ['cache_hit'].map(" },
      { bug: "a file's trigger of an earlier mark list kept beside the new one", find: '    for (const { name } of stale) db.exec(`DROP TRIGGER IF EXISTS "${name}"`);\n', replace: '' },
    ],
  },
  {
    module: 'lib/site/overview.ts',
    tests: ['test/site/build.test.ts'],
    mutants: [
      { bug: 'the "N with no success at all" count counts any model with a failure', find: 'const failing = k.models.filter((r) => r.successes === 0 && r.failures > 0).length;', replace: 'const failing = k.models.filter((r) => r.failures > 0).length;' },
    ],
  },
  {
    module: 'lib/site/models.ts',
    tests: ['test/site/build.test.ts'],
    mutants: [
      { bug: 'a model page charts the scenario with the fewest runs', find: 'sort((a, b) => b.successes - a.successes)[0]!;', replace: 'sort((a, b) => a.successes - b.successes)[0]!;' },
      { bug: "the models page's sparkline mixes scenarios", find: '.filter((p) => p.scenario === r.scenario);', replace: ';' },
    ],
  },
  {
    module: 'lib/site/blocks.ts',
    tests: ['test/site/build.test.ts'],
    mutants: [
      { bug: "the overview's TTFT p95 card shows p99", find: "card('TTFT p95', s(r.time_to_first_token.p95), 'ttft_p95', r.time_to_first_token.p95),", replace: "card('TTFT p95', s(r.time_to_first_token.p99), 'ttft_p95', r.time_to_first_token.p99)," },
    ],
  },
];
