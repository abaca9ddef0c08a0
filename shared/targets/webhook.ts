import { createHmac } from 'node:crypto';
import * as z from 'zod/mini';
import { JsonFormatSchema, renderJsonFormat } from '../formats/json-formats.ts';
import { SecretRefSchema, type SecretRef } from '../secrets.ts';
import { defineTarget } from './define.ts';
import type { TargetDefinition, TargetSpec } from './types.ts';

/**
 * POSTs the enriched finding as JSON. `Idempotency-Key` is stable per (target, finding id,
 * updatedAt); with `secret`, `X-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`.
 */
const WebhookConfigSchema = z.strictObject({
  type: z.literal('webhook'),
  url: z.union([z.string().check(z.url()), SecretRefSchema]),
  secret: z.optional(SecretRefSchema),
  allowPrivateNetwork: z.optional(z.boolean()),
  /** raw (GuardDuty detail), enriched (default) or ocsf. */
  format: z.optional(JsonFormatSchema),
});
type WebhookConfig = z.infer<typeof WebhookConfigSchema>;

const signBody = (body: string, secret: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

const resolveUrl = async (url: string | SecretRef, resolve: (ref: SecretRef) => Promise<string>): Promise<string> =>
  typeof url === 'string' ? url : resolve(url);

const webhookSpec: TargetSpec<WebhookConfig> = {
  type: 'webhook',
  category: 'ticket',
  updates: 'notify-policy',
  digest: false,
  local: false,
  configSchema: WebhookConfigSchema,
};

const webhookTarget: TargetDefinition<WebhookConfig> = /* @__PURE__ */ defineTarget(webhookSpec, {
  example: { type: 'webhook', url: 'https://hooks.example.com/guardduty', secret: { env: 'WEBHOOK_SIGNING_SECRET' } },
  summary: 'POSTs the enriched finding as JSON, HMAC-signed, with an idempotency key.',
  create: (name, config, { secrets, http }) => ({
    name,
    render: (enriched) => ({ body: renderJsonFormat(enriched, config.format), contentType: 'application/json', extension: 'json' }),
    send: async ({ payload, ...delivery }) => {
      const url = await resolveUrl(config.url, (ref) => secrets.resolve(ref));
      const secret = config.secret === undefined ? undefined : await secrets.resolve(config.secret);
      const headers: Record<string, string> = {
        'content-type': payload.contentType,
        'idempotency-key': delivery.idempotencyKey,
        'user-agent': 'findings-router',
      };
      if (secret !== undefined) headers['x-signature-256'] = signBody(payload.body, secret);
      await http.send({
        target: name,
        url,
        headers,
        body: payload.body,
        deadline: delivery.deadline,
        allowPrivateNetwork: config.allowPrivateNetwork === true,
        secrets: secret === undefined ? [] : [secret],
      });
    },
  }),
});

export { webhookTarget, webhookSpec };
