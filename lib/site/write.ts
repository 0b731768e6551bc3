// Puts the rendered site into SITE_DIR so that a reader (a browser, nginx, the ingest server)
// never sees a half-written file: everything is written into a temporary folder inside
// SITE_DIR first (same file system), then each file is renamed over its old version, which is
// atomic. Pages the new site no longer has (a model gone from the last 7 days) are removed.
import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { renderSite } from './build.ts';
import { collectSiteData } from './data.ts';

const TEMP_PREFIX = '.tmp-';
/** A temporary folder older than this was left by a writer that died: remove it. */
const STALE_TEMP_MS = 60 * 60_000;
/** What this module owns in SITE_DIR; anything else there (a README, a favicon) is left alone. */
const OWNED = /^(?:[^/]+\.html|models\/[^/]+\.html|json\/[^/]+\.json)$/;

export interface SiteResult {
  dir: string;
  files: number;
  bytes: number;
  removed: number;
}

/**
 * Writes files (relative path → contents) into dir atomically, file by file.
 * @throws the file system error when dir cannot be written.
 */
export async function writeSiteFiles(dir: string, files: Map<string, string>): Promise<SiteResult> {
  await mkdir(dir, { recursive: true });
  await removeStaleTemps(dir);
  const temp = await mkdtemp(join(dir, TEMP_PREFIX));
  let bytes = 0;
  try {
    for (const [path, text] of files) {
      if (!OWNED.test(path)) throw new Error(`refusing to write ${path}: not a site page`);
      const target = join(temp, path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, text, { mode: 0o644 });
      bytes += Buffer.byteLength(text);
    }
    for (const path of files.keys()) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await rename(join(temp, path), join(dir, path));
    }
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  let removed = 0;
  for (const path of await ownedFiles(dir)) {
    if (files.has(path)) continue;
    await rm(join(dir, path), { force: true });
    removed++;
  }
  return { dir, files: files.size, bytes, removed };
}

/** Reads the store and writes the whole site into dir. */
export async function generateSite(store: Store, dir: string, now = new Date()): Promise<SiteResult> {
  return writeSiteFiles(dir, renderSite(await collectSiteData(store, now)));
}

async function ownedFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .filter((p) => OWNED.test(p));
}

async function removeStaleTemps(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const info = await stat(join(dir, name)).catch(() => null);
    if (info && Date.now() - info.mtimeMs > STALE_TEMP_MS) await rm(join(dir, name), { recursive: true, force: true });
  }
}

/**
 * The sweep's call: rewrites the site and logs one line. A site that cannot be written is
 * logged as an error and does not fail the sweep, whose results are already stored.
 * @returns the result, or null when writing failed.
 */
export async function refreshSite(store: Store, dir: string, logger: Logger, now = new Date()): Promise<SiteResult | null> {
  const t0 = performance.now();
  try {
    const r = await generateSite(store, dir, now);
    logger.info(`Status site: ${r.files} files (${(r.bytes / 1024).toFixed(0)} KiB) written to ${r.dir} in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    return r;
  } catch (err) {
    logger.error(`Cannot write the status site to ${dir}: ${(err as Error).message}`);
    return null;
  }
}
