// Key-shaped strings are redacted before a result is stored (issue 24), as in the log lines.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { redactStored } from '../../lib/ingest/redact-stored.ts';
import { redact } from '../../lib/log.ts';

// One example of each shape log.ts's SECRET_PATTERNS catch.
const SHAPES = [
  'sk-proj-abcdefghijklmnop',
  'sk-ant-abcdefghijklmnop',
  'gsk_abcdefghijklmnop',
  'fw_abcdefghijklmnop',
  'csk-abcdefghijklmnop',
  'AKIAABCDEFGHIJKLMNOP',
  'ya29.abcdefghijklmnop',
  'Authorization: Bearer abcdefghijkl',
  'api_key=zzzzzzzz',
  'x-api-key: zzzzzzzz',
  'token="zzzzzzzz"',
  'password: zzzzzzzz',
  'mongodb://user:pw123456@host/db',
];

describe('redactStored', () => {
  test('every shape the log lines redact is redacted in a stored field too, at any depth', () => {
    for (const shape of SHAPES) {
      const text = `upstream said ${shape} here`;
      assert.notEqual(redact(text), text, `log.ts catches ${shape}`);
      const doc = redactStored({ misc: { deep: [{ note: text }] } }, []);
      assert.equal(doc.misc.deep[0]!.note, redact(text), shape);
    }
  });

  test('the configured secrets, a value under a credential-named key, and key names are redacted; run_id, Dates and numbers are kept', () => {
    const at = new Date();
    const doc = {
      run_id: 'run-1',
      run_ts: at,
      tokens: 42,
      misc: { api_key: 'plain-value-1', Password: 'hunter22', note: 'my-ingest-key-0123456789 leaked', ['sk-proj-abcdefghijklmnop']: 1 },
    };
    const out = redactStored(doc, ['my-ingest-key-0123456789']);
    assert.deepEqual(out, { run_id: 'run-1', run_ts: at, tokens: 42, misc: { api_key: '***', Password: '***', note: '*** leaked', '***': 1 } });
    assert.equal(out.run_ts, at);
  });

  test('a document with nothing key-shaped comes back as the same object', () => {
    const doc = { provider: 'bedrock', model_name: 'us.anthropic.claude-3-5-haiku-20241022-v1:0', gaps: [0.1, 0.2], misc: { region: 'us-east-1' } };
    assert.equal(redactStored(doc, ['my-ingest-key-0123456789']), doc);
  });
});
