import * as z from 'zod/mini';
import { MATCHERS, MATCHER_KEYS } from '../routing/matchers.ts';
import { ownRecord } from './own-record.ts';
import { ActionsConfigSchema, ACTIONS_KNOWN_KEYS } from '../actions/config.ts';

/**
 * The routes file. Strict everywhere: an unknown key is an error, not a silent no-op.
 * Target settings are checked per type against the target registry (see load.ts); the
 * settings every target shares (rateLimit, audit, jurisdiction) are checked here.
 */
type MatchConfig = { [K in keyof typeof MATCHERS]?: z.infer<(typeof MATCHERS)[K]['schema']> } & {
  not?: MatchConfig;
  any?: MatchConfig[];
};

const matcherShape = Object.fromEntries(MATCHER_KEYS.map((key) => [key, z.optional(MATCHERS[key].schema)]));

const MatchSchema: z.ZodMiniType<MatchConfig> = z.strictObject({
  ...matcherShape,
  get not() {
    return z.optional(MatchSchema);
  },
  get any() {
    return z.optional(z.array(MatchSchema).check(z.minLength(1)));
  },
}) as unknown as z.ZodMiniType<MatchConfig>;

const DurationSchema = z.string().check(z.regex(/^\d+(s|m|h|d)$/, 'expected a duration such as 30s, 5m, 24h or 7d'));

const NOTIFY_TRIGGERS = ['new', 'any-update', 'severity-increase', 'count-doubling', 'unarchived'] as const;
const NotifySchema = z.strictObject({
  on: z.array(z.enum(NOTIFY_TRIGGERS)).check(z.minLength(1)),
  repeatInterval: z.optional(DurationSchema),
});
type NotifyConfig = z.infer<typeof NotifySchema>;

const GROUP_KEYS = ['type', 'accountId', 'region', 'resourceType', 'severityLabel', 'threatPurpose'] as const;
const GroupSchema = z.strictObject({
  by: z.array(z.enum(GROUP_KEYS)).check(z.minLength(1)),
  window: DurationSchema,
});
type GroupConfig = z.infer<typeof GroupSchema>;

interface RouteConfig {
  name: string;
  match?: MatchConfig;
  targets: string[];
  continue?: boolean;
  notify?: NotifyConfig;
  group?: GroupConfig;
  routes?: RouteConfig[];
}

const RouteSchema: z.ZodMiniType<RouteConfig> = z.strictObject({
  name: z.string().check(z.minLength(1)),
  match: z.optional(MatchSchema),
  targets: z.array(z.string()),
  continue: z.optional(z.boolean()),
  notify: z.optional(NotifySchema),
  group: z.optional(GroupSchema),
  get routes() {
    return z.optional(z.array(RouteSchema));
  },
}) as unknown as z.ZodMiniType<RouteConfig>;

const SuppressionSchema = z.strictObject({
  name: z.string().check(z.minLength(1)),
  match: MatchSchema,
  reason: z.string().check(z.minLength(3, 'a suppression needs a reason')),
  owner: z.optional(z.string()),
  until: z.optional(z.union([z.iso.date(), z.iso.datetime({ offset: true })])),
});

/** Settings every target accepts, besides its own. */
const CommonTargetSettingsSchema = z.object({
  rateLimit: z.optional(z.strictObject({ perSecond: z.number().check(z.positive()), burst: z.optional(z.int().check(z.positive())) })),
  audit: z.optional(z.boolean()),
  jurisdiction: z.optional(z.string()),
});
const COMMON_TARGET_KEYS = ['rateLimit', 'audit', 'jurisdiction'] as const;
type CommonTargetSettings = z.infer<typeof CommonTargetSettingsSchema>;

const TargetNameSchema = z.string().check(z.regex(/^\w[\w.-]*$/, 'target names use letters, digits, _ . - (not first: . -)'));

const RoutesFileSchema = z.strictObject({
  targets: ownRecord(TargetNameSchema, z.looseObject({ type: z.string() })),
  default: z.strictObject({ targets: z.array(z.string()).check(z.minLength(1, 'default needs at least one target')) }),
  routes: z.optional(z.array(RouteSchema)),
  suppress: z.optional(z.array(SuppressionSchema)),
  /** Jurisdiction name → region globs whose findings may go to targets of that jurisdiction. */
  jurisdictions: z.optional(ownRecord(z.string(), z.array(z.string()).check(z.minLength(1)))),
  /** Buttons in chat and other inbound actions: allow-lists and secrets (shared/actions/config.ts). */
  actions: z.optional(ActionsConfigSchema),
});

/** Every key the language knows, for did-you-mean hints. */
const KNOWN_KEYS = [
  'targets', 'default', 'routes', 'suppress', 'jurisdictions', 'name', 'match', 'continue', 'notify', 'group', 'on',
  'repeatInterval', 'by', 'window', 'reason', 'owner', 'until', 'not', 'any', 'type', 'min', 'max', 'id', 'ou', 'tags',
  'known', 'rateLimit', 'perSecond', 'burst', 'audit', 'jurisdiction', ...MATCHER_KEYS, ...ACTIONS_KNOWN_KEYS,
];

const durationMs = (duration: string): number => {
  const amount = Number.parseInt(duration, 10);
  const unit = duration.at(-1);
  return amount * (unit === 's' ? 1_000 : unit === 'm' ? 60_000 : unit === 'h' ? 3_600_000 : 86_400_000);
};

export { RoutesFileSchema, CommonTargetSettingsSchema, COMMON_TARGET_KEYS, KNOWN_KEYS, durationMs };
export type { MatchConfig, RouteConfig, CommonTargetSettings };
