// Key-shaped strings never reach the store through the ingest server: a runner's misc, a
// provider's raw usage or TinyFish's result may carry a key (the ingest key itself, an
// `sk-…` key echoed by a proxy), and what is stored is shown on the site and in the mail.
// The same patterns as the log lines (log.ts redact), applied to every string of a document.
import { redact } from '../log.ts';

// Every string of a result goes through here, and log.ts's nine patterns cost more than the
// whole schema check: a string with none of the marks they need (a key's prefix, `Bearer `,
// the `:` or `=` of `api_key=…`, the `@` of a URL's password) nor a configured secret is left
// alone at once. Kept a superset of log.ts's SECRET_PATTERNS: a test checks that each shape
// they catch is caught here too.
const MAYBE_KEY = /sk-|gsk_|fw_|csk-|AKIA|ASIA|ya29\.|bearer\s|[:=@]/i;
// A value under a key named like a credential is a secret whatever its shape ({"api_key": "abc123…"}).
const CREDENTIAL_KEY = /^(?:x-)?api[_-]?key$|^authorization$|^password$|^passwd$|^secret$|^client[_-]?secret$|^(?:access|auth|bearer|refresh|session)[_-]?token$/i;
// run_id is the document's identity (duplicates, the runner's spool files): changing it would
// merge distinct results, and it is checked to be a plain id by the schema anyway.
const IDENTITY_FIELDS = new Set(['run_id']);

/**
 * The document with every key-shaped string redacted: the given secrets (the server's own
 * keys) and anything log.ts recognises as a credential, in values and in object keys, at any
 * depth. Dates and other non-plain objects are kept as they are. Returns the same object when
 * nothing needed redacting.
 */
export function redactStored<T extends object>(doc: T, secrets: readonly string[]): T {
  const known = secrets.filter((s) => s.length >= 6);
  const clean = (text: string): string => {
    let out = text;
    for (const s of known) if (out.includes(s)) out = out.split(s).join('***');
    return MAYBE_KEY.test(out) ? redact(out) : out;
  };
  const walk = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return clean(value);
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) {
      let out: unknown[] | null = null;
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        if (v === null || (typeof v !== 'string' && typeof v !== 'object')) continue;
        const w = walk(v, depth + 1);
        if (w !== v) (out ??= [...value])[i] = w;
      }
      return out ?? value;
    }
    if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const k = clean(key);
      const w =
        depth === 0 && IDENTITY_FIELDS.has(key)
          ? v
          : typeof v === 'string' && v !== '' && CREDENTIAL_KEY.test(key)
            ? '***'
            : walk(v, depth + 1);
      if (k !== key || w !== v) changed = true;
      out[k] = w;
    }
    return changed ? out : value;
  };
  return walk(doc, 0) as T;
}
