// Tests that must change process.env (the SDKs read some variables themselves) change it
// through here, so the values they replaced can be put back in an after hook.

/**
 * Sets each variable, or unsets it where the value is undefined, and returns the values it
 * replaced (undefined for unset ones): pass them back to setEnv to restore the environment.
 */
export function setEnv(values: Record<string, string | undefined>): Record<string, string | undefined> {
  const replaced: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(values)) {
    replaced[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return replaced;
}
