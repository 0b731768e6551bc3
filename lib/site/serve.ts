// Serving the status site read-only from the ingest server (INGEST_SERVE_SITE=true), under
// /site/. Only GET and HEAD, only the site's own pages (.html and .json below SITE_DIR), no
// directory listing, no dotfiles: a path that is not exactly such a file is a 404, whatever
// its dots, encodings or symlinks, so nothing outside SITE_DIR can be read.
import { readFile, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { wrapIngestHandler, type IngestHandler, type IngestRequest, type IngestResponse } from '../ingest/handler.ts';

export const SITE_PREFIX = '/site/';

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  json: 'application/json; charset=utf-8',
};
// The pages carry the same policy in a meta tag; the header also covers the JSON files.
const HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};
/** One path segment of a site file: no leading dot, nothing a file system treats specially. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

function notFound(): IngestResponse {
  return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8', ...HEADERS }, body: 'not found\n' };
}

/**
 * Answers a request for the site, or null when the path is not under /site (so the ingest
 * routes handle it).
 */
export async function serveSite(dir: string, req: Pick<IngestRequest, 'method' | 'url'>): Promise<IngestResponse | null> {
  const path = req.url.split('?')[0]!;
  if (!isSitePath(path)) return null;
  if (path === '/site') return { status: 301, headers: { location: SITE_PREFIX, ...HEADERS }, body: '' };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return { status: 405, headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8', ...HEADERS }, body: 'read-only\n' };
  }
  let rest: string;
  try {
    rest = decodeURIComponent(path.slice(SITE_PREFIX.length));
  } catch {
    return notFound();
  }
  if (rest === '') rest = 'index.html';
  const segments = rest.split('/');
  const ext = /\.([a-z]+)$/.exec(rest)?.[1] ?? '';
  if (!TYPES[ext] || segments.length > 2 || !segments.every((s) => SEGMENT.test(s))) return notFound();
  try {
    // The checks above already keep the path inside dir; realpath also refuses a symlink
    // inside it that points elsewhere.
    const root = await realpath(dir);
    const file = await realpath(join(root, ...segments));
    if (!file.startsWith(root + sep)) return notFound();
    const body = await readFile(file, 'utf8');
    return { status: 200, headers: { 'content-type': TYPES[ext]!, ...HEADERS }, body: req.method === 'HEAD' ? '' : body };
  } catch {
    return notFound();
  }
}

/**
 * The ingest handler with the site served beside its routes. Everything else of the handler
 * (the pre-body key check, its rate-limited warnings, its counts) is passed on whole; only the
 * site's own paths skip the key check, as they take no body and need no key.
 */
export function withSite(handler: IngestHandler, dir: string): IngestHandler {
  return wrapIngestHandler(handler, async (req) => (await serveSite(dir, req)) ?? handler(req), {
    preflight: (req) => (isSitePath(req.url) ? null : handler.preflight(req)),
  });
}

function isSitePath(url: string): boolean {
  const path = url.split('?')[0]!;
  return path === '/site' || path.startsWith(SITE_PREFIX);
}
