import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger, redact, registerSecrets, type Level } from '../lib/log.ts';

function capture(options: { underSystemd?: boolean; level?: Level } = {}) {
  const lines: Array<[Level, string]> = [];
  const logger = createLogger({ ...options, write: (level, line) => lines.push([level, line]) });
  return { logger, lines };
}

describe('log', () => {
  test('under systemd each line carries its syslog priority prefix', () => {
    const { logger, lines } = capture({ underSystemd: true, level: 'debug' });
    logger.error('e');
    logger.warn('w');
    logger.info('i');
    logger.debug('d');
    assert.deepEqual(lines.map(([, l]) => l), ['<3>e', '<4>w', '<6>i', '<7>d']);
  });

  test('outside systemd lines are plain, and the level filters', () => {
    const { logger, lines } = capture({ level: 'warn' });
    logger.info('hidden');
    logger.warn('shown %d', 2);
    assert.deepEqual(lines, [['warn', 'shown 2']]);
  });

  test('one event is one line: newlines are folded', () => {
    const { logger, lines } = capture();
    logger.error('first\nsecond');
    assert.deepEqual(lines, [['error', 'first | second']]);
  });

  test('registered secrets and credential-shaped strings never reach a line', () => {
    registerSecrets(['my-configured-secret-value']);
    const { logger, lines } = capture();
    logger.error('key my-configured-secret-value and sk-proj-abcdefghijklmnop and Bearer abcdefghijkl and mongodb://u:pw123456@h/ and api_key=zzzzzzzz');
    const line = lines[0]![1];
    for (const leaked of ['my-configured-secret-value', 'sk-proj-abcdefghijklmnop', 'abcdefghijkl', 'pw123456', 'zzzzzzzz']) {
      assert.ok(!line.includes(leaked), `${leaked} leaked in ${line}`);
    }
    assert.match(line, /Bearer \*\*\*/);
    assert.equal(redact('nothing secret here'), 'nothing secret here');
  });
});
