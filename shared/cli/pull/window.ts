import type { Condition } from '@aws-sdk/client-guardduty';
import { FindingsRouterError } from '../../errors.ts';

/**
 * `pull --since/--until`: the updatedAt window. Each is a duration back from now (`90d`, `12h`,
 * `30m`, `2w`) or an instant: a date (`2026-11-01`, midnight UTC) or a date-time with its zone
 * (`2026-11-01T08:00:00Z`, `...+02:00`). A date-time without a zone is refused: which clock it
 * means would depend on the machine running the pull.
 */
class WindowError extends FindingsRouterError {
  constructor(message: string) {
    super(message);
    this.name = 'WindowError';
  }
}

interface Window {
  sinceMs: number;
  untilMs: number | undefined;
}

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;
const DURATION = /^(\d{1,6})([mhdw])$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

const parseInstant = (flag: string, text: string, now: number): number => {
  const duration = DURATION.exec(text);
  if (duration) return now - Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS];
  if (/^\d{4}-\d{2}-\d{2}T[^Z+]*$/.test(text) && !/[+-]\d{2}:\d{2}$/.test(text)) {
    throw new WindowError(`--${flag} '${text}': add the zone (Z or +hh:mm), e.g. ${text}Z`);
  }
  const ms = DATE.test(text) || DATE_TIME.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw new WindowError(`--${flag} '${text}': expected a duration (90d, 12h, 30m, 2w) or a date (2026-11-01, 2026-11-01T08:00:00Z)`);
  return ms;
};

const parseWindow = (since: string, until: string | undefined, now: number): Window => {
  const sinceMs = parseInstant('since', since, now);
  const untilMs = until === undefined ? undefined : parseInstant('until', until, now);
  if (sinceMs > now) throw new WindowError(`--since '${since}' is in the future`);
  if (untilMs !== undefined && untilMs <= sinceMs) throw new WindowError(`--until '${until}' is not after --since '${since}'`);
  return { sinceMs, untilMs };
};

/** GuardDuty's updatedAt criterion: epoch milliseconds, since inclusive, until exclusive. */
const windowCondition = (window: Window): Condition => ({
  GreaterThanOrEqual: window.sinceMs,
  ...(window.untilMs !== undefined ? { LessThan: window.untilMs } : {}),
});

export { parseWindow, windowCondition, WindowError };
