/**
 * The Bot Framework's signing keys, as a Teams invoke's token is checked against them: the
 * OpenID metadata document names the key set (`jwks_uri`), the key set lists RSA keys, each
 * with the channels that endorse it. Both are fetched with a deadline and a size cap, kept for
 * a day, and fetched again early only when a token names a key we do not have, at most once
 * per cooldown, so forged tokens with random key ids cannot drive a fetch storm.
 */
const BOT_FRAMEWORK_OPENID_METADATA = 'https://login.botframework.com/v1/.well-known/openidconfiguration';

const METADATA_MAX_BYTES = 64 * 1024;
const KEYS_MAX_BYTES = 256 * 1024;
const DEFAULT_TIMEOUT_MS = 3_000;
const DEFAULT_MAX_AGE_MS = 24 * 60 * 60 * 1000;
const DEFAULT_REFRESH_COOLDOWN_MS = 5 * 60 * 1000;

interface BotFrameworkJwk {
  kty: string;
  kid: string;
  n?: string;
  e?: string;
  /** Channel ids (`msteams`, …) this key may sign for; a key without the activity's channel is not used. */
  endorsements?: string[];
  [key: string]: unknown;
}

class BotKeysUnavailableError extends Error {
  override name = 'BotKeysUnavailableError';
}

interface BotKeysOptions {
  metadataUrl?: string;
  fetch?: typeof globalThis.fetch;
  now?: () => number;
  timeoutMs?: number;
  maxAgeMs?: number;
  refreshCooldownMs?: number;
}

interface BotFrameworkKeys {
  /** The key with this id endorsed for `channelId`, or undefined (after at most one early refresh). Throws BotKeysUnavailableError. */
  find(kid: string, channelId: string): Promise<BotFrameworkJwk | undefined>;
}

/** At most `maxBytes` of the body; more is an error, not a truncation (a cut key set would be wrong). */
const readBounded = async (response: Response, maxBytes: number, what: string): Promise<string> => {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw new BotKeysUnavailableError(`${what} is ${declared} bytes, more than ${maxBytes}`);
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new BotKeysUnavailableError(`${what} is more than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
};

const fetchJson = async (fetcher: typeof globalThis.fetch, url: string, maxBytes: number, timeoutMs: number, what: string): Promise<unknown> => {
  let response: Response;
  try {
    response = await fetcher(url, { redirect: 'error', signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (cause) {
    throw new BotKeysUnavailableError(`${what} could not be fetched`, { cause });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new BotKeysUnavailableError(`${what} answered HTTP ${response.status}`);
  }
  try {
    return JSON.parse(await readBounded(response, maxBytes, what));
  } catch (cause) {
    if (cause instanceof BotKeysUnavailableError) throw cause;
    throw new BotKeysUnavailableError(`${what} is not JSON`, { cause });
  }
};

const isJwk = (key: unknown): key is BotFrameworkJwk =>
  typeof key === 'object' && key !== null && typeof (key as BotFrameworkJwk).kid === 'string' && (key as BotFrameworkJwk).kty === 'RSA';

const createBotFrameworkKeys = (options: BotKeysOptions = {}): BotFrameworkKeys => {
  const metadataUrl = options.metadataUrl ?? BOT_FRAMEWORK_OPENID_METADATA;
  const fetcher = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const cooldownMs = options.refreshCooldownMs ?? DEFAULT_REFRESH_COOLDOWN_MS;
  let cached: { keys: BotFrameworkJwk[]; at: number } | undefined;
  let inFlight: Promise<BotFrameworkJwk[]> | undefined;
  let lastAttempt = Number.NEGATIVE_INFINITY;

  const load = async (): Promise<BotFrameworkJwk[]> => {
    const metadata = (await fetchJson(fetcher, metadataUrl, METADATA_MAX_BYTES, timeoutMs, 'the Bot Framework OpenID metadata')) as { jwks_uri?: unknown };
    const jwksUri = typeof metadata?.jwks_uri === 'string' ? metadata.jwks_uri : '';
    // The metadata may only point at keys on its own origin: a changed document cannot send us to another host.
    if (!URL.canParse(jwksUri) || new URL(jwksUri).origin !== new URL(metadataUrl).origin) {
      throw new BotKeysUnavailableError('the Bot Framework OpenID metadata names no key set on its own origin');
    }
    const set = (await fetchJson(fetcher, jwksUri, KEYS_MAX_BYTES, timeoutMs, 'the Bot Framework key set')) as { keys?: unknown };
    if (!Array.isArray(set?.keys)) throw new BotKeysUnavailableError('the Bot Framework key set has no keys');
    return set.keys.filter(isJwk);
  };

  const refresh = (): Promise<BotFrameworkJwk[]> => {
    lastAttempt = now();
    inFlight ??= load()
      .then((keys) => {
        cached = { keys, at: now() };
        return keys;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  const current = async (): Promise<BotFrameworkJwk[]> => {
    if (cached !== undefined && now() - cached.at < maxAgeMs) return cached.keys;
    if (cached !== undefined && now() - lastAttempt < cooldownMs) return cached.keys; // stale but recently retried: keep serving it
    try {
      return await refresh();
    } catch (error) {
      if (cached !== undefined) return cached.keys;
      throw error;
    }
  };

  const pick = (keys: BotFrameworkJwk[], kid: string, channelId: string) =>
    keys.find((key) => key.kid === kid && Array.isArray(key.endorsements) && key.endorsements.includes(channelId));

  return {
    async find(kid, channelId) {
      const keys = await current();
      const found = pick(keys, kid, channelId);
      if (found !== undefined || keys.some((key) => key.kid === kid)) return found;
      if (now() - lastAttempt < cooldownMs) return undefined;
      return pick(await refresh(), kid, channelId);
    },
  };
};

export { createBotFrameworkKeys, BotKeysUnavailableError };
export type { BotFrameworkKeys, BotKeysOptions };
