import * as z from 'zod/mini';
import { MATCHERS, MATCHER_KEYS } from '../routing/matchers.ts';

/**
 * The routes file. Strict everywhere: an unknown key is an error, not a silent no-op.
 * Target settings are checked per type against the target registry (see load.ts).
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

interface RouteConfig {
  name: string;
  match?: MatchConfig;
  targets: string[];
  continue?: boolean;
  routes?: RouteConfig[];
}

const RouteSchema: z.ZodMiniType<RouteConfig> = z.strictObject({
  name: z.string().check(z.minLength(1)),
  match: z.optional(MatchSchema),
  targets: z.array(z.string()),
  continue: z.optional(z.boolean()),
  get routes() {
    return z.optional(z.array(RouteSchema));
  },
}) as unknown as z.ZodMiniType<RouteConfig>;

const RoutesFileSchema = z.strictObject({
  targets: z.record(z.string().check(z.regex(/^[A-Za-z0-9][\w.-]*$/, 'target names use letters, digits, _ . -')), z.looseObject({ type: z.string() })),
  default: z.strictObject({ targets: z.array(z.string()).check(z.minLength(1, 'default needs at least one target')) }),
  routes: z.optional(z.array(RouteSchema)),
});
type RoutesFile = z.infer<typeof RoutesFileSchema>;

/** Every key the language knows, for did-you-mean hints. */
const KNOWN_KEYS = ['targets', 'default', 'routes', 'name', 'match', 'continue', 'not', 'any', 'type', 'min', 'max', 'id', 'ou', 'tags', 'known', ...MATCHER_KEYS];

export { MatchSchema, RouteSchema, RoutesFileSchema, KNOWN_KEYS };
export type { MatchConfig, RouteConfig, RoutesFile };
