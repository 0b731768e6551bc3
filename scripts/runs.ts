// KPIs and runs from the shell (SPEC 16), and the status site on demand. Thin: arguments here,
// the queries in the store, the formatting in lib/runs/, the site in lib/site/.
import { UsageError, parseArgsOrUsage, runMain } from '../lib/cli.ts';
import { loadConfig } from '../lib/config.ts';
import { registerSecrets } from '../lib/log.ts';
import { formatAgentKpis, formatAgentRun, formatAgentRuns, formatKpis, formatRun, formatRuns, type OutputFormat } from '../lib/runs/format.ts';
import { formatGroups, readWindowGroupErrors, readWindowRows, summarizeGroups } from '../lib/runs/groups.ts';
import { parseSince, runWindow } from '../lib/runs/window.ts';
import { formatSweeps } from '../lib/runs/sweeps.ts';
import { deriveWorkloads, formatWorkloads } from '../lib/runs/workloads.ts';
import { generateSite } from '../lib/site/write.ts';
import type { AgentRunDoc } from '../lib/store/documents.ts';
import { openStore } from '../lib/store/open-store.ts';
import { DAY_MS, LONG_WINDOW_DAYS, windowKpis } from '../lib/store/rollups.ts';
import { formatRollupsOutcome, runRollupsCommand } from '../lib/store/rollups-status.ts';

const USAGE = `Usage: runs.ts kpis [--since T | --days N] [--provider P] [--model M] [--scenario S] [--kind llm|agent] [--json | --csv]
       runs.ts list [--since T] [--provider P] [--model M] [--scenario S] [--outcome ok|failed|timeout] [--kind llm|agent] [--limit N] [--json | --csv]
       runs.ts show RUN_ID [--json]
       runs.ts groups [--since T | --days N] [--provider P] [--model M] [--json | --csv]
       runs.ts workloads [--since T | --days N] [--provider P] [--model M] [--json | --csv]
       runs.ts sweeps [--since T | --days N] [--json | --csv]
       runs.ts site
       runs.ts rollups [--rebuild [--since T | --days N]] [--prune] [--json]

  kpis   runs, success rate and p50/p95/p99 of TTFT, total time, tokens/s and decode speed per
         provider, model and scenario, per provider and overall; then the agent runs' (TinyFish)
         runs, outcomes and p50/p95/p99 of total duration and time to first progress per
         automation and scenario (default: the last 1 day)
  list   recent runs, successes and failures, newest first (default: the latest 20 LLM runs;
         agent runs with --kind agent or --provider tinyfish)
  show   one run in full, by its run_id (an LLM run or an agent run)
  groups parallel groups (scenarios with --parallel): calls recorded of those started, wall
         time, aggregate tokens/s over it, and each call's slowdown (the model's single-call
         median decode speed over the call's) (default: the last 3 days)
  workloads  per model, from the workload scenarios: median TTFT per input length, seconds
         per 1,000 input tokens (Theil–Sen line, with R²), decode speed of 64-token and long
         (256+) answers, end-to-end time of a 500-token answer (default: the last 3 days)
  sweeps what each sweep measured of itself: the runner's own added TTFT and decode error
         (a loopback calibration stream), each lane host's DNS, connect, TLS and first-byte
         times, newest first, then each host's medians (default: the last 1 day)
  site   rewrite the status site in SITE_DIR now (bench-once does it after every sweep)
  rollups  the days with daily rollups and the store's size a year from now; --rebuild
         recomputes them from the raw rows (all history, or since T); --prune applies
         BENCH_RAW_RETENTION_DAYS and BENCH_ROW_RETENTION_DAYS in full (a sweep does a slice).
         kpis over more than 8 days read the rollups (README: History over years)

  --since T    an age (90m, 24h, 7d) or a UTC date (2026-11-27, 2026-11-27T08:00Z)
  --days N     the last N days (kpis)
  --kind K     llm: metric rows only; agent: TinyFish agent runs only (--provider tinyfish
               means agent). kpis shows both unless told; --csv writes one table, the LLM one
               unless --kind agent
  --model M    for agent runs: the automation
  --outcome O  ok or failed (failed includes timeouts); timeout: agent runs that timed out`;

/** Sweeps `runs sweeps` reads at most: 30 days of a 30-minute timer. */
const SWEEPS_CAP = 1440;

const OPTIONS = {
  since: { type: 'string' },
  days: { type: 'string' },
  provider: { type: 'string' },
  model: { type: 'string' },
  scenario: { type: 'string' },
  outcome: { type: 'string' },
  kind: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  csv: { type: 'boolean' },
  rebuild: { type: 'boolean' },
  prune: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function main(): Promise<number> {
  const { values, positionals } = parseArgsOrUsage({ options: OPTIONS, strict: true, allowPositionals: true }, USAGE);
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (values.json && values.csv) throw new UsageError('Give --json or --csv, not both');
  const format: OutputFormat = values.json ? 'json' : values.csv ? 'csv' : 'table';
  const filter = {
    ...(values.provider !== undefined ? { provider: values.provider } : {}),
    ...(values.model !== undefined ? { model: values.model } : {}),
    ...(values.scenario !== undefined ? { scenario: values.scenario } : {}),
  };
  const now = new Date();
  const usage = <T>(f: () => T): T => {
    try {
      return f();
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  };
  const expectArgs = (n: number, what: string) => {
    if (rest.length !== n) throw new UsageError(`${command} takes ${what}: see runs.ts --help`);
  };

  // TinyFish agent runs are the provider tinyfish's runs: --provider tinyfish asks for them.
  if (values.kind !== undefined && values.kind !== 'llm' && values.kind !== 'agent') throw new UsageError(`--kind must be llm or agent (got '${values.kind}')`);
  if (values.kind === 'agent' && values.provider !== undefined && values.provider !== 'tinyfish') {
    throw new UsageError(`agent runs are provider tinyfish's (got --provider ${values.provider})`);
  }
  const kind = values.kind ?? (values.provider === 'tinyfish' ? 'agent' : undefined);
  const agentFilter = {
    ...(values.model !== undefined ? { automation: values.model } : {}),
    ...(values.scenario !== undefined ? { scenario: values.scenario } : {}),
  };

  const config = loadConfig();
  registerSecrets(config.secrets);
  switch (command) {
    case 'kpis': {
      expectArgs(0, 'no arguments');
      const w = usage(() => runWindow({ since: values.since, days: values.days, now, defaultDays: 1 }));
      const store = await openStore(config);
      try {
        if (kind === 'agent') process.stdout.write(formatAgentKpis(await store.agentRunKpis(w, agentFilter), w, format));
        else {
          // Another provider's filter leaves no agent run; CSV is one table.
          const withAgents = kind === undefined && values.provider === undefined && format !== 'csv';
          if (format === 'table' && w.until.getTime() - w.since.getTime() > LONG_WINDOW_DAYS * DAY_MS) {
            process.stderr.write(`Over more than ${LONG_WINDOW_DAYS} days each percentile is the runs-weighted median of the daily percentiles (README: History over years).\n`);
          }
          process.stdout.write(formatKpis(await windowKpis(store, w, filter), w, format, withAgents ? await store.agentRunKpis(w, agentFilter) : undefined));
        }
      } finally {
        await store.close();
      }
      return 0;
    }
    case 'groups':
    case 'workloads': {
      expectArgs(0, 'no arguments');
      const w = usage(() => runWindow({ since: values.since, days: values.days, now, defaultDays: 3 }));
      const store = await openStore(config);
      try {
        const filter = { ...(values.provider !== undefined ? { provider: values.provider } : {}), ...(values.model !== undefined ? { model: values.model } : {}) };
        const rows = await readWindowRows(store, w, filter);
        process.stdout.write(
          command === 'groups' ? formatGroups(summarizeGroups(rows, await readWindowGroupErrors(store, w, filter)), format) : formatWorkloads(deriveWorkloads(rows), format),
        );
      } finally {
        await store.close();
      }
      return 0;
    }
    case 'sweeps': {
      expectArgs(0, 'no arguments');
      const w = usage(() => runWindow({ since: values.since, days: values.days, now, defaultDays: 1 }));
      const store = await openStore(config);
      try {
        process.stdout.write(formatSweeps(await store.benchSweeps(w, SWEEPS_CAP), format));
      } finally {
        await store.close();
      }
      return 0;
    }
    case 'list': {
      expectArgs(0, 'no arguments');
      const outcomes = kind === 'agent' ? ['ok', 'failed', 'timeout'] : ['ok', 'failed'];
      if (values.outcome !== undefined && !outcomes.includes(values.outcome)) {
        throw new UsageError(`--outcome must be one of ${outcomes.join(', ')}${kind === 'agent' ? '' : ' (timeout: agent runs only)'} (got '${values.outcome}')`);
      }
      const limit = values.limit === undefined ? 20 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new UsageError(`--limit must be an integer from 1 to 100000 (got '${values.limit}')`);
      const since = values.since === undefined ? undefined : usage(() => parseSince(values.since!, now));
      const store = await openStore(config);
      try {
        if (kind === 'agent') {
          const query = { ...(values.model !== undefined ? { automation: values.model } : {}), ...(values.scenario !== undefined ? { scenario_id: values.scenario } : {}), ...(since ? { since } : {}), limit };
          // failed means "did not complete": the store filters one status at a time.
          const statuses = values.outcome === undefined ? [undefined] : values.outcome === 'ok' ? ['completed' as const] : values.outcome === 'timeout' ? ['timeout' as const] : ['failed' as const, 'timeout' as const];
          const runs: AgentRunDoc[] = (await Promise.all(statuses.map((status) => store.recentAgentRuns({ ...query, ...(status ? { status } : {}) })))).flat();
          runs.sort((a, b) => b.started_at.getTime() - a.started_at.getTime());
          process.stdout.write(formatAgentRuns(runs.slice(0, limit), format));
        } else {
          const outcome = values.outcome as 'ok' | 'failed' | undefined;
          const runs = await store.recentRuns({ ...filter, ...(since ? { since } : {}), ...(outcome ? { outcome } : {}), limit });
          process.stdout.write(formatRuns(runs, format));
        }
      } finally {
        await store.close();
      }
      return 0;
    }
    case 'show': {
      expectArgs(1, 'one RUN_ID');
      if (format === 'csv') throw new UsageError('show prints one run: use --json or nothing');
      const store = await openStore(config);
      try {
        const run = await store.getRun(rest[0]!);
        const agentRun = run ? null : await store.getAgentRun(rest[0]!);
        if (run) process.stdout.write(formatRun(run, format === 'json' ? 'json' : 'table'));
        else if (agentRun) process.stdout.write(formatAgentRun(agentRun, format === 'json' ? 'json' : 'table'));
        else {
          process.stderr.write(`No run with run_id ${rest[0]} in ${store.location}\n`);
          return 1;
        }
      } finally {
        await store.close();
      }
      return 0;
    }
    case 'site': {
      expectArgs(0, 'no arguments');
      const store = await openStore(config);
      try {
        const r = await generateSite(store, config.site.dir, now);
        process.stdout.write(`Wrote ${r.files} files (${(r.bytes / 1024).toFixed(0)} KiB) to ${r.dir}: open ${r.dir}/index.html\n`);
      } finally {
        await store.close();
      }
      return 0;
    }
    case 'rollups': {
      expectArgs(0, 'no arguments');
      const since = values.since !== undefined || values.days !== undefined ? usage(() => runWindow({ since: values.since, days: values.days, now, defaultDays: 1 })).since : null;
      const store = await openStore(config);
      try {
        const r = await runRollupsCommand(store, { now, rebuild: values.rebuild ? { since } : null, prune: values.prune ?? false, retention: config.retention });
        process.stdout.write(values.json ? `${JSON.stringify(r)}\n` : formatRollupsOutcome(r, { kind: store.kind, location: store.location, retention: config.retention }));
      } finally {
        await store.close();
      }
      return 0;
    }
    default:
      throw new UsageError(`Unknown command '${command}': use kpis, list, show, groups, workloads, sweeps, site or rollups (runs.ts --help)`);
  }
}

await runMain(main);
