import type { FindingSnapshot, Transition } from '../state/finding-state.ts';
import type { NotifyPolicy } from './evaluate.ts';

/**
 * The update policy for chat and ticket targets: GuardDuty re-publishes a finding every
 * time it aggregates another occurrence, and people should hear about it only when it
 * matters. SIEM-type targets get every update regardless.
 */
const DEFAULT_NOTIFY: NotifyPolicy = { on: ['new', 'severity-increase'] };

const shouldNotify = (
  policy: NotifyPolicy | undefined,
  transition: Transition,
  current: FindingSnapshot,
  nowMs: number,
): { notify: boolean; why: string } => {
  const effective = policy ?? DEFAULT_NOTIFY;
  if (transition.relation === 'stale') return { notify: false, why: 'stale update (a newer one was already seen)' };
  const previous = transition.previous;
  // A repeat of the current mark without a prior is a retried first sighting.
  if (transition.relation === 'first' || previous === undefined) {
    return effective.on.includes('new') ? { notify: true, why: 'new finding' } : { notify: false, why: "policy does not notify on 'new'" };
  }
  if (effective.on.includes('any-update')) return { notify: true, why: 'update' };
  if (effective.on.includes('severity-increase') && current.severity > previous.severity) {
    return { notify: true, why: `severity increased from ${previous.severity} to ${current.severity}` };
  }
  if (effective.on.includes('count-doubling') && current.count >= 2 * previous.count) {
    return { notify: true, why: `count doubled from ${previous.count} to ${current.count}` };
  }
  if (effective.repeatIntervalMs !== undefined && nowMs - (transition.lastNotifiedAtMs ?? 0) >= effective.repeatIntervalMs) {
    return { notify: true, why: 'repeat interval elapsed' };
  }
  return { notify: false, why: 'update not significant under the notify policy' };
};

export { shouldNotify };
