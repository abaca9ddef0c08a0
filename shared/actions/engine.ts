import { fromApiFinding } from '../input/api-finding.ts';
import type { RuntimeSuppression, SuppressionStore } from '../suppressions/model.ts';
import { SuppressionError, suppressionFromFinding } from '../suppressions/model.ts';
import { validateEvent } from '../validate.ts';
import { auditRecordOf, type ActionAuditRecord, type AuditSink } from './audit.ts';
import { directlyAllowed, type ActionsPolicy } from './config.ts';
import type { ActionActor, ActionName, ActionOutcome, ActionRequest, ActionStatus } from './model.ts';
import type { ActionStore } from './store.ts';

/**
 * One engine for every inbound channel: rate limit → authorise → once per (action, finding,
 * actor) → re-read the finding from GuardDuty → act → audit. Refusals and failures come back
 * as an outcome with one line for the human; only GuardDuty throttling that outlasts the
 * backoff is thrown (ActionRetryableError), so the queue tries again while the message says
 * "pending".
 */
interface GuardDutyAdmin {
  /** The administrator's detector in that region; undefined when there is none. */
  detectorId(region: string): Promise<string | undefined>;
  /** The finding as GetFindings returns it (SDK form); undefined when the detector does not hold it. */
  getFinding(region: string, detectorId: string, findingId: string): Promise<object | undefined>;
  archive(region: string, detectorId: string, findingId: string): Promise<void>;
  feedback(region: string, detectorId: string, findingId: string, feedback: 'USEFUL' | 'NOT_USEFUL', comments?: string): Promise<void>;
}

/** Slack user groups: who is in a group now (cached by the implementation). */
interface GroupDirectory {
  members(groupId: string): Promise<ReadonlySet<string>>;
}

interface EngineDeps {
  policy: ActionsPolicy;
  store: ActionStore;
  guardduty: GuardDutyAdmin;
  audit: AuditSink;
  /** Absent: `suppress` is answered "not available here". */
  suppressions?: SuppressionStore;
  groups?: GroupDirectory;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Throttled GuardDuty calls are tried this many times in all before the job goes back to the queue. */
  attempts?: number;
  /** First backoff; doubled each time, with jitter. */
  backoffMs?: number;
}

interface EngineResult {
  outcome: ActionOutcome;
  audit: ActionAuditRecord;
  guardDutyCalls: string[];
}

class ActionRetryableError extends Error {
  override name = 'ActionRetryableError';
}

/** An answer for the human that ends the action early (nothing more is done). */
class Stop extends Error {
  readonly status: ActionStatus;
  constructor(status: ActionStatus, message: string) {
    super(message);
    this.status = status;
  }
}

const DONE_TTL_SECONDS = 30 * 24 * 3600;
const RATE_WINDOW_SECONDS = 60;
/** Sync-back: requests from a ticketing or on-call service, not from a person. */
const SERVICES: ReadonlySet<ActionActor['platform']> = new Set(['pagerduty', 'opsgenie', 'jira']);
const THROTTLING = new Set(['TooManyRequestsException', 'ThrottlingException', 'Throttling', 'RequestLimitExceeded']);

const isThrottling = (error: unknown): boolean => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return THROTTLING.has(e?.name ?? '') || e?.$metadata?.httpStatusCode === 429;
};

const DONE: Record<ActionName, string> = {
  acknowledge: 'acknowledged',
  archive: 'archived in GuardDuty',
  'false-positive': 'feedback "not useful" sent to GuardDuty',
  useful: 'feedback "useful" sent to GuardDuty',
  suppress: 'similar findings suppressed',
};

const createActionEngine = (deps: EngineDeps) => {
  const attempts = deps.attempts ?? 4;
  const backoffMs = deps.backoffMs ?? 200;

  const isAllowed = async (request: ActionRequest): Promise<boolean> => {
    if (directlyAllowed(deps.policy, request.action, request.actor)) return true;
    const groups = request.actor.platform === 'slack' ? (deps.policy.allow.get(request.action)?.slackUserGroups ?? []) : [];
    if (groups.length === 0 || deps.groups === undefined) return false;
    try {
      for (const group of groups) if ((await deps.groups.members(group)).has(request.actor.id)) return true;
    } catch {
      throw new Stop('failed', 'could not check Slack user group membership; nothing was done');
    }
    return false;
  };

  const run = async (request: ActionRequest): Promise<EngineResult> => {
    const calls: string[] = [];
    // `record` false: the detector lookup is usually answered from the configured ARNs, no call made.
    const call = async <T>(operation: string, fn: () => Promise<T>, record = true): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        if (record) calls.push(operation);
        try {
          return await fn();
        } catch (error) {
          if (!isThrottling(error)) throw new Stop('failed', `GuardDuty ${operation} failed (${(error as Error).name}); nothing more was done`);
          if (attempt >= attempts) throw new ActionRetryableError(`GuardDuty ${operation} throttled ${attempt} times; will try again`, { cause: error });
          await deps.sleep(backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
        }
      }
    };
    const { action, finding, actor } = request;
    const doneKey = `done#${action}#${finding.accountId}#${finding.region}#${finding.id}#${actor.platform}:${actor.id}`;
    let claimed = false;
    let suppressionId: string | undefined;
    let status: ActionStatus = 'done';
    let message: string;
    try {
      const minute = Math.floor(deps.now() / 60_000);
      const count = await deps.store.increment(`rate#${actor.platform}:${actor.id}#${minute}`, RATE_WINDOW_SECONDS * 2);
      if (count > deps.policy.perActorPerMinute) {
        // A service resolving incidents in bulk is not a person clicking too fast: its requests wait
        // in the queue for the next minute instead of leaving findings active behind a refusal.
        if (SERVICES.has(actor.platform)) throw new ActionRetryableError(`rate limit: more than ${deps.policy.perActorPerMinute} actions this minute from ${actor.platform}; will try again`);
        throw new Stop('refused', `rate limit: at most ${deps.policy.perActorPerMinute} actions a minute per person; try again shortly`);
      }
      if (!(await isAllowed(request))) throw new Stop('refused', `not permitted: you are not on the allow-list for ${action} (routes.yml actions.${action}); nothing was done`);
      claimed = await deps.store.claim(doneKey, DONE_TTL_SECONDS);
      if (!claimed) throw new Stop('done', `already ${DONE[action]} by you earlier; nothing more to do`);
      if (action === 'acknowledge') {
        message = DONE.acknowledge;
      } else {
        const detectorId = await call('ListDetectors', () => deps.guardduty.detectorId(finding.region), false);
        if (detectorId === undefined) throw new Stop('failed', `no GuardDuty detector in ${finding.region} for this account; nothing was done`);
        const found = (await call('GetFindings', () => deps.guardduty.getFinding(finding.region, detectorId, finding.id))) as
          | { AccountId?: string; Service?: { Archived?: boolean } }
          | undefined;
        if (found === undefined) {
          throw new Stop('failed', `finding ${finding.id} is not in the administrator's detector in ${finding.region} (deleted, expired, or another administrator's); nothing was done`);
        }
        if (found.AccountId !== finding.accountId) throw new Stop('refused', `finding ${finding.id} belongs to another account than the message says; nothing was done`);
        if (action === 'archive') {
          if (found.Service?.Archived === true) {
            message = 'already archived in GuardDuty';
          } else {
            await call('ArchiveFindings', () => deps.guardduty.archive(finding.region, detectorId, finding.id));
            message = DONE.archive;
          }
        } else if (action === 'false-positive' || action === 'useful') {
          const comments = request.reason?.slice(0, 500);
          await call('UpdateFindingsFeedback', () => deps.guardduty.feedback(finding.region, detectorId, finding.id, action === 'useful' ? 'USEFUL' : 'NOT_USEFUL', comments));
          message = DONE[action];
        } else {
          const suppression = await suppress(request, found);
          suppressionId = suppression.id;
          message = `similar findings suppressed until ${suppression.expiresAt.slice(0, 16).replace('T', ' ')} UTC (suppression ${suppression.id})`;
        }
      }
    } catch (error) {
      if (claimed && !(error instanceof Stop && error.status === 'done')) await deps.store.release(doneKey);
      if (!(error instanceof Stop)) throw error;
      status = error.status;
      message = error.message;
    }
    const outcome: ActionOutcome = { request, status, message, ...(suppressionId ? { suppressionId } : {}) };
    const audit = auditRecordOf(outcome, calls, deps.now());
    await deps.audit.record(audit);
    return { outcome, audit, guardDutyCalls: calls };
  };

  const suppress = async (request: ActionRequest, found: object): Promise<RuntimeSuppression> => {
    if (deps.suppressions === undefined) throw new Stop('failed', 'runtime suppressions are not available here; nothing was done');
    const validated = validateEvent(fromApiFinding(found));
    if (validated.kind !== 'finding') throw new Stop('failed', 'GuardDuty returned a finding the router cannot read; nothing was done');
    try {
      const suppression = suppressionFromFinding(validated.finding, {
        reason: request.reason ?? 'suppressed from chat',
        days: request.days ?? deps.policy.suppressMaxDays,
        actor: request.actor,
        now: deps.now(),
        maxDays: deps.policy.suppressMaxDays,
      });
      await deps.suppressions.put(suppression);
      return suppression;
    } catch (error) {
      if (error instanceof SuppressionError) throw new Stop('failed', `${error.message}; nothing was done`);
      throw error;
    }
  };

  return { run };
};

type ActionEngine = ReturnType<typeof createActionEngine>;

export { createActionEngine, ActionRetryableError };
export type { ActionEngine, EngineDeps, EngineResult, GuardDutyAdmin, GroupDirectory };
