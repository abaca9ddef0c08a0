import * as z from 'zod/mini';
import { SecretRefSchema } from '../secrets.ts';
import { ACTION_NAMES, type ActionActor, type ActionName } from './model.ts';
import { SYNC_BACK_KNOWN_KEYS, SyncBackConfigSchema, syncBackAllows } from './sync/config.ts';

/**
 * The `actions:` block of routes.yml: who may press which button, and the endpoint's secrets.
 * Default deny: an action without an allow-list, or a user on none of its lists, is refused.
 *
 *   actions:
 *     slack: { signingSecret: { ssm: /router/slack-signing }, botToken: { ssm: /router/slack-bot } }
 *     rateLimit: { perMinute: 10 }
 *     archive: { slackUsers: [U0123ABC], slackUserGroups: [S0456DEF], teamsUsers: [<aad object id>] }
 *     suppress: { slackUsers: [U0123ABC], maxDays: 14 }
 */
const SlackUserIdSchema = z.string().check(z.regex(/^[UW][A-Z0-9]{2,}$/, 'expected a Slack user id such as U0123ABC (not a name)'));
const SlackGroupIdSchema = z.string().check(z.regex(/^S[A-Z0-9]{2,}$/, 'expected a Slack user group id such as S0456DEF (not a handle)'));
const TeamsUserIdSchema = z.string().check(z.regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'expected an Entra (AAD) object id'));

const allowListShape = {
  slackUsers: z.optional(z.array(SlackUserIdSchema)),
  slackUserGroups: z.optional(z.array(SlackGroupIdSchema)),
  teamsUsers: z.optional(z.array(TeamsUserIdSchema)),
};
const AllowListSchema = z.strictObject(allowListShape);

const DEFAULT_SUPPRESS_MAX_DAYS = 30;
const DEFAULT_PER_ACTOR_PER_MINUTE = 10;

const ActionsConfigSchema = z.strictObject({
  slack: z.optional(z.strictObject({
    signingSecret: SecretRefSchema,
    /** Only needed for slackUserGroups: membership is read with usergroups.users.list. */
    botToken: z.optional(SecretRefSchema),
  })),
  /** The Teams bot (Action.Execute): its Microsoft App ID, the audience of the Bot Framework token. */
  teams: z.optional(z.strictObject({ appId: z.string().check(z.regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'expected the bot\'s Microsoft App ID (a GUID)')) })),
  /** Requests per actor per minute across all actions; more are refused with a message. */
  rateLimit: z.optional(z.strictObject({ perMinute: z.int().check(z.positive(), z.lte(600)) })),
  acknowledge: z.optional(AllowListSchema),
  archive: z.optional(AllowListSchema),
  'false-positive': z.optional(AllowListSchema),
  useful: z.optional(AllowListSchema),
  suppress: z.optional(z.strictObject({ ...allowListShape, maxDays: z.optional(z.int().check(z.positive(), z.lte(365))) })),
  /** Archive a finding when its PagerDuty incident, Opsgenie alert or Jira issue is resolved (shared/actions/sync/). */
  syncBack: z.optional(SyncBackConfigSchema),
});
type ActionsConfig = z.infer<typeof ActionsConfigSchema>;

/** For did-you-mean hints on unknown keys (schema.ts KNOWN_KEYS). */
const ACTIONS_KNOWN_KEYS = ['actions', 'slack', 'teams', 'appId', 'signingSecret', 'botToken', 'perMinute', 'slackUsers', 'slackUserGroups', 'teamsUsers', 'maxDays', ...ACTION_NAMES, ...SYNC_BACK_KNOWN_KEYS];

interface AllowList {
  slackUsers: ReadonlySet<string>;
  slackUserGroups: readonly string[];
  teamsUsers: ReadonlySet<string>;
}

/** The compiled block: what the engine consults. Absent `actions:` compiles to "everything refused". */
interface ActionsPolicy {
  allow: ReadonlyMap<ActionName, AllowList>;
  suppressMaxDays: number;
  perActorPerMinute: number;
  slack?: NonNullable<ActionsConfig['slack']>;
  /** The raw block, for keys other modules own (sync-back). */
  raw: ActionsConfig;
}

const compileActionsPolicy = (config: ActionsConfig | undefined): ActionsPolicy => {
  const raw = config ?? {};
  const allow = new Map<ActionName, AllowList>();
  for (const name of ACTION_NAMES) {
    const list = raw[name];
    if (list === undefined) continue;
    allow.set(name, {
      slackUsers: new Set(list.slackUsers ?? []),
      slackUserGroups: list.slackUserGroups ?? [],
      teamsUsers: new Set((list.teamsUsers ?? []).map((id) => id.toLowerCase())),
    });
  }
  return {
    allow,
    suppressMaxDays: raw.suppress?.maxDays ?? DEFAULT_SUPPRESS_MAX_DAYS,
    perActorPerMinute: raw.rateLimit?.perMinute ?? DEFAULT_PER_ACTOR_PER_MINUTE,
    ...(raw.slack ? { slack: raw.slack } : {}),
    raw,
  };
};

/** Direct membership only; group membership needs a lookup (see authorise.ts). */
const directlyAllowed = (policy: ActionsPolicy, action: ActionName, actor: ActionActor): boolean => {
  if (actor.platform === 'pagerduty' || actor.platform === 'opsgenie' || actor.platform === 'jira') return syncBackAllows(policy.raw.syncBack, action, actor.platform);
  const list = policy.allow.get(action);
  if (list === undefined) return false;
  if (actor.platform === 'slack') return list.slackUsers.has(actor.id);
  if (actor.platform === 'teams') return list.teamsUsers.has(actor.id.toLowerCase());
  return false;
};

export { ActionsConfigSchema, ACTIONS_KNOWN_KEYS, compileActionsPolicy, directlyAllowed };
export type { ActionsPolicy };
