import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { IngestHandler, IngestRequest } from '../../lib/ingest/handler.ts';
import { serveSite, withSite } from '../../lib/site/serve.ts';

const root = mkdtempSync(join(tmpdir(), 'llm-bench-serve-'));
after(() => rmSync(root, { recursive: true, force: true }));
const site = join(root, 'site');
mkdirSync(join(site, 'models'), { recursive: true });
mkdirSync(join(site, 'json'), { recursive: true });
mkdirSync(join(site, '.tmp-abc'), { recursive: true });
writeFileSync(join(site, 'index.html'), '<!doctype html><title>home</title>');
writeFileSync(join(site, 'models', 'groq--m-1234.html'), 'model page');
writeFileSync(join(site, 'json', 'kpis-24h.json'), '{"ok":true}');
writeFileSync(join(site, '.tmp-abc', 'index.html'), 'half written');
writeFileSync(join(site, 'notes.txt'), 'not a page');
writeFileSync(join(root, 'secret.html'), 'outside the site');
writeFileSync(join(root, 'llm-bench.sqlite'), 'the database');
symlinkSync(join(root, 'secret.html'), join(site, 'linked.html'));

const get = (url: string, method = 'GET') => serveSite(site, { method, url });

describe('serving the site from the ingest server', () => {
  test('serves the pages and JSON under /site/, index.html for the folder, with a no-request policy', async () => {
    const index = await get('/site/');
    assert.equal(index?.status, 200);
    assert.equal(index?.body, '<!doctype html><title>home</title>');
    assert.equal(index?.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(index!.headers['content-security-policy']!, /default-src 'none'/);
    assert.equal(index?.headers['x-content-type-options'], 'nosniff');
    assert.equal((await get('/site/models/groq--m-1234.html?x=1'))?.body, 'model page');
    assert.equal((await get('/site/json/kpis-24h.json'))?.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal((await get('/site/index.html', 'HEAD'))?.status, 200);
    assert.deepEqual(await get('/site'), { status: 301, headers: { ...(await get('/site'))!.headers, location: '/site/' }, body: '' });
  });

  test('paths outside /site are left to the ingest routes', async () => {
    assert.equal(await get('/health'), null);
    assert.equal(await get('/sitemap.xml'), null);
    assert.equal(await get('/ingest'), null);
  });

  test('no path reads anything outside SITE_DIR, nor dotfiles, nor other file types', async () => {
    const attempts = [
      '/site/../secret.html',
      '/site/%2e%2e/secret.html',
      '/site/%2E%2E%2Fsecret.html',
      '/site/..%2fllm-bench.sqlite',
      '/site/models/../../secret.html',
      '/site/models/..%5c..%5csecret.html',
      '/site//etc/passwd',
      '/site/%2fetc%2fpasswd.html',
      '/site/.tmp-abc/index.html',
      '/site/linked.html',
      '/site/notes.txt',
      '/site/models/',
      '/site/json',
      '/site/index.html%00.json',
      '/site/%zz.html',
      '/site/a/b/c.html',
    ];
    for (const url of attempts) {
      const r = await get(url);
      assert.equal(r?.status, 404, url);
      assert.doesNotMatch(r!.body, /outside the site|the database|half written|root:/, url);
    }
  });

  test('it is read-only: other methods are refused', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await get('/site/index.html', method);
      assert.equal(r?.status, 405);
      assert.equal(r?.headers.allow, 'GET, HEAD');
    }
  });

  test('withSite answers /site itself and hands every other request, and the stats, to the ingest handler', async () => {
    const seen: string[] = [];
    const inner = Object.assign(
      async (req: IngestRequest) => {
        seen.push(req.url);
        return { status: 200, headers: {}, body: 'ingest' };
      },
      { stats: () => ({ accepted: 7, duplicate: 0, rejected: 0, invalid: 0, unauthorized: 0, failed: 0, suppressedLogLines: 0 }) },
    ) as IngestHandler;
    const handler = withSite(inner, site);
    const req = (url: string): IngestRequest => ({ method: 'GET', url, headers: {}, body: '' });
    assert.equal((await handler(req('/site/index.html'))).body, '<!doctype html><title>home</title>');
    assert.equal((await handler(req('/health'))).body, 'ingest');
    assert.deepEqual(seen, ['/health']);
    assert.equal(handler.stats().accepted, 7);
  });
});
