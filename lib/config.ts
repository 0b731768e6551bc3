// The environment, read once into a typed, frozen object. Nothing else in lib/ reads
// process.env: scripts call loadConfig() at start-up and pass the result down.
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { existsSync, readFileSync } from 'node:fs';

export const PROVIDERS = [
  'openai',
  'anthropic',
  'groq',
  'together',
  'deepinfra',
  'fireworks',
  'cerebras',
  'bedrock',
  'vertex',
  'mock',
  // A browser agent, not a chat model: its automations run through lib/tinyfish/ (SPEC 15).
  'tinyfish',
] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** The OpenAI-compatible chat-completions providers, and their documented base URLs. */
export const COMPAT_BASE_URLS = {
  groq: 'https://api.groq.com/openai/v1',
  together: 'https://api.together.xyz/v1',
  deepinfra: 'https://api.deepinfra.com/v1/openai',
  fireworks: 'https://api.fireworks.ai/inference/v1',
  cerebras: 'https://api.cerebras.ai/v1',
} as const;
export type CompatProvider = keyof typeof COMPAT_BASE_URLS;

export const DEFAULT_PROMPT = 'Tell a long and happy story about the history of the world.';

export interface ApiProviderConfig {
  apiKey: string | null;
  baseUrl: string;
}

export interface Config {
  store: {
    mongodbUri: string | null;
    mongodbDb: string;
    mongodbConnectTimeoutMs: number;
    sqlitePath: string;
    collections: {
      metrics: string;
      errors: string;
      models: string;
      openrouterCatalog: string;
      providerCatalog: string;
      /** Metric rows of every benchmark profile but the published one (SPEC 4.1). */
      probe: string;
      /** One freshness document per model, for the dashboard's badges (SPEC 4.7). */
      modelHealth: string;
      scenarios: string;
      agentRuns: string;
      /** Models a sweep did not start because of BENCH_DAILY_BUDGET_USD, for the health mail (SPEC 17). */
      sweepSkips: string;
      benchSweeps: string;
      /** The one document GET /health rewrites to check that a write goes through. */
      ingestHealth: string;
      /** `npm run store -- migrate`: what each migration changed, so it can be put back. */
      migrations: string;
      /** Daily rollups per (provider, model, scenario, UTC day) (SPEC 20). */
      rollups: string;
      /** The days rolled up and when, and where retention got to. */
      rollupDays: string;
    };
  };
  /** SPEC 20: what raw detail is kept; everything, unless a number of days is set. */
  retention: {
    /** BENCH_RAW_RETENTION_DAYS: per-chunk gaps (times_between_tokens) dropped after this many days. */
    gapsDays: number | null;
    /** BENCH_ROW_RETENTION_DAYS: whole metric and error rows removed after this many days, only on days a rollup covers. */
    rowsDays: number | null;
    /** BENCH_RETENTION_DASHBOARD: on MongoDB, also prune metrics_cloud_v2 and errors_cloud, which the public dashboard reads. */
    includeDashboard: boolean;
  };
  bench: {
    freshMinutes: number;
    /** Explicit model list from BENCHMARK_MODELS ("provider:model" or bare ids with --provider). */
    models: string[];
    concurrencyPerProvider: number;
    callTimeoutMs: number;
    stallTimeoutMs: number;
    sweepDeadlineMs: number;
    maxAttempts: number;
    maxRetryDelayMs: number;
    profile: { id: string; prompt: string; maxTokens: number; temperature: number };
    runner: string;
    sweepPeriodMinutes: number;
  };
  providers: {
    openai: ApiProviderConfig;
    anthropic: ApiProviderConfig;
    groq: ApiProviderConfig;
    together: ApiProviderConfig;
    deepinfra: ApiProviderConfig;
    fireworks: ApiProviderConfig;
    cerebras: ApiProviderConfig;
    openrouter: ApiProviderConfig;
    bedrock: {
      /** Region when the model's misc.region and the id rules say nothing. */
      defaultRegion: string;
      /** AWS_ENDPOINT_URL_BEDROCK_RUNTIME: overrides the runtime endpoint (tests, VPC endpoints). */
      runtimeEndpoint: string | null;
      /** AWS_ENDPOINT_URL_BEDROCK: overrides the control-plane endpoint used by discovery. */
      controlEndpoint: string | null;
      /** True when some AWS credential source is configured (keys, profile, web identity, container). */
      hasCredentials: boolean;
    };
    vertex: {
      project: string | null;
      location: string;
      /** Overrides the aiplatform endpoint (tests). */
      baseUrl: string | null;
      /** A static OAuth access token; otherwise Google's application default credentials. */
      accessToken: string | null;
    };
    tinyfish: {
      apiKey: string | null;
      /** Without the /v1 path: the client appends /v1/automation/run-sse or /v1/automation/run. */
      baseUrl: string;
      /** Simulate every automation run (no key, no network, no cost); rows are marked mock. */
      mockMode: boolean;
      /** A whole run's limit when the automation sets no timeout_seconds. */
      runTimeoutMs: number;
      /** The longest silence (no event, heartbeat included) before a run counts as stalled. */
      stallTimeoutMs: number;
    };
  };
  ingest: {
    apiUrl: string | null;
    apiKey: string | null;
    host: string;
    port: number;
    maxBodyBytes: number;
    spoolDir: string;
    allowNoKey: boolean;
    /**
     * INGEST_TRUSTED_PROXIES: addresses and CIDRs (IPv4 or IPv6) of reverse proxies in front of
     * the server; only from these are X-Forwarded-For and Forwarded read for the client address.
     */
    trustedProxies: readonly string[];
    /** Open connections at most (INGEST_MAX_CONNECTIONS). */
    maxConnections: number;
    /** Open connections, and requests in flight, per client address (INGEST_MAX_CONNECTIONS_PER_ADDRESS). */
    maxConnectionsPerAddress: number;
    /** Wrong keys per client address a minute before they are answered 429 (INGEST_WRONG_KEYS_PER_MINUTE). */
    wrongKeysPerMinute: number;
  };
  mail: {
    notifyEmail: string | null;
    from: string;
    sendmailPath: string;
    smtpUrl: string | null;
  };
  health: { model: string };
  /** The static status site (SPEC 16). */
  site: {
    /** Where the site is written after every sweep (under systemd, the state directory). */
    dir: string;
    /** The ingest server also serves the site, read-only, under /site/. */
    serveFromIngest: boolean;
  };
  log: { level: 'debug' | 'info' | 'warn' | 'error'; underSystemd: boolean };
  /** Every secret value in this config, for log and message redaction. */
  secrets: readonly string[];
  /** SPEC 17: what a day of benchmarking may spend, and where the sweep's Prometheus figures go. */
  cost: {
    /** BENCH_DAILY_BUDGET_USD: null for no limit. */
    dailyBudgetUsd: number | null;
    /** PROM_TEXTFILE: absolute path of the node_exporter textfile (ends in .prom), or null. */
    promTextfile: string | null;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

type Env = Record<string, string | undefined>;

export interface LoadConfigOptions {
  /** The environment to read; defaults to process.env. */
  env?: Env;
  /** A .env file merged under env (env wins). false to skip. Defaults to ./.env. */
  dotenvPath?: string | false;
  /** Refuse an LLM_BENCH_DB whose folder does not exist (default true; false to read a config for another machine). */
  storeFolderMustExist?: boolean;
}

/** The embedded store's file when LLM_BENCH_DB is unset; its folder is created on first use. */
export const DEFAULT_SQLITE_PATH = './data/llm-bench.sqlite';

/**
 * Reads the environment (and a .env file, quietly) into a frozen Config.
 * @throws ConfigError listing every bad variable with the value it got.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const base = options.env ?? process.env;
  const dotenvPath = options.dotenvPath === undefined ? '.env' : options.dotenvPath;
  const fromFile = dotenvPath ? readDotenv(dotenvPath) : {};
  const env: Env = { ...fromFile, ...base };
  const problems: string[] = [];
  const r = reader(env, problems);

  const mongodbUri = r.str('MONGODB_URI');
  if (mongodbUri && !/^mongodb(\+srv)?:\/\//.test(mongodbUri)) {
    problems.push(`MONGODB_URI must start with mongodb:// or mongodb+srv:// (got ${JSON.stringify(redactUrl(mongodbUri))})`);
  }
  const apiProvider = (name: string, defaultUrl: string): ApiProviderConfig => ({
    apiKey: r.str(`${name}_API_KEY`),
    baseUrl: r.url(`${name}_BASE_URL`, defaultUrl),
  });
  const logLevel = r.str('LOG_LEVEL') ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of debug, info, warn, error (got ${JSON.stringify(logLevel)})`);
  }
  const host = hostname();

  const config: Config = {
    store: {
      mongodbUri,
      mongodbDb: r.str('MONGODB_DB') ?? 'llm-bench',
      mongodbConnectTimeoutMs: r.int('MONGODB_CONNECT_TIMEOUT_MS', 5000, 100, 600_000),
      // Neither MongoDB nor a remote runner (INGEST_API_URL: results go to the ingest server) opens this file.
      sqlitePath: sqlitePath(r.str('LLM_BENCH_DB'), { check: !mongodbUri && !r.str('INGEST_API_URL') && options.storeFolderMustExist !== false, problems }),
      collections: {
        metrics: r.str('MONGODB_COLLECTION_CLOUD') ?? 'metrics_cloud_v2',
        errors: r.str('MONGODB_COLLECTION_ERRORS') ?? 'errors_cloud',
        models: r.str('MONGODB_COLLECTION_MODELS') ?? 'models',
        openrouterCatalog: r.str('MONGODB_COLLECTION_OPENROUTER') ?? 'openrouter_catalog',
        providerCatalog: r.str('MONGODB_COLLECTION_PROVIDER_CATALOG') ?? 'provider_catalog',
        probe: r.str('MONGODB_COLLECTION_PROBE') ?? 'metrics_cloud_probe',
        modelHealth: r.str('MONGODB_COLLECTION_MODEL_HEALTH') ?? 'bench_model_health',
        scenarios: r.str('MONGODB_COLLECTION_SCENARIOS') ?? 'scenarios',
        agentRuns: r.str('MONGODB_COLLECTION_AGENT_RUNS') ?? 'agent_runs',
        sweepSkips: r.str('MONGODB_COLLECTION_SWEEP_SKIPS') ?? 'sweep_skips',
        benchSweeps: r.str('MONGODB_COLLECTION_BENCH_SWEEPS') ?? 'bench_sweeps',
        ingestHealth: r.str('MONGODB_COLLECTION_INGEST_HEALTH') ?? 'ingest_health',
        migrations: r.str('MONGODB_COLLECTION_MIGRATIONS') ?? 'llm_bench_migrations',
        rollups: r.str('MONGODB_COLLECTION_ROLLUPS') ?? 'bench_daily_rollups',
        rollupDays: r.str('MONGODB_COLLECTION_ROLLUP_DAYS') ?? 'bench_daily_rollup_days',
      },
    },
    bench: {
      freshMinutes: r.num('FRESH_MINUTES', 30, 0, 100_000),
      models: r.list('BENCHMARK_MODELS'),
      concurrencyPerProvider: r.int('BENCH_PROVIDER_CONCURRENCY', 1, 1, 64),
      callTimeoutMs: r.int('BENCH_CALL_TIMEOUT_MS', 120_000, 100, 3_600_000),
      stallTimeoutMs: r.int('BENCH_STALL_TIMEOUT_MS', 30_000, 50, 3_600_000),
      sweepDeadlineMs: r.int('BENCH_SWEEP_DEADLINE_MS', 25 * 60_000, 1000, 86_400_000),
      maxAttempts: r.int('BENCH_MAX_ATTEMPTS', 3, 1, 10),
      maxRetryDelayMs: r.int('BENCH_MAX_RETRY_DELAY_MS', 30_000, 0, 600_000),
      profile: {
        id: r.str('BENCH_PROFILE_ID') ?? 'cloud-default-v1',
        prompt: r.str('BENCH_PROMPT') ?? DEFAULT_PROMPT,
        maxTokens: r.int('BENCH_MAX_TOKENS', 64, 1, 1_000_000),
        temperature: r.num('BENCH_TEMPERATURE', 0.1, 0, 2),
      },
      runner: r.str('RUNNER_NAME') ?? host,
      sweepPeriodMinutes: r.num('SWEEP_PERIOD_MINUTES', 30, 1, 100_000),
    },
    providers: {
      openai: apiProvider('OPENAI', 'https://api.openai.com/v1'),
      anthropic: apiProvider('ANTHROPIC', 'https://api.anthropic.com'),
      groq: apiProvider('GROQ', COMPAT_BASE_URLS.groq),
      together: apiProvider('TOGETHER', COMPAT_BASE_URLS.together),
      deepinfra: apiProvider('DEEPINFRA', COMPAT_BASE_URLS.deepinfra),
      fireworks: apiProvider('FIREWORKS', COMPAT_BASE_URLS.fireworks),
      cerebras: apiProvider('CEREBRAS', COMPAT_BASE_URLS.cerebras),
      openrouter: apiProvider('OPENROUTER', 'https://openrouter.ai/api/v1'),
      bedrock: {
        defaultRegion: r.str('AWS_REGION') ?? r.str('AWS_DEFAULT_REGION') ?? 'us-east-1',
        runtimeEndpoint: r.urlOrNull('AWS_ENDPOINT_URL_BEDROCK_RUNTIME'),
        controlEndpoint: r.urlOrNull('AWS_ENDPOINT_URL_BEDROCK'),
        hasCredentials: Boolean(
          r.str('AWS_ACCESS_KEY_ID') ??
            r.str('AWS_PROFILE') ??
            r.str('AWS_WEB_IDENTITY_TOKEN_FILE') ??
            r.str('AWS_CONTAINER_CREDENTIALS_FULL_URI') ??
            r.str('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI') ??
            (r.bool('BEDROCK_USE_INSTANCE_ROLE', false) ? 'role' : null),
        ),
      },
      vertex: {
        project: r.str('VERTEX_PROJECT') ?? r.str('GOOGLE_CLOUD_PROJECT'),
        location: r.str('VERTEX_LOCATION') ?? 'us-central1',
        baseUrl: r.urlOrNull('VERTEX_BASE_URL'),
        accessToken: r.str('VERTEX_ACCESS_TOKEN'),
      },
      tinyfish: {
        apiKey: r.str('TINYFISH_API_KEY'),
        baseUrl: r.url('TINYFISH_BASE_URL', 'https://agent.tinyfish.ai'),
        mockMode: r.bool('TINYFISH_MOCK_MODE', false),
        runTimeoutMs: r.int('TINYFISH_RUN_TIMEOUT_MS', 180_000, 1000, 3_600_000),
        stallTimeoutMs: r.int('TINYFISH_STALL_TIMEOUT_MS', 60_000, 50, 3_600_000),
      },
    },
    ingest: {
      apiUrl: r.urlOrNull('INGEST_API_URL'),
      apiKey: r.str('INGEST_API_KEY'),
      host: r.str('INGEST_HOST') ?? '127.0.0.1',
      port: r.int('INGEST_PORT', 8080, 0, 65535),
      maxBodyBytes: r.int('INGEST_MAX_BODY_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
      spoolDir: resolve(r.str('INGEST_SPOOL_DIR') ?? './data/spool'),
      allowNoKey: r.bool('INGEST_ALLOW_NO_KEY', false),
      trustedProxies: addressList(r.list('INGEST_TRUSTED_PROXIES'), 'INGEST_TRUSTED_PROXIES', problems),
      maxConnections: r.int('INGEST_MAX_CONNECTIONS', 256, 1, 100_000),
      maxConnectionsPerAddress: r.int('INGEST_MAX_CONNECTIONS_PER_ADDRESS', 64, 1, 100_000),
      wrongKeysPerMinute: r.int('INGEST_WRONG_KEYS_PER_MINUTE', 10, 1, 100_000),
    },
    mail: {
      notifyEmail: r.str('NOTIFY_EMAIL'),
      from: r.str('MAIL_FROM') ?? `llm-bench@${host}`,
      sendmailPath: r.str('SENDMAIL_PATH') ?? '/usr/sbin/sendmail',
      smtpUrl: r.str('SMTP_URL'),
    },
    health: { model: r.str('HEALTH_CHECK_MODEL') ?? 'gpt-4o-mini' },
    retention: {
      gapsDays: r.str('BENCH_RAW_RETENTION_DAYS') === null ? null : r.int('BENCH_RAW_RETENTION_DAYS', 0, 1, 100_000),
      // At least 31 days: the 24-hour, 7-day and health-report reads are exact from raw rows.
      rowsDays: r.str('BENCH_ROW_RETENTION_DAYS') === null ? null : r.int('BENCH_ROW_RETENTION_DAYS', 0, 31, 100_000),
      includeDashboard: r.bool('BENCH_RETENTION_DASHBOARD', false),
    },
    site: {
      dir: resolve(r.str('SITE_DIR') ?? './data/site'),
      serveFromIngest: r.bool('INGEST_SERVE_SITE', false),
    },
    log: {
      level: logLevel as Config['log']['level'],
      // systemd sets JOURNAL_STREAM for services whose stdout/stderr go to the journal.
      underSystemd: Boolean(r.str('JOURNAL_STREAM')),
    },
    secrets: [],
    cost: {
      dailyBudgetUsd: r.str('BENCH_DAILY_BUDGET_USD') === null ? null : r.num('BENCH_DAILY_BUDGET_USD', 0, 0, 1_000_000),
      promTextfile: promTextfile(r.str('PROM_TEXTFILE'), problems),
    },
  };

  const secretNames = Object.keys(env).filter((k) =>
    /(_API_KEY|_SECRET_ACCESS_KEY|_SESSION_TOKEN|_ACCESS_TOKEN|_PASSWORD)$/.test(k),
  );
  const secrets = secretNames.map((k) => r.str(k)).filter((v): v is string => Boolean(v) && v!.length >= 6);
  for (const url of [mongodbUri, config.mail.smtpUrl]) {
    const password = url ? urlPassword(url) : null;
    if (password) secrets.push(password);
  }
  config.secrets = secrets;

  const ingestUrl = config.ingest.apiUrl;
  if (ingestUrl && new URL(ingestUrl).protocol === 'http:' && !isLoopbackHost(new URL(ingestUrl).hostname)) {
    problems.push(`INGEST_API_URL must use https:// unless it is on this machine: the key would cross the network in clear text (got ${JSON.stringify(redactUrl(ingestUrl))})`);
  }
  // A secret pasted into the wrong variable would be printed by that variable's problem,
  // before the script could register the secrets with the logger.
  if (problems.length > 0) throw new ConfigError(problems.map((p) => hideSecrets(p, secrets)));
  return deepFreeze(config);
}

function hideSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}

/** localhost, 127.0.0.0/8 and ::1 (as URL.hostname gives them: IPv6 in brackets). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Addresses and CIDRs (`10.0.0.5`, `10.0.0.0/8`, `::1`, `fd00::/8`) as given; each bad one is a problem. */
function addressList(entries: string[], name: string, problems: string[]): string[] {
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const max = family === 6 ? 128 : 32;
    if (family === 0 || extra !== undefined || (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= max))) {
      problems.push(`${name} must list IP addresses or CIDRs, separated by commas (got ${JSON.stringify(entry)})`);
    }
  }
  return entries;
}

/** Shortest INGEST_API_KEY the ingest server starts with, and below which it warns. */
export const INGEST_KEY_MIN_CHARS = 16;
export const INGEST_KEY_WARN_CHARS = 32;

/**
 * What the ingest server must refuse to start with (problems) or start with a warning:
 * a short key, or no key on an address other machines can reach.
 */
export function ingestServerChecks(config: Config): { problems: string[]; warnings: string[] } {
  const { apiKey, allowNoKey, host } = config.ingest;
  const problems: string[] = [];
  const warnings: string[] = [];
  if (apiKey) {
    if (apiKey.length < INGEST_KEY_MIN_CHARS) {
      problems.push(`INGEST_API_KEY must be at least ${INGEST_KEY_MIN_CHARS} characters (got ${apiKey.length}); e.g. openssl rand -hex 24`);
    } else if (apiKey.length < INGEST_KEY_WARN_CHARS) {
      warnings.push(`INGEST_API_KEY has ${apiKey.length} characters; ${INGEST_KEY_WARN_CHARS} or more are advised (e.g. openssl rand -hex 24)`);
    }
  } else if (!allowNoKey) {
    problems.push('INGEST_API_KEY is not set: refusing to accept results from anyone (set INGEST_ALLOW_NO_KEY=true only for a local test)');
  } else if (!isLoopbackHost(host)) {
    problems.push(`INGEST_ALLOW_NO_KEY=true is only for a local test: INGEST_HOST must then be a loopback address (got ${JSON.stringify(host)})`);
  }
  return { problems, warnings };
}

// A mistyped LLM_BENCH_DB (/srv/bench/x.sqlite for /srv/bench-data/x.sqlite) would otherwise
// be created, folders and all, and the operator's history would seem gone. Only the default
// ./data/ is created on first use (npm run demo in a fresh clone).
function sqlitePath(raw: string | null, o: { check: boolean; problems: string[] }): string {
  const path = resolve(raw ?? DEFAULT_SQLITE_PATH);
  const folder = dirname(path);
  if (o.check && folder !== dirname(resolve(DEFAULT_SQLITE_PATH)) && !existsSync(folder)) {
    o.problems.push(
      `LLM_BENCH_DB is in a folder that does not exist, ${folder} (got ${JSON.stringify(raw)}): create it first (mkdir -p ${folder}), or leave LLM_BENCH_DB unset for ${DEFAULT_SQLITE_PATH}`,
    );
  }
  return path;
}

// node_exporter's textfile collector reads only *.prom files: any other name would be written
// every sweep and never scraped.
function promTextfile(raw: string | null, problems: string[]): string | null {
  if (raw === null) return null;
  if (!raw.endsWith('.prom')) {
    problems.push(`PROM_TEXTFILE must end in .prom, the only files node_exporter's textfile collector reads (got ${JSON.stringify(raw)})`);
    return null;
  }
  return resolve(raw);
}

function readDotenv(path: string): Env {
  try {
    return parseDotenv(readFileSync(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

function reader(env: Env, problems: string[]) {
  // Empty is unset: a blank line in .env must not turn into a value.
  const str = (name: string): string | null => {
    const v = env[name]?.trim();
    return v ? v : null;
  };
  const bad = (name: string, want: string, got: string) =>
    problems.push(`${name} must be ${want} (got ${JSON.stringify(got)})`);
  const num = (name: string, def: number, min: number, max: number, integer = false): number => {
    const raw = str(name);
    if (raw === null) return def;
    const v = Number(raw);
    const want = `${integer ? 'an integer' : 'a number'} between ${min} and ${max}`;
    if (!Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
      bad(name, want, raw);
      return def;
    }
    return v;
  };
  const url = (name: string, def: string): string => urlOrNull(name) ?? def;
  const urlOrNull = (name: string): string | null => {
    const raw = str(name);
    if (raw === null) return null;
    try {
      const u = new URL(raw);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
      return raw.replace(/\/+$/, '');
    } catch {
      bad(name, 'an http(s) URL', redactUrl(raw));
      return null;
    }
  };
  const bool = (name: string, def: boolean): boolean => {
    const raw = str(name);
    if (raw === null) return def;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    bad(name, 'true or false', raw);
    return def;
  };
  const list = (name: string): string[] =>
    (str(name) ?? '')
      .split(/[,\s]+/)
      .map((s) => s.trim())
      .filter(Boolean);
  return {
    str,
    num,
    int: (name: string, def: number, min: number, max: number) => num(name, def, min, max, true),
    url,
    urlOrNull,
    bool,
    list,
  };
}

function urlPassword(url: string): string | null {
  try {
    const p = decodeURIComponent(new URL(url).password);
    return p || null;
  } catch {
    return null;
  }
}

/** A URL with its password replaced, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@/]+)@/, '//$1:***@');
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export function isProviderName(name: string): name is ProviderName {
  return (PROVIDERS as readonly string[]).includes(name);
}
