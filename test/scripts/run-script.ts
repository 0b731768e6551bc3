// Runs an entry script as the operator and systemd do: a child node process with tsx, its own
// working directory and environment, collecting what it prints and its exit code.
import { spawn } from 'node:child_process';

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

// Resolved here because children run in temp dirs, where a bare 'tsx' would not resolve.
const TSX = import.meta.resolve('tsx');

/** The path of scripts/<name>. */
export function scriptPath(name: string): string {
  return new URL(`../../scripts/${name}`, import.meta.url).pathname;
}

/** Runs scripts/<name> with args; resolves when it has closed its output. */
export function runScript(
  name: string,
  args: string[],
  o: { cwd: string; env: Record<string, string | undefined>; uid?: number; gid?: number },
): Promise<ScriptRun> {
  const child = spawn(process.execPath, ['--import', TSX, scriptPath(name), ...args], {
    cwd: o.cwd,
    env: o.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(o.uid !== undefined ? { uid: o.uid, gid: o.gid } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
