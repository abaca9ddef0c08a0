import * as z from 'zod/mini';
import { SecretRefSchema } from '../../secrets.ts';

/**
 * `actions.syncBack` in routes.yml: when the on-call or ticket record the router created for a
 * finding is resolved by a person, archive the finding in GuardDuty. Off unless a service is
 * listed here; a listed service with `archiveOn…: false` still verifies and answers, but acts on
 * nothing (a way to register the webhook before turning it on).
 *
 *   actions:
 *     syncBack:
 *       pagerduty: { archiveOnResolve: true, signingSecret: { ssm: /router/pagerduty-webhook } }
 *       opsgenie:  { archiveOnClose: true, secret: { ssm: /router/opsgenie-webhook } }
 *       jira:      { archiveOnDone: true, secret: { secretsManager: router/jira-webhook } }
 */

/**
 * The header Opsgenie is told to send (Opsgenie does not sign its outgoing webhooks; a custom
 * header carrying a shared secret is what it offers). An HTTP token, and not one of the headers
 * proxies and Lambda rewrite.
 */
const HeaderNameSchema = z
  .string()
  .check(
    z.regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, 'expected an HTTP header name (letters, digits, - and _), at most 64 characters'),
    z.refine((name) => !/^(?:host|content-length|content-type|authorization|cookie|x-forwarded-.*|x-amzn-.*)$/i.test(name), {
      message: 'pick a header of your own (e.g. X-Findings-Router-Secret); this one is set or rewritten by HTTP infrastructure',
    }),
  );

const DEFAULT_OPSGENIE_HEADER = 'X-Findings-Router-Secret';

const REF_FORMS = '{ env: NAME }, { ssm: /parameter/name } or { secretsManager: secret-id }';
/** The shared secret reference, with a line that says what is expected instead of "Invalid input". */
const SecretRef = z.union(SecretRefSchema.def.options, {
  error: (issue) =>
    issue.input === undefined
      ? `missing: the webhook secret as a reference (${REF_FORMS})`
      : typeof issue.input === 'string'
        ? `a secret is never written in the file: give a reference (${REF_FORMS})`
        : `expected a secret reference (${REF_FORMS})`,
});

/** The switch is required when the service is listed, so that listing it never archives by surprise. */
const OnOff = (key: string) =>
  z.boolean({ error: (issue) => (issue.input === undefined ? `missing: ${key}: true or false` : `${key} is true or false`) });

const SyncBackConfigSchema = z.strictObject({
  pagerduty: z.optional(
    z.strictObject({
      /** Archive the finding when a person resolves its incident (`incident.resolved`). */
      archiveOnResolve: OnOff('archiveOnResolve'),
      /** The webhook subscription's signing secret (PagerDuty shows it once, at creation). */
      signingSecret: SecretRef,
    }),
  ),
  opsgenie: z.optional(
    z.strictObject({
      /** Archive the finding when its alert is closed (`Close`). */
      archiveOnClose: OnOff('archiveOnClose'),
      /** The value of the custom header set on the Opsgenie webhook integration (at least 32 characters). */
      secret: SecretRef,
      /** Default `X-Findings-Router-Secret`. */
      header: z.optional(HeaderNameSchema),
    }),
  ),
  jira: z.optional(
    z.strictObject({
      /** Archive the finding when its issue moves into a status of the Done category. */
      archiveOnDone: OnOff('archiveOnDone'),
      /** The secret entered when the admin webhook was created (Jira signs with it: `X-Hub-Signature`). */
      secret: SecretRef,
    }),
  ),
});
type SyncBackConfig = z.infer<typeof SyncBackConfigSchema>;
type SyncPlatform = keyof SyncBackConfig;

/** For did-you-mean hints on unknown keys. */
const SYNC_BACK_KNOWN_KEYS = ['syncBack', 'pagerduty', 'opsgenie', 'jira', 'archiveOnResolve', 'archiveOnClose', 'archiveOnDone', 'signingSecret', 'secret', 'header'];

/** Whether this platform's events may archive (listed and switched on). */
const archivesOn = (config: SyncBackConfig | undefined, platform: SyncPlatform): boolean => {
  if (platform === 'pagerduty') return config?.pagerduty?.archiveOnResolve === true;
  if (platform === 'opsgenie') return config?.opsgenie?.archiveOnClose === true;
  return config?.jira?.archiveOnDone === true;
};

/**
 * The authorisation of a sync-back request: the service's webhook is verified and the record is
 * one the router created, so whoever may resolve it there may archive the finding — when, and
 * only when, routes.yml switched that on. Nothing but `archive` ever comes from these platforms.
 */
const syncBackAllows = (config: SyncBackConfig | undefined, action: string, platform: string): boolean =>
  action === 'archive' && (platform === 'pagerduty' || platform === 'opsgenie' || platform === 'jira') && archivesOn(config, platform);

export { SyncBackConfigSchema, SYNC_BACK_KNOWN_KEYS, DEFAULT_OPSGENIE_HEADER, archivesOn, syncBackAllows };
export type { SyncBackConfig, SyncPlatform };
