import { GuardDutyClient } from '@aws-sdk/client-guardduty';

/**
 * The GuardDuty client of one region of a pull. Retries are the SDK's adaptive mode: its
 * standard strategy (exponential backoff with jitter for 429, 5xx, timeouts and resets) plus a
 * client-side rate that slows down after throttling, so a 90-day pull does not keep hitting
 * the limit; 8 attempts a call. AWS_RETRY_MODE and AWS_MAX_ATTEMPTS still win when set.
 * A call that gets no answer is abandoned after a minute (and retried): the SDK's default
 * waits forever on a hung connection.
 */
interface PullClientOptions {
  requestTimeoutMs?: number;
  maxAttempts?: number;
  /** Tests: a loopback endpoint and its dummy credentials. */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

const MAX_ATTEMPTS = 8;
const REQUEST_TIMEOUT_MS = 60_000;
const CONNECTION_TIMEOUT_MS = 10_000;

const createPullClient = (region: string | undefined, options: PullClientOptions = {}): GuardDutyClient =>
  new GuardDutyClient({
    ...(region ? { region } : {}),
    ...(process.env.AWS_RETRY_MODE ? {} : { retryMode: 'adaptive' }),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : process.env.AWS_MAX_ATTEMPTS ? {} : { maxAttempts: MAX_ATTEMPTS }),
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
  });

export { createPullClient };
