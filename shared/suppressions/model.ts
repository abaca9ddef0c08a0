import { createHash } from 'node:crypto';
import type { GuardDutyFinding } from '../../schemas/finding.ts';
import type { ActionActor } from '../actions/model.ts';
import { FindingsRouterError } from '../errors.ts';
import { resourceIdOf } from './resource-id.ts';

/**
 * A runtime suppression: what "Suppress similar for N days" creates. Same meaning as a
 * `suppress:` entry in routes.yml: a finding that matches every condition goes only to the
 * audit targets, and the route result names the suppression (`runtime:<id>`). It differs in
 * where it lives (DynamoDB or a local file, not the reviewed routes file) and in always
 * expiring: `expiresAt` is at most `maxDays` after it was made.
 */
interface SuppressionConditions {
  /** The finding type, exactly. */
  type: string;
  /** The member account, exactly. */
  accountId: string;
  /** `resource.resourceType`, exactly. */
  resourceType: string;
  /** The resource identifier (see resource-id.ts for which one per type and why), exactly. */
  resourceId: string;
}

interface RuntimeSuppression {
  /** 16 hex digits derived from the conditions: suppressing the same thing twice is one suppression. */
  id: string;
  conditions: SuppressionConditions;
  reason: string;
  createdBy: ActionActor;
  /** ISO 8601, UTC. */
  createdAt: string;
  /** ISO 8601, UTC; the suppression no longer applies after this instant. */
  expiresAt: string;
  /** The finding the analyst suppressed from. */
  sourceFindingId: string;
}

/** Where runtime suppressions are kept: DynamoDB in AWS (shared/aws/dynamo-suppressions.ts), a file or memory locally. */
interface SuppressionStore {
  /** Creates, or replaces the one with the same id (a newer reason, actor and expiry win). */
  put(suppression: RuntimeSuppression): Promise<void>;
  get(id: string): Promise<RuntimeSuppression | undefined>;
  /** Every stored suppression, expired ones included (callers decide); rows that fail the checks come back in `bad`. */
  list(): Promise<SuppressionListing>;
  /** False when there was no suppression with that id. */
  remove(id: string): Promise<boolean>;
}

interface BadSuppressionRow {
  /** The row's id when it has a readable one, else where it was (`line 3`, `item 7`). */
  where: string;
  reason: string;
}

interface SuppressionListing {
  suppressions: RuntimeSuppression[];
  bad: BadSuppressionRow[];
  /** Set when the store held more rows than one read takes (MAX_SUPPRESSIONS): the rest were not read. */
  truncated?: boolean;
}

/** Every read is bounded: a table of more suppressions than this is a mistake, and the route stage reads them all every minute. */
const MAX_SUPPRESSIONS = 1_000;
const REASON_MAX = 500;
const ID_PATTERN = /^[0-9a-f]{16}$/;

/** A suppression that cannot be made, or a store row that fails the checks: one line saying why. */
class SuppressionError extends FindingsRouterError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SuppressionError';
  }
}

const DAY_MS = 86_400_000;

interface FromFindingOptions {
  reason: string;
  /** How long; more than `maxDays` is cut to `maxDays` (the returned `expiresAt` shows it). */
  days: number;
  actor: ActionActor;
  /** ms since epoch. */
  now: number;
  maxDays: number;
}

const suppressionIdOf = (conditions: SuppressionConditions): string =>
  createHash('sha256')
    .update(JSON.stringify([conditions.type, conditions.accountId, conditions.resourceType, conditions.resourceId]))
    .digest('hex')
    .slice(0, 16);

/**
 * The suppression "Suppress similar for N days" makes from a finding. Refuses (SuppressionError)
 * a finding that names no resource identifier: type and account alone would silence every
 * resource of the account, which is a routes.yml change for review, not a button.
 */
const suppressionFromFinding = (finding: GuardDutyFinding, options: FromFindingOptions): RuntimeSuppression => {
  const reason = options.reason.trim();
  if (reason.length < 3) throw new SuppressionError('a suppression needs a reason (3 characters or more)');
  if (reason.length > REASON_MAX) throw new SuppressionError(`the reason is ${reason.length} characters; at most ${REASON_MAX}`);
  if (!Number.isInteger(options.maxDays) || options.maxDays < 1) throw new SuppressionError(`the maximum suppression is ${options.maxDays} days; it must be a whole number of days, 1 or more`);
  if (!Number.isInteger(options.days) || options.days < 1) throw new SuppressionError(`suppress for ${options.days} days: give a whole number of days, 1 or more`);
  const resourceType = finding.resource.resourceType;
  const resourceId = resourceIdOf(finding.resource);
  if (resourceType === undefined || resourceId === undefined) {
    throw new SuppressionError(`finding ${finding.id} names no ${resourceType ?? 'resource'} identifier to suppress by; add a suppress: entry to routes.yml instead`);
  }
  const conditions = { type: finding.type, accountId: finding.accountId, resourceType, resourceId };
  const days = Math.min(options.days, options.maxDays);
  return {
    id: suppressionIdOf(conditions),
    conditions,
    reason,
    createdBy: options.actor,
    createdAt: new Date(options.now).toISOString(),
    expiresAt: new Date(options.now + days * DAY_MS).toISOString(),
    sourceFindingId: finding.id,
  };
};

const isExpired = (suppression: RuntimeSuppression, now: number): boolean => Date.parse(suppression.expiresAt) < now;

/** How the actor is named in listings, exports (`owner:`) and the route result. */
const actorLabel = (actor: ActionActor): string => `${actor.platform}:${actor.id}${actor.name ? ` (${actor.name})` : ''}`;

export { suppressionFromFinding, suppressionIdOf, isExpired, actorLabel, SuppressionError, MAX_SUPPRESSIONS, REASON_MAX, ID_PATTERN };
export type { RuntimeSuppression, SuppressionStore, SuppressionListing, BadSuppressionRow };
