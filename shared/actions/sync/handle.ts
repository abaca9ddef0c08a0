import { describeSecretRef, type SecretRef, type SecretResolver } from '../../secrets.ts';
import type { Ledger } from '../../targets/ledger.ts';
import type { ActionRequest, FindingRef } from '../model.ts';
import { archivesOn, DEFAULT_OPSGENIE_HEADER, type SyncBackConfig, type SyncPlatform } from './config.ts';
import { readSyncEvent } from './events.ts';
import { findingForRemote } from './refs.ts';
import { MIN_SHARED_SECRET_LENGTH, verifyHubSignature, verifyPagerDutySignature, verifySharedSecret } from './verify.ts';

/**
 * One inbound sync-back webhook (`/sync/pagerduty`, `/sync/opsgenie`, `/sync/jira`) → at most
 * one archive request for the action engine. The order matters: nothing is parsed before the
 * signature is checked, and nothing is acted on unless the remote record is one the router
 * created (refs.ts). Answers:
 *
 *   404  the platform is not under actions.syncBack
 *   413  body over MAX_SYNC_BODY_BYTES (before any work)
 *   401  missing or wrong signature / secret header — nothing done, no reason given
 *   400  signed, but not JSON
 *   200  verified and deliberately ignored (other event, not ours, switched off): no retries
 *   202  an archive request for the engine (`action`)
 *   503  our side failed (secret unresolvable, ledger unreachable): the service retries later
 */
const MAX_SYNC_BODY_BYTES = 1024 * 1024;

interface SyncWebhookRequest {
  /** Header names in any case (Function URLs lower-case them). */
  headers: Readonly<Record<string, string | undefined>>;
  /** The raw body bytes, base64 already decoded. */
  body: Buffer;
  receivedAt: number;
}

interface SyncDeps {
  syncBack: SyncBackConfig | undefined;
  secrets: SecretResolver;
  ledger: Ledger;
}

interface SyncResult {
  statusCode: 200 | 202 | 400 | 401 | 404 | 413 | 503;
  /** One line for the HTTP answer and the log; never a secret, never the body. */
  reason: string;
  /** Present only with 202: what the engine is asked to do. */
  action?: ActionRequest;
}

const header = (headers: SyncWebhookRequest['headers'], wanted: string): string | undefined => {
  const lower = wanted.toLowerCase();
  for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() === lower) return value;
  return undefined;
};

const result = (statusCode: SyncResult['statusCode'], reason: string): SyncResult => ({ statusCode, reason });

/** The secret reference the platform's requests are checked with. */
const secretRefOf = (syncBack: SyncBackConfig, platform: SyncPlatform): SecretRef | undefined =>
  platform === 'pagerduty' ? syncBack.pagerduty?.signingSecret : platform === 'opsgenie' ? syncBack.opsgenie?.secret : syncBack.jira?.secret;

const authentic = (platform: SyncPlatform, syncBack: SyncBackConfig, request: SyncWebhookRequest, secret: string): boolean => {
  if (platform === 'pagerduty') return verifyPagerDutySignature(request.body, header(request.headers, 'x-pagerduty-signature'), secret);
  if (platform === 'jira') return verifyHubSignature(request.body, header(request.headers, 'x-hub-signature'), secret);
  return verifySharedSecret(header(request.headers, syncBack.opsgenie?.header ?? DEFAULT_OPSGENIE_HEADER), secret);
};

const parseJson = (body: Buffer): unknown => {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
};

const syncEventToAction = async (platform: SyncPlatform, request: SyncWebhookRequest, deps: SyncDeps): Promise<SyncResult> => {
  const syncBack = deps.syncBack;
  const ref = syncBack === undefined ? undefined : secretRefOf(syncBack, platform);
  if (syncBack === undefined || ref === undefined) return result(404, `sync-back from ${platform} is not configured (actions.syncBack.${platform})`);
  if (request.body.length > MAX_SYNC_BODY_BYTES) return result(413, `body over ${MAX_SYNC_BODY_BYTES} bytes`);

  let secret: string;
  try {
    secret = await deps.secrets.resolve(ref);
  } catch {
    return result(503, `the ${platform} webhook secret (${describeSecretRef(ref)}) could not be resolved`);
  }
  if (platform === 'opsgenie' && secret.length < MIN_SHARED_SECRET_LENGTH) {
    return result(503, `the opsgenie webhook secret (${describeSecretRef(ref)}) is shorter than ${MIN_SHARED_SECRET_LENGTH} characters; refusing to rely on it`);
  }
  if (!authentic(platform, syncBack, request, secret)) return result(401, 'unauthorized');

  const body = parseJson(request.body);
  if (body === undefined) return result(400, 'the body is not JSON');
  const event = readSyncEvent(platform, body);
  if (event.kind === 'ignore') return result(200, `ignored: ${event.reason}`);
  if (!archivesOn(syncBack, platform)) return result(200, `ignored: archiving from ${platform} is switched off`);

  let finding: FindingRef | undefined;
  try {
    finding = await findingForRemote(deps.ledger, platform, event.remoteId);
  } catch {
    return result(503, 'the ledger could not be read');
  }
  if (finding === undefined) return result(200, `ignored: the ${platform} record was not created by the router`);
  return {
    statusCode: 202,
    reason: `archive requested for finding ${finding.id} (${finding.accountId} ${finding.region})`,
    action: { action: 'archive', finding, actor: event.actor, receivedAt: request.receivedAt },
  };
};

export { syncEventToAction, MAX_SYNC_BODY_BYTES };
export type { SyncDeps, SyncResult };
