// The window a KPI or run listing covers, from what an operator types: --since as a date
// ("2026-11-27", "2026-11-27T08:00Z") or an age ("90m", "24h", "7d"), or --days N.
import type { TimeWindow } from '../store/store.ts';

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Reads a --since value relative to now.
 * @throws RangeError naming the value when it is neither an age nor a date.
 */
export function parseSince(value: string, now: Date): Date {
  const age = /^(\d+(?:\.\d+)?)\s*([mhd])$/i.exec(value.trim());
  if (age) return new Date(now.getTime() - Number(age[1]) * UNIT_MS[age[2]!.toLowerCase()]!);
  const date = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value.length === 10 ? `${value}T00:00:00Z` : value) : null;
  if (!date || Number.isNaN(date.getTime())) {
    throw new RangeError(`'${value}' is neither an age (90m, 24h, 7d) nor a date (2026-11-27, 2026-11-27T08:00Z)`);
  }
  return date;
}

/**
 * The window ending now: since the given time, else the last `days` days, else defaultDays.
 * @throws RangeError when both are given, or either is malformed.
 */
export function runWindow(options: { since?: string; days?: string; now: Date; defaultDays: number }): TimeWindow {
  const { since, days, now } = options;
  if (since !== undefined && days !== undefined) throw new RangeError('give --since or --days, not both');
  if (since !== undefined) return { since: parseSince(since, now), until: now };
  const n = days === undefined ? options.defaultDays : Number(days);
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`--days must be a positive number (got '${days}')`);
  return { since: new Date(now.getTime() - n * UNIT_MS.d!), until: now };
}
