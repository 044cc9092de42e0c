// Schedule expressions: cron with 5 fields (minute precision) or 6 (Harbor's form, seconds first), evaluated
// in UTC by croner; `@hourly`-style nicknames; and `@every <n>s` for fixed intervals (the upload purge).
import { Cron } from 'croner';
import { InvalidScheduleError } from '../../errors.ts';

export { InvalidScheduleError };

const EVERY = /^@every\s+(\d+)(ms|s|m|h)$/;
const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Throws InvalidScheduleError unless `spec` is a usable schedule expression. */
export function validateSchedule(spec: string): void {
  nextOccurrence(spec, Date.now());
}

/** The first occurrence strictly after `after` (epoch ms), or null when the expression has none left. */
export function nextOccurrence(spec: string, after: number): number | null {
  const s = spec.trim();
  const every = EVERY.exec(s);
  if (every) {
    const ms = Number(every[1]) * UNIT[every[2]];
    if (!(ms >= 1)) throw new InvalidScheduleError(`invalid interval: ${JSON.stringify(spec)}`);
    return after + ms;
  }
  let cron: Cron;
  try {
    cron = new Cron(s, { paused: true, timezone: 'UTC' });
  } catch (e) {
    throw new InvalidScheduleError(`invalid cron expression ${JSON.stringify(spec)}: ${(e as Error).message}`);
  }
  const next = cron.nextRun(new Date(after));
  return next ? next.getTime() : null;
}

/** Harbor's schedule types (GC, audit-log purge, scan all) and the cron expressions it stores for them. */
export type HarborScheduleType = 'Hourly' | 'Daily' | 'Weekly' | 'Custom' | 'None' | 'Manual';
const HARBOR_CRON: Record<string, string> = { Hourly: '0 0 * * * *', Daily: '0 0 0 * * *', Weekly: '0 0 0 * * 0' };

/** The cron expression for a Harbor schedule type; null for None/Manual (no schedule). */
export function cronForHarborSchedule(type: HarborScheduleType, cron?: string): string | null {
  if (type === 'None' || type === 'Manual') return null;
  if (type === 'Custom') {
    if (!cron) throw new InvalidScheduleError('a Custom schedule needs a cron expression');
    validateSchedule(cron);
    return cron;
  }
  const c = HARBOR_CRON[type];
  if (!c) throw new InvalidScheduleError(`unknown schedule type ${JSON.stringify(type)}`);
  return c;
}

/** The Harbor schedule type that a stored cron expression shows as. */
export function harborScheduleType(cron: string | null | undefined): HarborScheduleType {
  if (!cron) return 'None';
  return (Object.keys(HARBOR_CRON).find((k) => HARBOR_CRON[k] === cron) as HarborScheduleType | undefined) ?? 'Custom';
}
