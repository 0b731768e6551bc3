import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeFinishReason } from '../../lib/bench/provider-stream.ts';

test("every provider's raw finish reason maps to one of six, whatever its case; a reason saying the answer broke off is error (SPEC 5)", () => {
  const cases: Array<[string | null, string | null]> = [
    ['stop', 'stop'],
    ['end_turn', 'stop'],
    ['STOP', 'stop'],
    ['completed', 'stop'],
    ['length', 'length'],
    ['max_tokens', 'length'],
    ['MAX_TOKENS', 'length'],
    ['max_output_tokens', 'length'],
    ['SAFETY', 'content_filter'],
    ['guardrail_intervened', 'content_filter'],
    ['tool_use', 'tool_calls'],
    ['error', 'error'],
    ['failed', 'error'],
    ['cancelled', 'error'],
    ['FINISH_REASON_UNSPECIFIED', 'other'],
    ['', null],
    [null, null],
  ];
  assert.deepEqual(cases.map(([raw]) => [raw, normalizeFinishReason(raw)]), cases);
});
