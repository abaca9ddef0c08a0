import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeButtonValue } from '../../../shared/actions/button-value.ts';
import type { ActionRequest } from '../../../shared/actions/model.ts';
import { createBotFrameworkKeys, type BotKeysOptions } from '../../../shared/actions/teams-bot-keys.ts';
import { teamsInvokeResponse } from '../../../shared/actions/teams-invoke-response.ts';
import { isRefusal, verifyTeamsRequest, type TeamsRefusal } from '../../../shared/actions/teams-verify.ts';

/**
 * The Teams inbound check against a loopback that answers as the Bot Framework's OpenID
 * metadata and key set do, with RSA keys generated here. Time is a fixed clock passed in.
 */
const APP_ID = '6d1c4a53-0b7e-4a39-9d55-3f6f1b2c9a10';
const SERVICE_URL = 'https://smba.trafficmanager.net/emea/';
const NOW = Date.parse('2026-12-05T08:00:00Z');
const USER = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const FINDING = { id: 'f0b37a7d5504bba0ec3493e776a0c54f', accountId: '111122223333', region: 'eu-west-1', type: 'UnauthorizedAccess:EC2/SSHBruteForce' };

interface Loopback {
  url: string;
  metadataHits: number;
  keyHits: number;
  /** What the key set answers (replaced by tests). */
  keys: () => string;
  server: Server;
}

let signing: { privateKey: CryptoKey; jwk: JWK };
let stranger: { privateKey: CryptoKey; jwk: JWK };
let loop: Loopback;

const rsaKey = async (kid: string) => {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, use: 'sig', endorsements: ['msteams'] } };
};

beforeAll(async () => {
  signing = await rsaKey('bf-key-1');
  stranger = await rsaKey('bf-key-unknown');
  loop = { url: '', metadataHits: 0, keyHits: 0, keys: () => JSON.stringify({ keys: [signing.jwk] }), server: createServer() };
  loop.server.on('request', (req, res) => {
    if (req.url === '/v1/.well-known/openidconfiguration') {
      loop.metadataHits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: 'https://api.botframework.com', jwks_uri: `${loop.url}/v1/.well-known/keys` }));
    } else if (req.url === '/v1/.well-known/keys') {
      loop.keyHits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(loop.keys());
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => loop.server.listen(0, '127.0.0.1', resolve));
  loop.url = `http://127.0.0.1:${(loop.server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => loop.server.close(() => resolve())));

const keysFor = (options: BotKeysOptions = {}) => {
  loop.metadataHits = 0;
  loop.keyHits = 0;
  return createBotFrameworkKeys({ metadataUrl: `${loop.url}/v1/.well-known/openidconfiguration`, now: () => NOW, ...options });
};

const activity = (overrides: Record<string, unknown> = {}, data: Record<string, unknown> = { value: encodeButtonValue(FINDING) }, verb = 'archive') =>
  JSON.stringify({
    type: 'invoke',
    name: 'adaptiveCard/action',
    channelId: 'msteams',
    serviceUrl: SERVICE_URL,
    from: { id: '29:1abc', aadObjectId: USER, name: 'Ann Analyst' },
    recipient: { id: `28:${APP_ID}`, name: 'GuardDuty router' },
    conversation: { id: '19:abc@thread.tacv2' },
    value: { action: { type: 'Action.Execute', verb, data }, trigger: 'manual' },
    ...overrides,
  });

const token = (claims: Record<string, unknown> = {}, options: { key?: typeof signing; kid?: string; expSeconds?: number } = {}) => {
  const key = options.key ?? signing;
  return new SignJWT({ serviceUrl: SERVICE_URL, ...claims })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: options.kid ?? (key.jwk.kid as string) })
    .setIssuer((claims.iss as string | undefined) ?? 'https://api.botframework.com')
    .setAudience((claims.aud as string | undefined) ?? APP_ID)
    .setIssuedAt(Math.floor(NOW / 1000) - 60)
    .setNotBefore(Math.floor(NOW / 1000) - 60)
    .setExpirationTime(Math.floor(NOW / 1000) + (options.expSeconds ?? 3600))
    .sign(key.privateKey);
};

const verify = (jwt: string, body = activity(), keys = keysFor()) => verifyTeamsRequest({ Authorization: `Bearer ${jwt}` }, body, { appId: APP_ID, keys, now: () => NOW });
const refusal = (result: ActionRequest | TeamsRefusal): TeamsRefusal => {
  expect(isRefusal(result), JSON.stringify(result)).toBe(true);
  return result as TeamsRefusal;
};

describe('verifyTeamsRequest', () => {
  it('a valid token and invoke become an ActionRequest for the pressing user', async () => {
    // Act
    const result = await verify(await token());

    // Assess
    expect(result).toEqual({ action: 'archive', finding: FINDING, actor: { platform: 'teams', id: USER, name: 'Ann Analyst' }, receivedAt: NOW });
  });

  it('takes the raw body as bytes too (as the Function URL handler holds it)', async () => {
    // Act
    const result = await verifyTeamsRequest({ authorization: `Bearer ${await token()}` }, Buffer.from(activity()), { appId: APP_ID, keys: keysFor(), now: () => NOW });

    // Assess
    expect(result).toMatchObject({ action: 'archive', finding: FINDING });
  });

  it('an activity over 64 KiB is refused before anything is parsed or fetched', async () => {
    // Prepare
    const keys = keysFor();

    // Act
    const result = await verify(await token(), activity({ padding: 'x'.repeat(64 * 1024) }), keys);

    // Assess
    expect(refusal(result).status).toBe(401);
    expect(loop.keyHits).toBe(0);
  });

  it('suppress carries its days', async () => {
    // Act
    const result = await verify(await token(), activity({}, { value: encodeButtonValue(FINDING), days: 7 }, 'suppress'));

    // Assess
    expect(result).toMatchObject({ action: 'suppress', days: 7 });
  });

  it('the key set is fetched once for many requests over hours (cached for a day)', async () => {
    // Prepare
    let clock = NOW;
    const keys = keysFor({ now: () => clock });
    const jwt = await token({}, { expSeconds: 6 * 3600 });

    // Act
    for (let i = 0; i < 5; i++) {
      clock = NOW + i * 3600 * 1000;
      const result = await verifyTeamsRequest({ authorization: `Bearer ${jwt}` }, activity(), { appId: APP_ID, keys, now: () => clock });
      expect(isRefusal(result), JSON.stringify(result)).toBe(false);
    }

    // Assess
    expect([loop.metadataHits, loop.keyHits]).toEqual([1, 1]);
  });

  describe('refused with 401, nothing parsed', () => {
    it('no token at all (and no fetch is made)', async () => {
      // Act
      const result = refusal(await verifyTeamsRequest({}, activity(), { appId: APP_ID, keys: keysFor(), now: () => NOW }));

      // Assess
      expect(result).toEqual({ status: 401, reason: 'no Bot Framework bearer token' });
      expect(loop.keyHits).toBe(0);
    });

    it('wrong audience (a token for another bot)', async () => {
      expect(refusal(await verify(await token({ aud: 'another-bot' })))).toEqual({ status: 401, reason: 'token audience is not this bot' });
    });

    it('wrong issuer', async () => {
      expect(refusal(await verify(await token({ iss: 'https://sts.windows.net/evil/' })))).toEqual({ status: 401, reason: 'token issuer is not the Bot Framework' });
    });

    it('expired beyond the five-minute tolerance; just inside it is accepted', async () => {
      // Act
      const expired = await verify(await token({}, { expSeconds: -301 }));
      const withinSkew = await verify(await token({}, { expSeconds: -240 }));

      // Assess
      expect(refusal(expired)).toEqual({ status: 401, reason: 'token expired' });
      expect(isRefusal(withinSkew)).toBe(false);
    });

    it('unsigned (alg: none)', async () => {
      // Prepare
      const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const payload = { iss: 'https://api.botframework.com', aud: APP_ID, exp: Math.floor(NOW / 1000) + 3600, serviceUrl: SERVICE_URL };
      const unsigned = `${b64({ alg: 'none', typ: 'JWT', kid: 'bf-key-1' })}.${b64(payload)}.`;

      // Act
      const result = refusal(await verify(unsigned));

      // Assess
      expect(result.status).toBe(401);
    });

    it('signed by a key the key set does not hold, refetching at most once per cooldown', async () => {
      // Prepare
      const keys = keysFor();
      const forged = await token({}, { key: stranger });

      // Act
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await verify(forged, activity(), keys));

      // Assess
      expect(results.map((r) => refusal(r).status)).toEqual([401, 401, 401, 401]);
      expect(loop.keyHits).toBe(1);
    });

    it("signed with a known key id but another key's signature", async () => {
      expect(refusal(await verify(await token({}, { key: stranger, kid: 'bf-key-1' })))).toEqual({ status: 401, reason: 'token signature does not verify' });
    });

    it('a key not endorsed for the activity channel', async () => {
      // Act
      const result = await verify(await token(), activity({ channelId: 'webchat' }));

      // Assess
      expect(refusal(result).status).toBe(401);
    });

    it('a body tampered after signing: another serviceUrl', async () => {
      expect(refusal(await verify(await token(), activity({ serviceUrl: 'https://evil.example/' })))).toEqual({ status: 401, reason: 'token serviceUrl does not match the activity' });
    });

    it('a body tampered after signing: addressed to another bot', async () => {
      expect(refusal(await verify(await token(), activity({ recipient: { id: '28:another-bot' } })))).toEqual({ status: 401, reason: 'activity is not addressed to this bot' });
    });

    it('a body that is not JSON is 401 before any key is fetched', async () => {
      // Prepare
      const keys = keysFor();

      // Act
      const result = refusal(await verify(await token(), '{"type":', keys));

      // Assess
      expect(result.status).toBe(401);
      expect(loop.keyHits).toBe(0);
    });
  });

  describe('a valid token with an activity the router cannot act on: 400 naming the field', () => {
    it.each([
      ['another invoke', { name: 'composeExtension/query' }, undefined, 'archive', 'activity name is not adaptiveCard/action'],
      ['a verb this router does not offer', {}, undefined, 'delete', 'value.action.verb is not an action this router offers'],
      ['a forged button value', {}, { value: '{"v":1,"f":"x","a":"1","r":"eu-west-1"}' }, 'archive', 'button value: a is not a 12-digit account id'],
      ['days out of range', {}, { value: encodeButtonValue(FINDING), days: 9999 }, 'suppress', 'value.action.data.days is not a whole number of days from 1 to 365'],
      ['suppress without days', {}, { value: encodeButtonValue(FINDING) }, 'suppress', 'value.action.data.days is missing for suppress'],
      ['a sender without an Entra id', { from: { id: '29:1abc' } }, undefined, 'archive', 'from.aadObjectId is not a non-empty string'],
    ])('%s', async (_name, overrides, data, verb, reason) => {
      // Act
      const result = await verify(await token(), activity(overrides, data ?? { value: encodeButtonValue(FINDING) }, verb));

      // Assess
      expect(refusal(result)).toEqual({ status: 400, reason });
    });
  });

  describe('bounded key fetches', () => {
    it('a key set over the size cap is refused (503), not read to the end', async () => {
      // Prepare
      const original = loop.keys;
      loop.keys = () => JSON.stringify({ keys: [signing.jwk], pad: 'x'.repeat(300 * 1024) });

      // Act
      const result = await verify(await token()).finally(() => {
        loop.keys = original;
      });

      // Assess
      expect(refusal(result)).toEqual({ status: 503, reason: 'Bot Framework signing keys unavailable' });
    });

    it('metadata pointing at keys on another origin is refused', async () => {
      // Prepare
      const keys = createBotFrameworkKeys({
        metadataUrl: 'https://login.botframework.example/v1/.well-known/openidconfiguration',
        // The metadata comes from the named origin; the key set it points at (the loopback) would verify the token.
        fetch: async (url, init) =>
          String(url).startsWith(loop.url) ? fetch(url, init) : new Response(JSON.stringify({ jwks_uri: `${loop.url}/v1/.well-known/keys` })),
      });

      // Act
      const result = await verify(await token(), activity(), keys);

      // Assess
      expect(refusal(result).status).toBe(503);
    });

    it('a key set that never answers ends at the deadline with 503', async () => {
      // Prepare
      const silent = createServer(() => {
        // never answers
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1/.well-known/openidconfiguration`;

      // Act
      const result = await verify(await token(), activity(), createBotFrameworkKeys({ metadataUrl: url, timeoutMs: 200 })).finally(() => {
        silent.closeAllConnections();
        silent.close();
      });

      // Assess
      expect(refusal(result).status).toBe(503);
    });
  });
});

describe('teamsInvokeResponse', () => {
  it('answers 200 with the refreshed card: the outcome line (escaped) and the buttons again', () => {
    // Prepare
    const outcome = {
      request: { action: 'archive' as const, finding: FINDING, actor: { platform: 'teams' as const, id: USER, name: '**Ann** [x](https://evil.example)' }, receivedAt: NOW },
      status: 'done' as const,
      message: 'archived in detector d1',
    };

    // Act
    const response = teamsInvokeResponse(outcome, { at: new Date(NOW), actions: ['acknowledge', 'archive'] });

    // Assess
    const body = JSON.parse(response.body) as {
      statusCode: number;
      type: string;
      value: { version: string; body: { id?: string; text?: string }[]; actions: { type: string; verb?: string; card?: { actions: { verb: string }[] } }[] };
    };
    expect(response.status).toBe(200);
    expect(body.statusCode).toBe(200);
    expect(body.type).toBe('application/vnd.microsoft.card.adaptive');
    expect(body.value.version).toBe('1.5');
    expect(body.value.actions.map((a) => a.verb ?? a.card?.actions[0]?.verb)).toEqual(['acknowledge', 'archive']);
    expect(body.value.actions[1]!.type).toBe('Action.ShowCard');
    expect(body.value.body.find((e) => e.id === 'findings-router-outcome')?.text).toBe(
      'Archived in GuardDuty by ∗∗Ann∗∗ ［x］(https://evil.example) at 2026-12-05 08:00 UTC — archived in detector d1',
    );
  });
});
