// Checks the systemd units and the installer in ops/ with systemd's own tools (systemd-analyze,
// systemd-sysusers), offline: nothing here needs a running systemd, the llm-bench user, or root
// beyond what DESTDIR staging needs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { SpawnSyncReturns } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseDotenv } from 'dotenv';
import { loadConfig, type Config } from '../../lib/config.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const OPS = join(REPO, 'ops');
const INSTALL_SH = join(OPS, 'install.sh');
const NOTIFIER = 'llm-health-check-failure@.service';
// What the unit files say; install.sh writes the Node it checked in its place.
const DEFAULT_NODE = '/usr/bin/node';
// The Node running these tests is >= 24 (package.json engines), so it stands in for the
// server's: install.sh finds it first on PATH, and verify finds the ExecStart= binary.
const TEST_NODE_DIR = dirname(process.execPath);
const TEST_NODE = join(TEST_NODE_DIR, 'node');

const EXPECTED_UNITS = [
  'llm-bench-ingest.service',
  'llm-bench.service',
  'llm-bench.timer',
  'llm-discovery.service',
  'llm-discovery.timer',
  'llm-health-check-failure@.service',
  'llm-health-check.service',
  'llm-health-check.timer',
];

const scratch = mkdtempSync(join(tmpdir(), 'llm-bench-ops-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function tempDir(name: string): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
}

function run(cmd: string, args: string[], options: RunOptions = {}): SpawnSyncReturns<string> {
  const result = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: options.env ?? process.env,
    input: options.input,
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return result;
}

type Sections = Map<string, Map<string, string[]>>;

/** Parses a unit file into section → key → values (a key may repeat, e.g. ExecStart=). */
function parseUnit(text: string): Sections {
  const sections: Sections = new Map();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(current && eq > 0, `unexpected line outside a section or without '=': ${line}`);
    const key = line.slice(0, eq).trim();
    const values = current.get(key) ?? [];
    values.push(line.slice(eq + 1).trim());
    current.set(key, values);
  }
  return sections;
}

function readUnit(name: string): Sections {
  return parseUnit(readFileSync(join(OPS, name), 'utf8'));
}

function values(unit: Sections, section: string, key: string): string[] {
  return unit.get(section)?.get(key) ?? [];
}

/** The last value of a setting, as systemd reads a single-valued key; undefined if unset. */
function value(unit: Sections, section: string, key: string): string | undefined {
  return values(unit, section, key).at(-1);
}

/**
 * ops/state-paths, the one list of the settings that name where a job writes, with the value
 * every service sets (null: the services leave it unset). install.sh reads the same file.
 */
function statePathList(): Map<string, string | null> {
  const list = new Map<string, string | null>();
  for (const line of readFileSync(join(OPS, 'state-paths'), 'utf8').split('\n')) {
    const [name, unitValue] = line.trim().split(/\s+/);
    if (!name || name.startsWith('#')) continue;
    list.set(name, unitValue === '-' ? null : unitValue!);
  }
  return list;
}
const STATE_PATHS = statePathList();

const unitFiles = readdirSync(OPS).filter((f) => f.endsWith('.service') || f.endsWith('.timer'));
const services = unitFiles.filter((f) => f.endsWith('.service'));
const timers = unitFiles.filter((f) => f.endsWith('.timer'));

/** The unit files as install.sh would write them for the Node running the tests. */
function renderedCopy(dir: string): string[] {
  return unitFiles.map((name) => {
    const text = readFileSync(join(OPS, name), 'utf8');
    const path = join(dir, name);
    writeFileSync(path, renderForNode(text, TEST_NODE));
    return path;
  });
}

function renderForNode(text: string, node: string): string {
  return text.replaceAll(`\nExecStart=${DEFAULT_NODE} `, `\nExecStart=${node} `);
}

/** A systemd boolean that reads as true. */
function isTrue(setting: string | undefined): boolean {
  return ['yes', 'true', 'on', '1'].includes(setting ?? '');
}

/** Microseconds, as systemd parses the time span. */
function timespanUs(span: string): number {
  const result = run('systemd-analyze', ['timespan', span]);
  assert.equal(result.status, 0, `systemd-analyze timespan ${span}: ${result.stderr}`);
  const match = /μs: (\d+)/.exec(result.stdout);
  assert.ok(match, `no μs line in: ${result.stdout}`);
  return Number(match[1]);
}

/** The next few elapse times of an OnCalendar= expression, in ms since the epoch. */
function elapses(expression: string): number[] {
  const result = run('systemd-analyze', ['calendar', '--iterations=4', expression], {
    env: { ...process.env, TZ: 'UTC' },
  });
  assert.equal(result.status, 0, `systemd-analyze calendar rejected ${expression}: ${result.stderr}`);
  const times = [...result.stdout.matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) UTC/g)].map(
    (m) => Date.parse(`${m[1]}T${m[2]}Z`),
  );
  assert.equal(times.length, 4, `expected 4 elapses in: ${result.stdout}`);
  return times;
}

function installEnv(destdir: string, path = `${TEST_NODE_DIR}:${process.env.PATH ?? ''}`): Record<string, string | undefined> {
  return { ...process.env, PATH: path, DESTDIR: destdir };
}

/** Every file and folder under dir, relative, sorted. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      out.push(relative(dir, path) + (entry.isDirectory() ? '/' : ''));
      if (entry.isDirectory()) walk(path);
    }
  };
  walk(dir);
  return out.sort();
}

// systemd's offline tools (Debian: apt-get install systemd; .ci/run installs them). Without
// them the unit checks are skipped with one line rather than failing on ENOENT.
const SYSTEMD_MISSING = spawnSync('systemd-analyze', ['--version']).error
  ? 'systemd-analyze is not installed (apt-get install systemd): the unit and sysusers checks are skipped'
  : false;

describe('systemd units', { skip: SYSTEMD_MISSING }, () => {
  test('ops/ holds exactly the expected units', () => {
    assert.deepEqual([...unitFiles].sort(), EXPECTED_UNITS);
  });

  test('systemd-analyze verify prints nothing for any unit', () => {
    const paths = renderedCopy(tempDir('verify'));
    const result = run('systemd-analyze', ['verify', ...paths]);
    assert.equal(`${result.stdout}${result.stderr}`, '', 'systemd-analyze verify printed something');
    assert.equal(result.status, 0);
  });

  test('the verify check reports a misspelt setting (so silence above means something)', () => {
    const dir = tempDir('verify-bad');
    const [path] = renderedCopy(dir).filter((p) => p.endsWith('/llm-bench.service'));
    assert.ok(path);
    const text = readFileSync(path, 'utf8');
    assert.match(text, /^ProtectSystem=strict$/m);
    writeFileSync(path, text.replace(/^ProtectSystem=strict$/m, 'ProtectSytem=strict'));
    const result = run('systemd-analyze', ['verify', path]);
    assert.match(`${result.stdout}${result.stderr}`, /Unknown key 'ProtectSytem'/);
  });

  test('every service has an exposure of at most 2.0 in systemd-analyze security --offline', (t) => {
    const dir = tempDir('security');
    renderedCopy(dir);
    for (const name of services) {
      const result = run('systemd-analyze', ['security', '--offline=yes', join(dir, name)]);
      const match = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(result.stdout);
      assert.ok(match, `no overall exposure for ${name}: ${result.stdout}${result.stderr}`);
      const exposure = Number(match[1]);
      t.diagnostic(`${name}: exposure ${exposure.toFixed(1)}`);
      assert.ok(exposure <= 2.0, `${name} has exposure ${exposure}, above 2.0:\n${result.stdout}`);
    }
  });

  test('every OnCalendar= is accepted by systemd-analyze calendar and pinned to UTC', () => {
    for (const name of timers) {
      const calendars = values(readUnit(name), 'Timer', 'OnCalendar');
      assert.ok(calendars.length > 0, `${name} has no OnCalendar=`);
      for (const expression of calendars) {
        assert.match(expression, / UTC$/, `${name}: OnCalendar=${expression} is not in UTC`);
        elapses(expression);
      }
    }
  });

  test('the timers fire every 30 minutes (sweep), daily at 07:00 (discovery) and at 08:00 (health) UTC', () => {
    const expected: Record<string, { periodMs: number; at?: string }> = {
      'llm-bench.timer': { periodMs: 30 * 60_000 },
      'llm-discovery.timer': { periodMs: 86_400_000, at: '07:00:00' },
      'llm-health-check.timer': { periodMs: 86_400_000, at: '08:00:00' },
    };
    assert.deepEqual(Object.keys(expected).sort(), [...timers].sort());
    for (const [name, want] of Object.entries(expected)) {
      const [expression] = values(readUnit(name), 'Timer', 'OnCalendar');
      assert.ok(expression);
      const times = elapses(expression);
      for (let i = 1; i < times.length; i++) assert.equal(times[i]! - times[i - 1]!, want.periodMs, name);
      if (want.at) assert.equal(new Date(times[0]!).toISOString().slice(11, 19), want.at, name);
    }
  });

  test('every timer is persistent, with a fixed randomized delay, wanted by timers.target, and starts its own service', () => {
    for (const name of timers) {
      const unit = readUnit(name);
      assert.ok(isTrue(value(unit, 'Timer', 'Persistent')), `${name}: Persistent=`);
      assert.ok(isTrue(value(unit, 'Timer', 'FixedRandomDelay')), `${name}: FixedRandomDelay=`);
      assert.ok(timespanUs(value(unit, 'Timer', 'RandomizedDelaySec') ?? '0') > 0, `${name}: RandomizedDelaySec=`);
      assert.equal(value(unit, 'Install', 'WantedBy'), 'timers.target', `${name}: WantedBy=`);
      const service = value(unit, 'Timer', 'Unit') ?? name.replace(/\.timer$/, '.service');
      assert.ok(services.includes(service), `${name} starts ${service}, which is not in ops/`);
    }
  });

  test('a timer-started run is stopped (TimeoutStartSec= plus TimeoutStopSec=) before its next run is due', () => {
    for (const name of timers) {
      const service = name.replace(/\.timer$/, '.service');
      const unit = readUnit(service);
      const start = value(unit, 'Service', 'TimeoutStartSec');
      assert.ok(start, `${service} has no TimeoutStartSec=`);
      // systemd's default TimeoutStopSec= is 90 s.
      const stop = value(unit, 'Service', 'TimeoutStopSec') ?? '90s';
      const [expression] = values(readUnit(name), 'Timer', 'OnCalendar');
      assert.ok(expression);
      const times = elapses(expression);
      const periodUs = Math.min(...times.slice(1).map((t, i) => t - times[i]!)) * 1000;
      assert.ok(
        timespanUs(start) + timespanUs(stop) < periodUs,
        `${service}: TimeoutStartSec=${start} + TimeoutStopSec=${stop} is not below the ${periodUs / 60e6} min period of ${name}`,
      );
    }
  });

  test('the sweep backstop (TimeoutStartSec=) is longer than the sweep deadline of 25 minutes', () => {
    const start = value(readUnit('llm-bench.service'), 'Service', 'TimeoutStartSec');
    assert.ok(start && timespanUs(start) > 25 * 60e6, `TimeoutStartSec=${start}`);
  });

  test('every oneshot service has a TimeoutStartSec=', () => {
    const oneshots = services.filter((name) => value(readUnit(name), 'Service', 'Type') === 'oneshot');
    assert.ok(oneshots.length >= 4, `oneshot services: ${oneshots.join(', ')}`);
    for (const name of oneshots) {
      const start = value(readUnit(name), 'Service', 'TimeoutStartSec');
      assert.ok(start && timespanUs(start) > 0, `${name}: TimeoutStartSec=${start}`);
    }
  });

  test('every ExecStart= runs node (V8 flags allowed) --import tsx on a script under scripts/ that exists in the repo', () => {
    const expected = new Set<string>();
    for (const name of services) {
      const execs = values(readUnit(name), 'Service', 'ExecStart');
      assert.ok(execs.length > 0, `${name} has no ExecStart=`);
      for (const exec of execs) {
        const [node, ...args] = exec.split(/\s+/);
        const v8Flags = args.slice(0, Math.max(0, args.indexOf('--import')));
        const [flag, loader, script] = args.slice(v8Flags.length);
        assert.equal(node, DEFAULT_NODE, `${name}: ExecStart= must name node by absolute path`);
        for (const v8Flag of v8Flags) assert.match(v8Flag, /^--[a-z-]+(=\S+)?$/, `${name}: ${exec}`);
        assert.deepEqual([flag, loader], ['--import', 'tsx'], `${name}: ${exec}`);
        assert.match(script ?? '', /^scripts\/[a-z0-9-]+\.ts$/, `${name}: ${exec}`);
        expected.add(script!);
      }
    }
    assert.deepEqual(
      [...expected].sort(),
      ['scripts/bench-once.ts', 'scripts/discovery.ts', 'scripts/health-check.ts', 'scripts/ingest-server.ts'],
    );
    const missing = [...expected].filter((script) => !existsSync(join(REPO, script)));
    assert.deepEqual(missing, [], `the units run scripts that are not in the repo: ${missing.join(', ')}`);
  });

  test('the sweep runs with the V8 settings bench:sweep and bench:fidelity measured it with', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.ok(values(readUnit('llm-bench.service'), 'Service', 'Environment').includes('NODE_OPTIONS=--max-semi-space-size=16'));
    assert.match(values(readUnit('llm-bench.service'), 'Service', 'ExecStart')[0] ?? '', /^\/usr\/bin\/node --no-memory-reducer --heap-growing-percent=50 /);
    for (const script of ['bench:sweep', 'bench:fidelity']) assert.match(pkg.scripts[script] ?? '', /--max-semi-space-size=16 --no-memory-reducer --heap-growing-percent=50 /);
    assert.match(pkg.scripts.bench ?? '', /--no-memory-reducer --heap-growing-percent=50 /);
  });

  test('discovery fetches the catalogs, then mails the report', () => {
    assert.deepEqual(values(readUnit('llm-discovery.service'), 'Service', 'ExecStart'), [
      `${DEFAULT_NODE} --import tsx scripts/discovery.ts fetch`,
      `${DEFAULT_NODE} --import tsx scripts/discovery.ts report --email`,
    ]);
  });

  test('every service but the notifier names the failure notifier in OnFailure= of [Unit]', () => {
    for (const name of services.filter((s) => s !== NOTIFIER)) {
      const unit = readUnit(name);
      assert.deepEqual(values(unit, 'Unit', 'OnFailure'), ['llm-health-check-failure@%n.service'], name);
      assert.deepEqual(values(unit, 'Service', 'OnFailure'), [], `${name}: OnFailure= belongs in [Unit]`);
    }
  });

  test('the failure notifier mails about the failed unit and cannot trigger itself', () => {
    const unit = readUnit(NOTIFIER);
    assert.deepEqual(values(unit, 'Unit', 'OnFailure'), []);
    assert.deepEqual(values(unit, 'Service', 'ExecStart'), [
      `${DEFAULT_NODE} --import tsx scripts/health-check.ts --failed-unit %i`,
    ]);
    assert.equal(value(unit, 'Service', 'Type'), 'oneshot');
    // Reading the failed unit's lines from the system journal.
    assert.deepEqual(values(unit, 'Service', 'SupplementaryGroups'), ['systemd-journal']);
  });

  test('the ingest server is always on, restarted on failure, and wanted by multi-user.target', () => {
    const unit = readUnit('llm-bench-ingest.service');
    assert.notEqual(value(unit, 'Service', 'Type'), 'oneshot');
    assert.equal(value(unit, 'Service', 'Restart'), 'on-failure');
    assert.equal(value(unit, 'Install', 'WantedBy'), 'multi-user.target');
  });

  test('every service runs hardened as llm-bench in /opt/llm-benchmarks with the shared state directory', () => {
    const required: Record<string, string> = {
      User: 'llm-bench',
      Group: 'llm-bench',
      WorkingDirectory: '/opt/llm-benchmarks',
      EnvironmentFile: '/opt/llm-benchmarks/.env',
      StateDirectory: 'llm-bench',
      UMask: '0077',
      NoNewPrivileges: 'yes',
      CapabilityBoundingSet: '',
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectKernelLogs: 'yes',
      ProtectControlGroups: 'yes',
      RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX',
      RestrictNamespaces: 'yes',
      RestrictRealtime: 'yes',
      LockPersonality: 'yes',
      SystemCallArchitectures: 'native',
    };
    const identifiers = new Set<string>();
    for (const name of services) {
      const unit = readUnit(name);
      for (const [key, want] of Object.entries(required)) {
        assert.equal(value(unit, 'Service', key), want, `${name}: ${key}=`);
      }
      assert.equal(values(unit, 'Service', 'SystemCallFilter')[0], '@system-service', `${name}: SystemCallFilter=`);
      // Every path of ops/state-paths, as listed there, inside the state directory; other
      // settings (the sweep's V8 young generation cap) may follow.
      const environment = values(unit, 'Service', 'Environment').filter((e) => !e.startsWith('NODE_OPTIONS='));
      const listed = [...STATE_PATHS].filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`);
      assert.deepEqual(environment.sort(), listed.sort(), `${name}: Environment=`);
      for (const setting of listed) assert.match(setting, /^[A-Z_]+=\/var\/lib\/llm-bench\/[^/]/, `${name}: ${setting}`);
      // V8's JIT needs to make the code it writes executable.
      assert.equal(value(unit, 'Service', 'MemoryDenyWriteExecute'), undefined, `${name}: MemoryDenyWriteExecute=`);
      const id = value(unit, 'Service', 'SyslogIdentifier');
      assert.ok(id && !identifiers.has(id), `${name}: SyslogIdentifier=${id} missing or shared`);
      identifiers.add(id);
    }
  });

  test('the sysusers file creates the system user llm-bench, with the state directory as home and no login', () => {
    const root = tempDir('sysusers-root');
    mkdirSync(join(root, 'etc'));
    const conf = readFileSync(join(OPS, 'llm-bench.sysusers.conf'), 'utf8');
    const result = run('systemd-sysusers', [`--root=${root}`, '-'], { input: conf });
    assert.equal(result.status, 0, result.stderr);
    const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8').trim().split(':');
    assert.equal(passwd[0], 'llm-bench');
    assert.ok(Number(passwd[2]) > 0 && Number(passwd[2]) < 1000, `uid ${passwd[2]} is not a system uid`);
    assert.deepEqual(passwd.slice(5), ['/var/lib/llm-bench', '/usr/sbin/nologin']);
    assert.match(readFileSync(join(root, 'etc/group'), 'utf8'), /^llm-bench:x:\d+:/);
  });
});

describe('ops/install.sh', () => {
  test('is executable and passes shellcheck', (t) => {
    assert.ok((statSync(INSTALL_SH).mode & 0o111) !== 0, 'ops/install.sh is not executable');
    if (spawnSync('shellcheck', ['--version']).error) {
      t.skip('shellcheck is not installed (apt-get install shellcheck)');
      return;
    }
    const result = run('shellcheck', [INSTALL_SH]);
    assert.equal(result.status, 0, result.stdout);
  });

  test('with DESTDIR installs exactly the units, the sysusers file and the state directory', () => {
    const destdir = tempDir('destdir');
    const result = run('bash', [INSTALL_SH], { env: installEnv(destdir) });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(
      tree(destdir),
      [
        'etc/',
        'etc/systemd/',
        'etc/systemd/system/',
        ...EXPECTED_UNITS.map((u) => `etc/systemd/system/${u}`),
        'etc/sysusers.d/',
        'etc/sysusers.d/llm-bench.conf',
        'var/',
        'var/lib/',
        'var/lib/llm-bench/',
      ].sort(),
    );
    for (const name of EXPECTED_UNITS) {
      const installed = readFileSync(join(destdir, 'etc/systemd/system', name), 'utf8');
      assert.equal(installed, renderForNode(readFileSync(join(OPS, name), 'utf8'), TEST_NODE), name);
      assert.equal(statSync(join(destdir, 'etc/systemd/system', name)).mode & 0o777, 0o644, name);
    }
    assert.equal(
      readFileSync(join(destdir, 'etc/sysusers.d/llm-bench.conf'), 'utf8'),
      readFileSync(join(OPS, 'llm-bench.sysusers.conf'), 'utf8'),
    );
    assert.equal(statSync(join(destdir, 'var/lib/llm-bench')).mode & 0o777, 0o700);
    // ExecStart= names the Node that install.sh checked, by absolute path.
    const bench = readFileSync(join(destdir, 'etc/systemd/system/llm-bench.service'), 'utf8');
    assert.ok(bench.includes(`\nExecStart=${TEST_NODE} --no-memory-reducer --heap-growing-percent=50 --import tsx scripts/bench-once.ts\n`));
  });

  test('a second run leaves every file byte-identical and says nothing changed', () => {
    const destdir = tempDir('destdir-twice');
    assert.equal(run('bash', [INSTALL_SH], { env: installEnv(destdir) }).status, 0);
    const files = tree(destdir).filter((p) => !p.endsWith('/'));
    const before = new Map(files.map((p) => [p, { bytes: readFileSync(join(destdir, p)), mtime: statSync(join(destdir, p)).mtimeMs }]));

    const second = run('bash', [INSTALL_SH], { env: installEnv(destdir) });
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /^Nothing changed/m);
    assert.doesNotMatch(second.stdout, /^installed:/m);
    assert.deepEqual(tree(destdir).filter((p) => !p.endsWith('/')), files);
    for (const [p, { bytes, mtime }] of before) {
      assert.deepEqual(readFileSync(join(destdir, p)), bytes, p);
      assert.equal(statSync(join(destdir, p)).mtimeMs, mtime, `${p} was rewritten`);
    }
  });

  test('a run after a unit changed reinstalls only that unit', () => {
    const destdir = tempDir('destdir-drift');
    assert.equal(run('bash', [INSTALL_SH], { env: installEnv(destdir) }).status, 0);
    const drifted = join(destdir, 'etc/systemd/system/llm-bench.timer');
    writeFileSync(drifted, 'edited by hand\n');
    const result = run('bash', [INSTALL_SH], { env: installEnv(destdir) });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.stdout.match(/^installed: .*$/gm), [`installed: ${drifted}`]);
    assert.match(result.stdout, /^Done: 1 change/m);
    assert.equal(readFileSync(drifted, 'utf8'), readFileSync(join(OPS, 'llm-bench.timer'), 'utf8'));
  });

  test('--dry-run prints what it would install and changes nothing', () => {
    const destdir = tempDir('destdir-dry');
    const result = run('bash', [INSTALL_SH, '--dry-run'], { env: installEnv(destdir) });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(tree(destdir), []);
    assert.equal(result.stdout.match(/^would install: /gm)?.length, EXPECTED_UNITS.length + 1);
    assert.match(result.stdout, /^Dry run: .*nothing was changed/m);
  });

  test('refuses a node older than 24 and says how to get Node 24', () => {
    const destdir = tempDir('destdir-old-node');
    const fakeBin = tempDir('old-node-bin');
    writeFileSync(join(fakeBin, 'node'), '#!/bin/sh\necho v20.11.1\n');
    chmodSync(join(fakeBin, 'node'), 0o755);
    const result = run('bash', [INSTALL_SH], { env: installEnv(destdir, `${fakeBin}:${process.env.PATH ?? ''}`) });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /needs Node\.js >= 24.*v20\.11\.1/);
    assert.match(result.stderr, /npm install --prefix \S+ node@24/);
    assert.deepEqual(tree(destdir), []);
  });

  test('refuses an unknown argument with usage and exit status 2', () => {
    const destdir = tempDir('destdir-usage');
    const result = run('bash', [INSTALL_SH, '--frobnicate'], { env: installEnv(destdir) });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /unknown argument --frobnicate[\s\S]*Usage:/);
    assert.deepEqual(tree(destdir), []);
  });
});

describe('the README install over .env.example', () => {
  // The settings that name where a job writes, as lib/config.ts resolves them: one per name of
  // ops/state-paths (a test below fails when the list gains a name this does not resolve).
  const RESOLVED: Record<string, (config: Config) => string | null> = {
    LLM_BENCH_DB: (c) => c.store.sqlitePath,
    INGEST_SPOOL_DIR: (c) => c.ingest.spoolDir,
    SITE_DIR: (c) => c.site.dir,
    PROM_TEXTFILE: (c) => c.cost.promTextfile,
  };
  const statePaths = (config: Config) => Object.fromEntries(Object.entries(RESOLVED).map(([k, f]) => [k, f(config)]));
  const asServicesSetThem = Object.fromEntries([...STATE_PATHS].map(([k, v]) => [k, v]));

  /** `git clone` + `cp .env.example .env` under destdir, with the given .env text. */
  function checkout(destdir: string, envText: string): string {
    const appDir = join(destdir, 'opt/llm-benchmarks');
    mkdirSync(appDir, { recursive: true });
    writeFileSync(join(appDir, '.env'), envText);
    return appDir;
  }

  /**
   * The state paths an installed service would really use: its Environment= overridden by its
   * EnvironmentFile= (systemd's order), read by loadConfig in its WorkingDirectory= the way the
   * scripts read it (the same .env again, under what systemd set), with destdir taken off.
   */
  function servicePaths(destdir: string, name: string): Record<string, string | null> {
    const unit = parseUnit(readFileSync(join(destdir, 'etc/systemd/system', name), 'utf8'));
    const env: Record<string, string> = {};
    for (const assignment of values(unit, 'Service', 'Environment')) {
      const eq = assignment.indexOf('=');
      env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
    }
    for (const file of values(unit, 'Service', 'EnvironmentFile')) {
      Object.assign(env, parseDotenv(readFileSync(join(destdir, file.replace(/^-/, '')), 'utf8')));
    }
    const workingDirectory = value(unit, 'Service', 'WorkingDirectory');
    assert.ok(workingDirectory, `${name}: WorkingDirectory=`);
    const cwd = process.cwd();
    process.chdir(join(destdir, workingDirectory));
    try {
      const paths = statePaths(loadConfig({ env, dotenvPath: '.env', storeFolderMustExist: false }));
      return Object.fromEntries(Object.entries(paths).map(([k, p]) => [k, p?.startsWith(destdir) ? p.slice(destdir.length) : p]));
    } finally {
      process.chdir(cwd);
    }
  }

  test('the list of paths and what lib/config.ts resolves name the same settings', () => {
    assert.deepEqual([...STATE_PATHS.keys()].sort(), Object.keys(RESOLVED).sort());
  });

  test('.env.example ships every listed path commented out', () => {
    const example = readFileSync(join(REPO, '.env.example'), 'utf8');
    for (const name of STATE_PATHS.keys()) {
      assert.doesNotMatch(example, new RegExp(`^\\s*(export\\s+)?${name}\\s*=`, 'm'), `${name} is set in .env.example`);
      assert.match(example, new RegExp(`^# ${name}=`, 'm'), `${name} is not shown (commented out) in .env.example`);
    }
  });

  test('over .env.example every service writes where the list says, in /var/lib/llm-bench, its StateDirectory=', () => {
    const destdir = tempDir('readme-install');
    checkout(destdir, readFileSync(join(REPO, '.env.example'), 'utf8'));
    const result = run('bash', [INSTALL_SH], { env: installEnv(destdir) });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^checked: .*\\.env keeps ${[...STATE_PATHS.keys()].join(' ')} where the services may write$`, 'm'));
    for (const name of services) assert.deepEqual(servicePaths(destdir, name), asServicesSetThem, name);
  });

  for (const [setting, unitValue] of STATE_PATHS) {
    const outside = setting === 'PROM_TEXTFILE' ? '/var/lib/node_exporter/textfile_collector/llm-bench.prom' : `/srv/llm-bench/${setting.toLowerCase()}`;
    test(`a .env that moves ${setting} outside the writable paths is refused, naming the line`, () => {
      const destdir = tempDir(`readme-install-${setting}`);
      const example = readFileSync(join(REPO, '.env.example'), 'utf8');
      checkout(destdir, `${example}${setting}=${outside}\n`);
      const line = example.split('\n').length;
      const result = run('bash', [INSTALL_SH], { env: installEnv(destdir) });
      assert.equal(result.status, 1, result.stdout);
      assert.match(result.stderr, new RegExp(`line ${line}: ${setting}=${outside.replaceAll('.', '\\.')} is outside /var/lib/llm-bench`));
      assert.match(result.stderr, new RegExp(`Remove line\\(s\\) ${line} from `));
      assert.deepEqual(tree(destdir), ['opt/', 'opt/llm-benchmarks/', 'opt/llm-benchmarks/.env'], 'nothing installed');
      // Relative means under the read-only /opt; empty means the default there, unless the
      // services leave the setting unset too (then empty is the same unset).
      checkout(destdir, `${setting}=./data/x\n${setting}=\n`);
      const again = run('bash', [INSTALL_SH], { env: installEnv(destdir) });
      assert.equal(again.status, 1);
      assert.match(again.stderr, new RegExp(`line 1: ${setting}=\\./data/x is under /opt/llm-benchmarks`));
      if (unitValue === null) assert.doesNotMatch(again.stderr, /line 2:/);
      else assert.match(again.stderr, new RegExp(`line 2: ${setting}= \\(empty\\) means the default`));
    });
  }

  test('PROM_TEXTFILE in a directory a drop-in grants with ReadWritePaths= is accepted', () => {
    const destdir = tempDir('readme-install-prom-dropin');
    const dropIn = join(destdir, 'etc/systemd/system/llm-bench.service.d');
    mkdirSync(dropIn, { recursive: true });
    writeFileSync(join(dropIn, 'textfile.conf'), '[Service]\nReadWritePaths=-/var/lib/node_exporter/textfile_collector/\n');
    checkout(destdir, 'PROM_TEXTFILE=/var/lib/node_exporter/textfile_collector/llm-bench.prom\n');
    const result = run('bash', [INSTALL_SH], { env: installEnv(destdir) });
    assert.equal(result.status, 0, result.stderr);
  });

  test('a .env that sets the data paths is refused, naming each line to remove, and nothing is installed', () => {
    const destdir = tempDir('readme-install-old-env');
    const example = readFileSync(join(REPO, '.env.example'), 'utf8');
    // The .env.example of before: the data paths set, relative to the read-only /opt.
    const envText = `${example}LLM_BENCH_DB=./data/llm-bench.sqlite\nINGEST_SPOOL_DIR=\nexport INGEST_SPOOL_DIR="/var/lib/llm-bench/spool"\nLLM_BENCH_DB=/srv/bench.sqlite\n`;
    checkout(destdir, envText);
    // The first appended line's number (.env.example ends with a newline).
    const lines = example.split('\n').length;

    const result = run('bash', [INSTALL_SH], { env: installEnv(destdir) });
    assert.equal(result.status, 1);
    assert.match(result.stderr, new RegExp(`line ${lines}: LLM_BENCH_DB=\\./data/llm-bench\\.sqlite is under /opt/llm-benchmarks`));
    assert.match(result.stderr, new RegExp(`line ${lines + 1}: INGEST_SPOOL_DIR= \\(empty\\) means the default`));
    assert.match(result.stderr, new RegExp(`line ${lines + 3}: LLM_BENCH_DB=/srv/bench\\.sqlite is outside /var/lib/llm-bench`));
    assert.doesNotMatch(result.stderr, new RegExp(`line ${lines + 2}:`), 'a path inside the state directory is fine');
    assert.match(result.stderr, new RegExp(`Remove line\\(s\\) ${lines},${lines + 1},${lines + 3} from `));
    assert.deepEqual(tree(destdir), ['opt/', 'opt/llm-benchmarks/', 'opt/llm-benchmarks/.env']);
  });

  test('the precedence check above sees a .env line win over the unit (so its silence means something)', () => {
    const destdir = tempDir('readme-install-precedence');
    checkout(destdir, '');
    assert.equal(run('bash', [INSTALL_SH], { env: installEnv(destdir) }).status, 0);
    writeFileSync(join(destdir, 'opt/llm-benchmarks/.env'), 'LLM_BENCH_DB=./data/llm-bench.sqlite\n');
    assert.equal(servicePaths(destdir, 'llm-bench.service').LLM_BENCH_DB, '/opt/llm-benchmarks/data/llm-bench.sqlite');
  });
});
