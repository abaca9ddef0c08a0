import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DestinationRefusedError } from '../../../shared/errors.ts';
import { nonPublicRange } from '../../../shared/targets/address-policy.ts';
import { createHttpClient, LookupRefused, publicOnlyLookupWith } from '../../../shared/targets/http.ts';

/**
 * The destination table, checked without sending a packet: the classifier, IP literals in
 * URLs (refused before any connection) and the connect-time lookup hook with a resolver that
 * answers from the table.
 */

/** [address, a word the refusal names]: every non-public range, and IPv4 carried in IPv6. */
const REFUSED: [string, string][] = [
  ['127.0.0.1', 'loopback'],
  ['10.1.2.3', 'private'],
  ['172.16.0.1', 'private'],
  ['192.168.1.1', 'private'],
  ['169.254.169.254', 'linkLocal'],
  ['100.64.0.1', 'carrierGradeNat'],
  ['0.0.0.0', 'unspecified'],
  ['255.255.255.255', 'broadcast'],
  ['224.0.0.1', 'multicast'],
  ['198.18.0.1', 'reserved'],
  ['198.19.255.254', 'reserved'],
  ['192.0.0.1', 'reserved'],
  ['192.0.2.1', 'reserved'],
  ['240.0.0.1', 'reserved'],
  ['::1', 'loopback'],
  ['::', 'unspecified'],
  ['fc00::1', 'uniqueLocal'],
  ['fd12:3456::1', 'uniqueLocal'],
  ['fe80::1', 'linkLocal'],
  ['ff02::1', 'multicast'],
  ['fec0::1', 'deprecatedSiteLocal'],
  ['100::1', 'discard'],
  ['2001:db8::1', 'reserved'],
  ['2001:2::1', 'benchmarking'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:a9fe:a9fe', 'linkLocal'],
  ['::FFFF:A00:1', 'private'],
  ['::127.0.0.1', 'ipv4Compatible'],
  ['::169.254.169.254', 'ipv4Compatible'],
  ['::8.8.8.8', 'ipv4Compatible'],
  ['::ffff:0:127.0.0.1', 'rfc6145'],
  ['64:ff9b::127.0.0.1', 'loopback'],
  ['64:ff9b::10.0.0.1', 'private'],
  ['64:ff9b:1::a00:1', 'rfc6052'],
  ['2002:7f00:1::', 'loopback'],
  ['2002:a9fe:a9fe::1', 'linkLocal'],
  // Teredo: server 65.54.227.120, client 10.0.0.1 (stored inverted: f5ff:fffe)
  ['2001:0:4136:e378:8000:63bf:f5ff:fffe', 'private'],
  // Teredo: server 127.0.0.1
  ['2001:0:7f00:1:8000:63bf:f7f7:f7f7', 'loopback'],
];

const ALLOWED = [
  '8.8.8.8',
  '1.1.1.1',
  '172.32.0.1',
  '100.128.0.1',
  '2606:4700::1111',
  '2001:4860::8888',
  '::ffff:8.8.8.8',
  '64:ff9b::8.8.8.8',
  '2002:808:808::1',
  // Teredo: server 65.54.227.120, client 8.8.8.8
  '2001:0:4136:e378:8000:63bf:f7f7:f7f7',
];

/** A name that resolves to `address` through the hook, and what the hook answered. */
const lookUp = (address: string): Promise<{ error: Error | null; address: string | LookupAddress[] }> => {
  const lookup = publicOnlyLookupWith((_hostname, _options, callback) => callback(null, [{ address, family: isIP(address) }]));
  return new Promise((resolve) => lookup('receiver.example', {}, (error, answered) => resolve({ error, address: answered })));
};

describe('Destination policy', () => {
  describe('classifier', () => {
    it.each(REFUSED)('%s is refused (%s)', (address, range) => {
      // Act
      const refusal = nonPublicRange(address);

      // Assess
      expect(refusal).toContain(range);
    });

    it.each(ALLOWED)('%s is public', (address) => {
      // Act
      const refusal = nonPublicRange(address);

      // Assess
      expect(refusal).toBeUndefined();
    });
  });

  describe('an IP literal in the URL', () => {
    it.each(['[::127.0.0.1]', '[::ffff:0:127.0.0.1]', '[64:ff9b::127.0.0.1]', '[2002:7f00:1::]', '[::169.254.169.254]', '198.18.0.1', '192.0.0.1', '[::ffff:7f00:1]'])(
      'https://%s is refused before any connection',
      async (host) => {
        // Prepare
        const request = { target: 't', url: `https://${host}/hook`, body: '{}', deadline: Date.now() + 5_000 };

        // Act
        const sending = createHttpClient().send(request);

        // Assess
        await expect(sending).rejects.toBeInstanceOf(DestinationRefusedError);
        await expect(sending).rejects.toMatchObject({ retryable: false });
      },
    );
  });

  describe('connect-time lookup hook', () => {
    it.each(REFUSED.map(([address]) => address))('a name resolving to %s is refused', async (address) => {
      // Act
      const answer = await lookUp(address);

      // Assess
      expect(answer.error).toBeInstanceOf(LookupRefused);
      expect(answer.error).toMatchObject({ reason: 'private' });
    });

    it.each(ALLOWED)('a name resolving to %s connects', async (address) => {
      // Act
      const answer = await lookUp(address);

      // Assess
      expect(answer).toEqual({ error: null, address });
    });

    it('one non-public address among public ones refuses the name (the connection could use either)', async () => {
      // Prepare
      const lookup = publicOnlyLookupWith((_hostname, _options, callback) =>
        callback(null, [
          { address: '8.8.8.8', family: 4 },
          { address: '64:ff9b::7f00:1', family: 6 },
        ]),
      );

      // Act
      const error = await new Promise<Error | null>((resolve) => lookup('receiver.example', { all: true }, (caught) => resolve(caught)));

      // Assess
      expect(error).toMatchObject({ reason: 'private' });
    });
  });
});
