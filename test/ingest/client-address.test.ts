// Who sent a request behind a reverse proxy (INGEST_TRUSTED_PROXIES): the forwarding headers
// are believed from trusted proxies only, and the client is the rightmost hop that is not one.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../lib/config.ts';
import { createClientAddressResolver, plainAddress } from '../../lib/ingest/client-address.ts';

describe('client address', () => {
  const r = createClientAddressResolver(['10.0.0.0/8', '192.0.2.10', 'fd00::/8', '::1']);

  test('without trusted proxies the peer is the client, whatever the headers say', () => {
    const none = createClientAddressResolver([]);
    assert.equal(none.resolve('10.1.2.3', { 'x-forwarded-for': '198.51.100.7' }), '10.1.2.3');
  });

  test('from an untrusted peer a spoofed X-Forwarded-For or Forwarded is ignored', () => {
    assert.equal(r.resolve('203.0.113.9', { 'x-forwarded-for': '198.51.100.7' }), '203.0.113.9');
    assert.equal(r.resolve('203.0.113.9', { forwarded: 'for=198.51.100.7' }), '203.0.113.9');
  });

  test('from a trusted proxy the rightmost untrusted X-Forwarded-For hop is the client, so a client cannot name itself', () => {
    assert.equal(r.resolve('10.0.0.5', { 'x-forwarded-for': '198.51.100.7' }), '198.51.100.7');
    // The client sent "1.2.3.4" itself; its proxy appended its real address, then a second trusted proxy.
    assert.equal(r.resolve('192.0.2.10', { 'x-forwarded-for': '1.2.3.4, 198.51.100.7, 10.9.9.9' }), '198.51.100.7');
    assert.equal(r.resolve('10.0.0.5', { 'x-forwarded-for': ['1.2.3.4', '198.51.100.7'] }), '198.51.100.7', 'several header lines read as one list');
  });

  test('Forwarded (RFC 7239) is read with quoted IPv6 addresses and ports, and preferred to X-Forwarded-For', () => {
    assert.equal(r.resolve('10.0.0.5', { forwarded: 'for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.9', 'x-forwarded-for': '198.51.100.7' }), '2001:db8:cafe::17');
    assert.equal(r.resolve('::1', { forwarded: 'For=192.0.2.60:8080;by=203.0.113.43' }), '192.0.2.60');
  });

  test('IPv6 CIDRs and IPv4-mapped peers are matched', () => {
    assert.equal(r.resolve('fd12::3', { 'x-forwarded-for': '2001:db8::1' }), '2001:db8::1');
    assert.equal(r.resolve('::ffff:10.1.1.1', { 'x-forwarded-for': '198.51.100.7' }), '198.51.100.7');
    assert.equal(r.resolve('2001:db8::2', { 'x-forwarded-for': '198.51.100.7' }), '2001:db8::2');
  });

  test('a hop that is not an address (unknown, an obfuscated name) leaves the last address known', () => {
    assert.equal(r.resolve('10.0.0.5', { forwarded: 'for=unknown' }), '10.0.0.5');
    assert.equal(r.resolve('10.0.0.5', { 'x-forwarded-for': 'garbage, 10.0.0.7' }), '10.0.0.7');
    assert.equal(r.resolve('10.0.0.5', {}), '10.0.0.5');
  });

  test('addresses are written plainly in limits and logs', () => {
    assert.equal(plainAddress('[2001:db8::1]:443'), '2001:db8::1');
    assert.equal(plainAddress('192.0.2.1:80'), '192.0.2.1');
    assert.equal(plainAddress('::ffff:127.0.0.1'), '127.0.0.1');
  });

  test('INGEST_TRUSTED_PROXIES takes addresses and CIDRs of both families, and names a bad entry', () => {
    const env = (v: string) => loadConfig({ env: { INGEST_TRUSTED_PROXIES: v }, dotenvPath: false });
    assert.deepEqual(env('127.0.0.1, 10.0.0.0/8 fd00::/8,::1').ingest.trustedProxies, ['127.0.0.1', '10.0.0.0/8', 'fd00::/8', '::1']);
    for (const bad of ['10.0.0.0/33', 'proxy.example', 'fd00::/129', '1.2.3.4/8/8']) {
      assert.throws(() => env(bad), (err: unknown) => err instanceof ConfigError && err.message.includes('INGEST_TRUSTED_PROXIES') && err.message.includes(bad), bad);
    }
  });

  test('the per-address limits are settings with the earlier values as defaults', () => {
    const d = loadConfig({ env: {}, dotenvPath: false }).ingest;
    assert.deepEqual([d.maxConnections, d.maxConnectionsPerAddress, d.wrongKeysPerMinute, d.trustedProxies], [256, 64, 10, []]);
    const s = loadConfig({ env: { INGEST_MAX_CONNECTIONS: '1000', INGEST_MAX_CONNECTIONS_PER_ADDRESS: '8', INGEST_WRONG_KEYS_PER_MINUTE: '3' }, dotenvPath: false }).ingest;
    assert.deepEqual([s.maxConnections, s.maxConnectionsPerAddress, s.wrongKeysPerMinute], [1000, 8, 3]);
  });
});
