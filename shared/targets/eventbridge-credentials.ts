import type { STSClient } from '@aws-sdk/client-sts';

/**
 * Credentials of a role assumed for a cross-account bus (`roleArn`): one AssumeRole, then the
 * same credentials until five minutes before they expire (the SDK's own refresh window), so
 * a warm function does not call STS per delivery. Concurrent deliveries share one call.
 */

interface AssumedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

interface AssumeRoleSettings {
  roleArn: string;
  externalId?: string;
  /** Shows in the bus account's CloudTrail as the session that put the events. */
  sessionName: string;
  /** Where STS is called: the function's own region (regional STS endpoints). */
  region: string;
  /** For tests: the clock the expiry is compared with. */
  now?: () => number;
}

interface AssumedRoleProvider {
  /** The cached credentials, or new ones from STS within `timeoutMs`. */
  get(timeoutMs?: number): Promise<AssumedCredentials>;
  /** The credentials held, fresh or not: what the SDK signs with once `get` has run for the delivery. */
  current(): AssumedCredentials | undefined;
  /** The secret parts of the credentials held (to mask in error messages; never sent anywhere). */
  secrets(): string[];
}

const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;
/** One hour: the longest a role allows by default. */
const SESSION_SECONDS = 3600;
const DEFAULT_TIMEOUT_MS = 5_000;

/** STS RoleSessionName: 2 to 64 of `[\w+=,.@-]`. */
const sessionNameFor = (target: string): string => `findings-router-${target.replace(/[^\w+=,.@-]/g, '-')}`.slice(0, 64);

/** A named error for an AssumeRole answer without usable credentials. */
class AssumeRoleAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssumeRoleAnswerError';
  }
}

const assumedRoleProvider = (settings: AssumeRoleSettings): AssumedRoleProvider => {
  const now = settings.now ?? Date.now;
  let sdk: Promise<{ client: STSClient; AssumeRoleCommand: typeof import('../aws/lazy/sts.ts').AssumeRoleCommand }> | undefined;
  let cached: AssumedCredentials | undefined;
  let pending: Promise<AssumedCredentials> | undefined;

  const assume = async (timeoutMs: number): Promise<AssumedCredentials> => {
    // The STS client loads on first use (a lazily loaded chunk in the Lambda bundles); it
    // signs with the function's own credentials, and the router owns retries.
    const { client, AssumeRoleCommand } = await (sdk ??= import('../aws/lazy/sts.ts').then(({ STSClient, AssumeRoleCommand }) => ({
      client: new STSClient({ region: settings.region, maxAttempts: 1 }),
      AssumeRoleCommand,
    })));
    const { Credentials: credentials } = await client.send(
      new AssumeRoleCommand({
        RoleArn: settings.roleArn,
        RoleSessionName: settings.sessionName,
        DurationSeconds: SESSION_SECONDS,
        ...(settings.externalId === undefined ? {} : { ExternalId: settings.externalId }),
      }),
      { abortSignal: AbortSignal.timeout(timeoutMs) },
    );
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken || !credentials.Expiration) {
      throw new AssumeRoleAnswerError('AssumeRole answered without complete credentials');
    }
    cached = {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      sessionToken: credentials.SessionToken,
      expiration: credentials.Expiration,
    };
    return cached;
  };

  return {
    get: (timeoutMs = DEFAULT_TIMEOUT_MS) => {
      if (cached !== undefined && cached.expiration.getTime() - REFRESH_BEFORE_EXPIRY_MS > now()) return Promise.resolve(cached);
      pending ??= assume(timeoutMs).finally(() => {
        pending = undefined;
      });
      return pending;
    },
    current: () => cached,
    secrets: () => (cached === undefined ? [] : [cached.secretAccessKey, cached.sessionToken]),
  };
};

export { assumedRoleProvider, sessionNameFor, REFRESH_BEFORE_EXPIRY_MS };
export type { AssumedRoleProvider };
