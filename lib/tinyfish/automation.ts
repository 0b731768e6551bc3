// TinyFish automations (SPEC 15, seed 004's registry): catalog entries of provider `tinyfish`
// whose `misc` says what the browser agent does. An agent scenario's inputs override those
// defaults per run. Checked at `models.ts add` so a typo is refused there, not at 3 a.m.

/** What one run sends to TinyFish, and how. */
export interface AutomationRequest {
  url: string;
  goal: string;
  browser_profile?: 'lite' | 'stealth';
  proxy_config?: { enabled: boolean; country_code?: string };
  /** The whole run's limit; the config's TINYFISH_RUN_TIMEOUT_MS when unset. */
  timeoutMs: number | null;
  /** `run-sse` (events, the default) or `run`, the synchronous endpoint, for an automation that asks for it. */
  endpoint: 'run-sse' | 'run';
}

const KNOWN = ['url', 'goal', 'browser_profile', 'proxy_config', 'timeout_seconds', 'endpoint', 'description'] as const;

/**
 * The problems of an automation's misc (or an agent scenario's inputs when `partial`: then
 * url and goal may be left to the automation). Empty when it is good. Each problem names the
 * field and what is wanted.
 */
export function validateAutomationMisc(misc: Record<string, unknown>, options: { partial?: boolean } = {}): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(misc)) {
    if (!(KNOWN as readonly string[]).includes(key)) problems.push(`unknown field ${JSON.stringify(key)} (known: ${KNOWN.join(', ')})`);
  }
  const present = (k: string) => misc[k] !== undefined;
  if (present('url') || !options.partial) {
    const url = misc.url;
    let ok = false;
    if (typeof url === 'string') {
      try {
        ok = ['http:', 'https:'].includes(new URL(url).protocol);
      } catch {
        ok = false;
      }
    }
    if (!ok) problems.push(`url must be an http(s) URL, the page the agent starts on (got ${JSON.stringify(url ?? null)})`);
  }
  if (present('goal') || !options.partial) {
    if (typeof misc.goal !== 'string' || !misc.goal.trim()) {
      problems.push(`goal must be a non-empty string saying what the agent should do (got ${JSON.stringify(misc.goal ?? null)})`);
    }
  }
  if (present('browser_profile') && misc.browser_profile !== 'lite' && misc.browser_profile !== 'stealth') {
    problems.push(`browser_profile must be "lite" or "stealth" (got ${JSON.stringify(misc.browser_profile)})`);
  }
  if (present('proxy_config')) {
    const p = misc.proxy_config as Record<string, unknown> | null;
    const shaped =
      p !== null &&
      typeof p === 'object' &&
      !Array.isArray(p) &&
      typeof p.enabled === 'boolean' &&
      (p.country_code === undefined || (typeof p.country_code === 'string' && /^[A-Z]{2}$/.test(p.country_code))) &&
      Object.keys(p).every((k) => k === 'enabled' || k === 'country_code');
    if (!shaped) problems.push(`proxy_config must be {"enabled": true|false, "country_code"?: "US"} (got ${JSON.stringify(p)})`);
  }
  if (present('timeout_seconds')) {
    const t = misc.timeout_seconds;
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 1 || t > 3600) {
      problems.push(`timeout_seconds must be a number from 1 to 3600 (got ${JSON.stringify(t)})`);
    }
  }
  if (present('endpoint') && misc.endpoint !== 'run-sse' && misc.endpoint !== 'run') {
    problems.push(`endpoint must be "run-sse" (events, the default) or "run" (the synchronous endpoint) (got ${JSON.stringify(misc.endpoint)})`);
  }
  if (present('description') && typeof misc.description !== 'string') problems.push('description must be a string');
  return problems;
}

/**
 * The request of one run: the automation's misc with the scenario's inputs on top.
 * @throws Error naming the automation and every problem, when the merged fields are not valid.
 */
export function automationRequest(automation: string, misc: Record<string, unknown>, inputs: Record<string, unknown> = {}): AutomationRequest {
  const merged = { ...misc, ...inputs };
  const problems = validateAutomationMisc(merged);
  if (problems.length > 0) throw new Error(`Automation tinyfish/${automation} cannot run: ${problems.join('; ')}`);
  return {
    url: merged.url as string,
    goal: merged.goal as string,
    ...(merged.browser_profile !== undefined ? { browser_profile: merged.browser_profile as 'lite' | 'stealth' } : {}),
    ...(merged.proxy_config !== undefined ? { proxy_config: merged.proxy_config as { enabled: boolean; country_code?: string } } : {}),
    timeoutMs: typeof merged.timeout_seconds === 'number' ? merged.timeout_seconds * 1000 : null,
    endpoint: merged.endpoint === 'run' ? 'run' : 'run-sse',
  };
}
