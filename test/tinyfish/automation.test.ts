import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { automationRequest, validateAutomationMisc } from '../../lib/tinyfish/automation.ts';

describe('TinyFish automations', () => {
  test('a complete misc passes', () => {
    assert.deepEqual(
      validateAutomationMisc({ url: 'https://example.com', goal: 'Find the price', browser_profile: 'stealth', proxy_config: { enabled: true, country_code: 'US' }, timeout_seconds: 90, endpoint: 'run' }),
      [],
    );
  });

  test('each problem names the field and what is wanted', () => {
    const problems = validateAutomationMisc({ url: 'ftp://x', goal: ' ', browser_profile: 'fast', proxy_config: { on: true }, timeout_seconds: 0, endpoint: 'sse', gaol: 'typo' });
    assert.equal(problems.length, 7);
    assert.match(problems.join('\n'), /unknown field "gaol" \(known: url, goal,/);
    assert.match(problems.join('\n'), /url must be an http\(s\) URL/);
    assert.match(problems.join('\n'), /goal must be a non-empty string/);
    assert.match(problems.join('\n'), /browser_profile must be "lite" or "stealth" \(got "fast"\)/);
    assert.match(problems.join('\n'), /proxy_config must be \{"enabled"/);
    assert.match(problems.join('\n'), /timeout_seconds must be a number from 1 to 3600 \(got 0\)/);
    assert.match(problems.join('\n'), /endpoint must be "run-sse"/);
  });

  test('url and goal are required of an automation, not of a scenario\'s overrides', () => {
    assert.equal(validateAutomationMisc({}).length, 2);
    assert.deepEqual(validateAutomationMisc({ timeout_seconds: 60 }, { partial: true }), []);
  });

  test('a scenario\'s inputs override the automation\'s defaults', () => {
    const r = automationRequest('a', { url: 'https://example.com', goal: 'g', timeout_seconds: 30 }, { goal: 'other goal', endpoint: 'run' });
    assert.deepEqual(r, { url: 'https://example.com', goal: 'other goal', timeoutMs: 30_000, endpoint: 'run' });
    assert.throws(() => automationRequest('a', { url: 'https://example.com' }), /Automation tinyfish\/a cannot run: goal must be/);
  });
});
