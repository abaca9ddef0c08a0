import type { ActionOutcome } from './model.ts';

/**
 * What every action leaves behind, done or not: one structured log line and one event for
 * the audit targets. Its own shape (not a finding): who asked for what on which finding,
 * what happened, and which GuardDuty calls were made. Strings that came from outside (a
 * display name, a finding type) are stripped of control characters and capped here; each
 * target's encoder escapes the rest for its format.
 */
interface ActionAuditRecord {
  kind: 'findings-router.action';
  version: 1;
  /** ISO 8601, UTC: when the outcome was decided. */
  at: string;
  action: string;
  status: string;
  message: string;
  actor: { platform: string; id: string; name?: string };
  finding: { id: string; accountId: string; region: string; type?: string };
  /** GuardDuty operations made for this action, in order (`GetFindings`, `ArchiveFindings`, ...). */
  guardDutyCalls: string[];
  suppressionId?: string;
  days?: number;
}

interface AuditSink {
  /** Never throws: an audit target that fails is logged, the action stays done. */
  record(record: ActionAuditRecord): Promise<void>;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const clean = (text: string, max: number): string => text.replace(CONTROL, ' ').slice(0, max);

const auditRecordOf = (outcome: ActionOutcome, guardDutyCalls: readonly string[], at: number): ActionAuditRecord => {
  const { request } = outcome;
  return {
    kind: 'findings-router.action',
    version: 1,
    at: new Date(at).toISOString(),
    action: request.action,
    status: outcome.status,
    message: clean(outcome.message, 500),
    actor: { platform: request.actor.platform, id: clean(request.actor.id, 100), ...(request.actor.name ? { name: clean(request.actor.name, 100) } : {}) },
    finding: {
      id: request.finding.id,
      accountId: request.finding.accountId,
      region: request.finding.region,
      ...(request.finding.type ? { type: clean(request.finding.type, 200) } : {}),
    },
    guardDutyCalls: [...guardDutyCalls],
    ...(outcome.suppressionId ? { suppressionId: outcome.suppressionId } : {}),
    ...(request.days === undefined ? {} : { days: request.days }),
  };
};

export { auditRecordOf };
export type { ActionAuditRecord, AuditSink };
