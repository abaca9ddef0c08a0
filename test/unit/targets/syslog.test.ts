import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { GuardDutyFindingSchema } from '../../../schemas/finding.ts';
import { DestinationRefusedError } from '../../../shared/errors.ts';
import { cefEvent, renderCef } from '../../../shared/targets/cef.ts';
import { publicOnlyLookup, type SyslogConfig, SyslogConfigSchema, syslogTarget } from '../../../shared/targets/syslog.ts';
import type { Target } from '../../../shared/targets/types.ts';
import { TRUNCATION_MARKER } from '../../../shared/text.ts';
import { enrichedFrom, FILLER_SHIFTS, hostileAccount, hostileFinding } from '../../helpers/findings.ts';
import { makeFinding } from '../../helpers/finding-factory.ts';
import { representativeFindings } from '../../helpers/representative.ts';
import { makeSelfSignedCert, parseCef, parseStructuredData, type ReceivedSyslog, type Rsyslog, startRsyslog } from '../../helpers/rsyslog.ts';
import { skipWithoutSystemPackages } from '../../helpers/system-packages.ts';
import { closedPort, failure, findingJob, sendFinding, targetContext } from '../../helpers/target-contract.ts';

// ── Expectations written from RFC 5424, independent of the target's tables ────

/** RFC 5424 §6.2.1: PRI = facility × 8 + severity; local4 = 20, auth = 4. */
const FACILITY_CODE = { local4: 20, auth: 4 } as const;
/** GuardDuty band → syslog severity: Critical 2, Error 3, Warning 4, Notice 5. */
const SEVERITY_CODE = { critical: 2, high: 3, medium: 4, low: 5 } as const;
const expectedPri = (enriched: EnrichedFinding, facility: keyof typeof FACILITY_CODE = 'local4'): string =>
  String(FACILITY_CODE[facility] * 8 + SEVERITY_CODE[enriched.enrichment.severityLabel]);

const HOSTNAME = 'router-1.example.net';
const BROKEN_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Splits an octet-counted frame; throws unless MSG-LEN is exactly the byte length of the rest. */
const unframe = (frame: string): string => {
  const match = /^([1-9]\d*) /.exec(frame);
  if (match === null) throw new Error('no MSG-LEN');
  const message = frame.slice(match[0].length);
  expect(Buffer.byteLength(message)).toBe(Number(match[1]));
  return message;
};

const sdParams = (received: ReceivedSyslog): Record<string, string> => {
  const elements = parseStructuredData(received.sd);
  expect(elements.map((element) => element.id)).toEqual(['guardduty@32473']);
  return Object.fromEntries(elements[0]!.params);
};

const value = (pairs: [string, string][], key: string): string | undefined => pairs.find(([k]) => k === key)?.[1];

// ── The real target ──────────────────────────────────────────────────────────

const makeSyslog = (config: Partial<SyslogConfig> & { port: number }, name = 'siem'): Target =>
  syslogTarget.create(
    name,
    z.parse(SyslogConfigSchema, { type: 'syslog', host: '127.0.0.1', allowPrivateNetwork: true, hostname: HOSTNAME, ...config }),
    targetContext(),
  );

/** Sends each finding in turn and returns what the collector received for it, matched by findingId. */
const deliverAll = async (collector: Rsyslog, target: Target, findings: EnrichedFinding[]): Promise<ReceivedSyslog[]> => {
  const before = (await collector.received()).length;
  for (const enriched of findings) await sendFinding(target, enriched);
  const fresh = (await collector.waitFor(before + findings.length)).slice(before);
  expect(fresh).toHaveLength(findings.length);
  return findings.map((enriched) => {
    const match = fresh.find((received) => sdParams(received).findingId === enriched.finding.id);
    if (match === undefined) throw new Error(`nothing received for ${enriched.finding.id}`);
    return match;
  });
};

/** Checks every RFC 5424 field rsyslog parsed out of one message, one by one. */
const assertReceived = (received: ReceivedSyslog, enriched: EnrichedFinding, frame: string, facility: keyof typeof FACILITY_CODE = 'local4') => {
  const { finding } = enriched;
  expect(received.pri).toBe(expectedPri(enriched, facility));
  expect(received.timestamp).toBe(new Date(Date.parse(String(finding.updatedAt))).toISOString());
  expect(received.hostname).toBe(HOSTNAME);
  expect(received.app).toBe('findings-router');
  expect(received.procid).toBe('-');
  expect(received.msgid).toBe('GD_FINDING');
  expect(received.raw).toBe(unframe(frame));
  const params = sdParams(received);
  expect(Object.keys(params)).toEqual(['findingId', 'severity', 'accountId', 'type']);
  expect(params.severity).toBe(String(finding.severity));
  expect(params.accountId).toBe(finding.accountId);
};

// ── Loopback TCP servers for failure modes ───────────────────────────────────

const servers: { server: Server; sockets: Set<Socket> }[] = [];
const tcpServer = async (onConnection: (socket: Socket) => void): Promise<number> => {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    onConnection(socket);
  });
  servers.push({ server, sockets });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      ({ server, sockets }) =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    ),
  );
});

/** A finding built to break out of RFC 5424 structured data and CEF at once. */
const injectionFinding = (id: string) =>
  enrichedFrom(
    makeFinding({
      id,
      type: 'Backdoor:EC2/Break"out]\\x',
      title: 'Title | with = and \\ and\r\nCRLF ] "quoted"',
      description: 'desc|pipe=eq\\back\r\nsecond line] "q" cs1=999999999999 msg=forged',
      severity: 9.5,
    }),
    { name: 'acct|=\\"]', tags: {} },
  );

// ── Tests ────────────────────────────────────────────────────────────────────

const NO_RSYSLOG = skipWithoutSystemPackages('syslog target against a real rsyslog', 'rsyslog', 'rsyslog-gnutls', 'openssl');

describe('Target: syslog', () => {
  let plain: Rsyslog;
  let tls: Rsyslog;
  let scratch: string;

  beforeAll(async () => {
    if (!NO_RSYSLOG) [plain, tls] = await Promise.all([startRsyslog(), startRsyslog({ tls: true })]);
    scratch = await mkdtemp(join(tmpdir(), 'syslog-test-'));
  }, 30_000);

  afterAll(async () => {
    await Promise.all([plain?.stop(), tls?.stop(), scratch && rm(scratch, { recursive: true, force: true })]);
  });

  describe('golden frames', async () => {
    const pairs = await representativeFindings();
    it.each(pairs)('%s renders the golden octet-counted frame', async (name, enriched) => {
      // Prepare
      const target = makeSyslog({ port: 6514 });

      // Act
      const payload = target.render(enriched);

      // Assess
      await expect(`${JSON.stringify(payload, null, 2)}\n`).toMatchFileSnapshot(`../../golden/syslog/${name}.json`);
      expect(target.render(enriched)).toEqual(payload);
      expect(unframe(payload.body).endsWith(renderCef(enriched))).toBe(true);
    });
  });

  describe.skipIf(NO_RSYSLOG)('delivery to a real rsyslog over TCP', () => {
    it('delivers every representative finding; rsyslog parses PRI, header, structured data and the CEF body', async () => {
      // Prepare
      const target = makeSyslog({ port: plain.port });
      const findings = (await representativeFindings()).map(([, enriched]) => enriched).filter((e, i, all) => all.findIndex((o) => o.finding.id === e.finding.id) === i);

      // Act
      const received = await deliverAll(plain, target, findings);

      // Assess
      findings.forEach((enriched, index) => {
        const message = received[index]!;
        assertReceived(message, enriched, target.render(enriched).body);
        expect(sdParams(message).findingId).toBe(enriched.finding.id);
        expect(sdParams(message).type).toBe(enriched.finding.type);
        expect(message.msg).toBe(renderCef(enriched));
        const cef = parseCef(message.msg);
        expect(cef.signatureId).toBe(enriched.finding.type);
        expect(cef.extension).toEqual(cefEvent(enriched).extension);
        expect(value(cef.extension, 'cs3')).toBe(enriched.finding.id);
        expect(value(cef.extension, 'msg')).toBe(enriched.finding.description);
      });
    });

    it('hostile values round-trip exactly through structured data and CEF (|, =, \\, ], ", CR/LF)', async () => {
      // Prepare
      const id = 'id"with]quote\\and=eq|pipe space';
      const enriched = await injectionFinding(id);
      const target = makeSyslog({ port: plain.port });

      // Act
      const [received] = await deliverAll(plain, target, [enriched]);

      // Assess
      assertReceived(received!, enriched, target.render(enriched).body);
      const params = sdParams(received!);
      expect(params.findingId).toBe(id);
      expect(params.type).toBe('Backdoor:EC2/Break"out]\\x');
      const cef = parseCef(received!.msg);
      expect(cef.signatureId).toBe('Backdoor:EC2/Break"out]\\x');
      expect(cef.name).toBe('Title | with = and \\ and  CRLF ] "quoted"');
      expect(cef.severity).toBe('9');
      expect(value(cef.extension, 'msg')).toBe('desc|pipe=eq\\back\r\nsecond line] "q" cs1=999999999999 msg=forged');
      expect(value(cef.extension, 'cs3')).toBe(id);
      expect(value(cef.extension, 'cs5')).toBe('acct|=\\"]');
      expect(cef.extension.filter(([key]) => key === 'cs1')).toEqual([['cs1', '111111111111']]);
      expect(cef.extension.filter(([key]) => key === 'msg')).toHaveLength(1);
    });

    it('cuts an oversized hostile finding to maxMessageBytes with a visible marker; rsyslog still parses it', async () => {
      // Prepare
      const enriched = await enrichedFrom(hostileFinding(), hostileAccount());
      const target = makeSyslog({ port: plain.port, maxMessageBytes: 2048 });
      const frame = target.render(enriched).body;

      // Act
      const [received] = await deliverAll(plain, target, [enriched]);

      // Assess
      expect(Buffer.byteLength(frame)).toBeLessThanOrEqual(2048);
      expect(Buffer.byteLength(frame)).toBeGreaterThan(2000);
      assertReceived(received!, enriched, frame);
      expect(received!.msg.endsWith(TRUNCATION_MARKER)).toBe(true);
      expect(received!.msg).not.toMatch(BROKEN_SURROGATE);
      const cef = parseCef(received!.msg);
      expect(cef.extension.map(([key]) => key).slice(0, 3)).toEqual(['rt', 'cat', 'cnt']);
      expect(sdParams(received!).findingId).toBe(enriched.finding.id);
    });

    it('with format: json sends a JSON summary, valid even when cut, and honours the facility', async () => {
      // Prepare
      const small = await injectionFinding('json-small');
      const big = await enrichedFrom({ ...hostileFinding(), id: 'json-big' }, hostileAccount());
      const target = makeSyslog({ port: plain.port, format: 'json', facility: 'auth', maxMessageBytes: 4096 });

      // Act
      const [smallReceived, bigReceived] = await deliverAll(plain, target, [small, big]);

      // Assess
      assertReceived(smallReceived!, small, target.render(small).body, 'auth');
      const summary = JSON.parse(smallReceived!.msg) as Record<string, unknown>;
      expect(summary).toMatchObject({
        findingId: 'json-small',
        type: small.finding.type,
        title: small.finding.title,
        description: small.finding.description,
        severity: 9.5,
        severityLabel: 'critical',
        accountId: '111111111111',
        accountName: 'acct|=\\"]',
        consoleUrl: small.enrichment.consoleUrl,
      });
      expect(Buffer.byteLength(target.render(big).body)).toBeLessThanOrEqual(4096);
      const bigSummary = JSON.parse(bigReceived!.msg) as Record<string, string>;
      expect(bigSummary.findingId).toBe('json-big');
      expect(bigSummary.description!.endsWith(TRUNCATION_MARKER)).toBe(true);
      expect(bigReceived!.msg).not.toMatch(BROKEN_SURROGATE);
    });
  });

  describe.skipIf(NO_RSYSLOG)('delivery to a real rsyslog over TLS', () => {
    it('verifies the collector certificate against the configured CA and delivers', async () => {
      // Prepare
      const enriched = await injectionFinding('tls-ok');
      const target = makeSyslog({ port: tls.port, tls: { ca: tls.certPath! } });

      // Act
      const [received] = await deliverAll(tls, target, [enriched]);

      // Assess
      assertReceived(received!, enriched, target.render(enriched).body);
      expect(value(parseCef(received!.msg).extension, 'msg')).toBe(enriched.finding.description);
    });

    it('checks the name in servername against the certificate', async () => {
      // Prepare
      const enriched = await injectionFinding('tls-servername');
      const target = makeSyslog({ host: 'localhost', port: tls.port, tls: { ca: tls.certPath!, servername: 'localhost' } });

      // Act
      const [received] = await deliverAll(tls, target, [enriched]);

      // Assess
      expect(sdParams(received!).findingId).toBe('tls-servername');
    });

    it.each([
      ['system CAs (tls: true) do not trust a self-signed certificate', () => ({ tls: true as const })],
      ['a CA file that did not sign the certificate', () => ({ tls: { ca: makeSelfSignedCert(scratch, 'other').cert } })],
      ['a servername the certificate does not name', () => ({ tls: { ca: tls.certPath!, servername: 'collector.example.com' } })],
    ])('refuses %s: permanent, nothing delivered', async (_label, settings) => {
      // Prepare
      const before = (await tls.received()).length;
      const target = makeSyslog({ port: tls.port, ...settings() });

      // Act
      const error = await failure(sendFinding(target, await injectionFinding('tls-refused')));

      // Assess
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(/TLS certificate rejected/);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await tls.received()).toHaveLength(before);
    });

    it('a missing CA file is permanent', async () => {
      // Prepare
      const target = makeSyslog({ port: tls.port, tls: { ca: join(scratch, 'missing.pem') } });

      // Act
      const error = await failure(sendFinding(target, await injectionFinding('tls-no-ca')));

      // Assess
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(/cannot read tls\.ca .*missing\.pem: ENOENT/);
    });

    it('a TLS handshake that never completes times out at the deadline, retryable', async () => {
      // Prepare
      const port = await tcpServer(() => {}); // accepts, never speaks TLS
      const target = makeSyslog({ port, tls: { ca: tls.certPath! } });
      const started = Date.now();

      // Act
      const error = await failure(sendFinding(target, await injectionFinding('tls-stall'), 300));

      // Assess
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/timed out/);
      expect(Date.now() - started).toBeLessThan(1_500);
    });
  });

  describe.skipIf(NO_RSYSLOG)('failure classification', () => {
    it.each([
      ['connection refused (closed port)', 'retryable', async () => ({ port: await closedPort() })],
      [
        'connection reset by the collector',
        'retryable',
        async () => ({
          port: await tcpServer((socket) => socket.resetAndDestroy()),
        }),
      ],
      [
        'a collector that closes before the frame is written',
        'retryable',
        async () => ({ port: await tcpServer((socket) => socket.destroy()), tls: { ca: tls.certPath! } }),
      ],
    ] as const)('%s is %s', async (_label, expected, setup) => {
      // Prepare
      const target = makeSyslog(await setup());

      // Act
      const error = await failure(sendFinding(target, await injectionFinding('classify')));

      // Assess
      expect(error.retryable).toBe(expected === 'retryable');
    });

    it('no time left before the deadline is retryable and opens no connection', async () => {
      // Prepare
      let connections = 0;
      const port = await tcpServer(() => connections++);
      const target = makeSyslog({ port });
      const enriched = await injectionFinding('late');

      // Act
      const error = await failure(target.send(findingJob(target, enriched, { idempotencyKey: 'k', attempt: 3, deadline: Date.now() + 10 })));

      // Assess
      expect(error.retryable).toBe(true);
      expect(connections).toBe(0);
    });

    it('a collector that keeps the connection open after the frame still counts as delivered (no duplicate retry)', async () => {
      // Prepare
      const chunks: Buffer[] = [];
      const port = await tcpServer((socket) => {
        socket.allowHalfOpen = true;
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('end', () => {}); // never closes its side
      });
      const target = makeSyslog({ port });
      const enriched = await injectionFinding('half-open');
      const started = Date.now();

      // Act
      await sendFinding(target, enriched, 10_000);

      // Assess
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(Buffer.concat(chunks).toString('utf8')).toBe(target.render(enriched).body);
    });

    it('errors name the collector but carry no finding data', async () => {
      // Prepare
      const enriched = await injectionFinding('secret-finding-id-4242');
      const port = await closedPort();
      const cases = [
        makeSyslog({ port }),
        makeSyslog({ port: await tcpServer((socket) => socket.resetAndDestroy()) }),
        makeSyslog({ port: tls.port, tls: true }),
        makeSyslog({ port: await tcpServer(() => {}), tls: { ca: tls.certPath! } }),
      ];

      // Act
      const errors = [];
      for (const target of cases) errors.push(await failure(sendFinding(target, enriched, 300)));

      // Assess
      for (const error of errors) {
        const everything = [error.message, error.stack ?? '', String(error), inspect(error, { depth: 10, showHidden: true })].join('\n');
        expect(everything).toContain('127.0.0.1:');
        for (const leaked of ['secret-finding-id-4242', 'desc|pipe', 'CEF:0', 'GD_FINDING']) expect(everything).not.toContain(leaked);
      }
    });
  });

  describe.skipIf(NO_RSYSLOG)('destination checks', () => {
    it('refuses plain TCP without allowPrivateNetwork, even to a public address', async () => {
      // Prepare
      const target = makeSyslog({ host: '203.0.113.10', port: 514, allowPrivateNetwork: false });

      // Act
      const error = await failure(sendFinding(target, await injectionFinding('plain')));

      // Assess
      expect(error).toBeInstanceOf(DestinationRefusedError);
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(/plain TCP .* refused/);
    });

    it.each(['127.0.0.1', 'localhost', '10.1.2.3', '::1', '169.254.169.254'])('refuses TLS to private or loopback %s without allowPrivateNetwork', async (host) => {
      // Prepare
      let connections = 0;
      const port = await tcpServer(() => connections++);
      const target = makeSyslog({ host, port, tls: { ca: tls.certPath! }, allowPrivateNetwork: false });

      // Act
      const error = await failure(sendFinding(target, await injectionFinding('private')));

      // Assess
      expect(error).toBeInstanceOf(DestinationRefusedError);
      expect(error.retryable).toBe(false);
      expect(connections).toBe(0);
    });
  });

  describe('connect-time DNS check', () => {
    it.each([false, true])('refuses a name that resolves to loopback at connect time (all: %s)', async (all) => {
      // Prepare
      const lookup = (): Promise<{ code?: string; message: string }> =>
        new Promise((resolve) => publicOnlyLookup('localhost', { all }, (error) => resolve(error ?? { message: 'no error' })));

      // Act
      const error = await lookup();

      // Assess
      expect(error.code).toBe('EPRIVATEADDRESS');
      expect(error.message).toMatch(/localhost resolves to a private, loopback or link-local address/);
    });
  });

  describe('limits', () => {
    it('every frame fits maxMessageBytes, MSG-LEN is exact, and no cut splits a character or an escape', async () => {
      // Prepare
      const cases: [number, EnrichedFinding][] = [];
      for (let shift = 0; shift < FILLER_SHIFTS; shift++) {
        const enriched = await enrichedFrom(hostileFinding({ shift }), hostileAccount());
        for (const limit of [2048, 2049, 2051, 3000, 8192]) cases.push([limit, enriched]);
      }

      // Act + Assess
      for (const [limit, enriched] of cases) {
        for (const format of ['cef', 'json'] as const) {
          const frame = makeSyslog({ port: 6514, maxMessageBytes: limit, format }).render(enriched).body;
          expect(Buffer.byteLength(frame)).toBeLessThanOrEqual(limit);
          const message = unframe(frame);
          expect(message).not.toMatch(BROKEN_SURROGATE);
          expect(message).not.toMatch(/[\r\n]/);
          const msg = message.slice(message.indexOf('] ') + 2);
          if (format === 'cef') parseCef(msg);
          else JSON.parse(msg);
        }
      }
    });

    it('at the 2,048-byte minimum, a long multi-byte title is cut so the CEF header still arrives whole', async () => {
      // Prepare
      const enriched = await enrichedFrom(
        makeFinding({ id: '標'.repeat(300), type: `Backdoor:EC2/${'界'.repeat(87)}`, title: '漢|字\\'.repeat(200), description: '文'.repeat(900) }),
      );

      // Act
      const frame = makeSyslog({ port: 6514, maxMessageBytes: 2048 }).render(enriched).body;

      // Assess
      expect(Buffer.byteLength(frame)).toBeLessThanOrEqual(2048);
      const message = unframe(frame);
      const cef = parseCef(message.slice(message.indexOf('] CEF:0|') + 2));
      expect(cef.signatureId).toBe(enriched.finding.type);
      expect(cef.name.endsWith(TRUNCATION_MARKER)).toBe(true);
      expect(cef.name.startsWith('漢|字\\')).toBe(true);
      expect(cef.severity).toBe('5');
    });

    it('any limit from 2,048 to 9,000 bytes gives a frame that fits and parses whole (property)', async () => {
      // Prepare
      const findings = [
        await enrichedFrom(hostileFinding(), hostileAccount()),
        await enrichedFrom(hostileFinding({ shift: 5 }), hostileAccount()),
        await enrichedFrom(makeFinding({ id: '標'.repeat(300), title: '漢|字\\='.repeat(150), description: '文=\\|\r\n'.repeat(400) })),
      ];

      // Act + Assess
      fc.assert(
        fc.property(fc.integer({ min: 2048, max: 9000 }), fc.constantFrom(...findings), fc.constantFrom('cef' as const, 'json' as const), (limit, enriched, format) => {
          const frame = makeSyslog({ port: 6514, maxMessageBytes: limit, format }).render(enriched).body;
          expect(Buffer.byteLength(frame)).toBeLessThanOrEqual(limit);
          const message = unframe(frame);
          expect(message).not.toMatch(BROKEN_SURROGATE);
          const msg = message.slice(message.indexOf('] ') + 2);
          if (format === 'json') return void JSON.parse(msg);
          const cef = parseCef(msg);
          expect(cef.signatureId).toBe(enriched.finding.type.replace(/[\r\n\t]/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim());
          expect(cef.extension.length).toBeGreaterThan(0);
        }),
        { numRuns: 300 },
      );
    });

    it('caps the finding id in structured data at 128 characters, with a marker', async () => {
      // Prepare
      const id = 'i'.repeat(300);
      const enriched = await enrichedFrom(z.parse(GuardDutyFindingSchema, makeFinding({ id })));

      // Act
      const message = unframe(makeSyslog({ port: 6514 }).render(enriched).body);
      const sd = message.slice(message.indexOf('['), message.indexOf('] ') + 1);

      // Assess
      const params = Object.fromEntries(parseStructuredData(sd)[0]!.params);
      expect(params.findingId!.length).toBe(128);
      expect(params.findingId!.endsWith(TRUNCATION_MARKER)).toBe(true);
      expect(value(parseCef(message.slice(message.indexOf('] ') + 2)).extension, 'cs3')).toBe(id);
    });
  });

  describe('configuration', () => {
    it.each([
      [{ host: 'collector.example.com', tls: { ca: '/etc/ssl/collector.pem', servername: 'collector' }, facility: 'local7', format: 'json', maxMessageBytes: 65536 }, true],
      [{ host: 'collector.example.com', tls: true, port: 6514 }, true],
      [{ host: '2001:db8::1', tls: true }, true],
      [{ host: 'collector.example.com', tls: { rejectUnauthorized: false } }, false],
      [{ host: 'collector.example.com', rejectUnauthorized: false }, false],
      [{ host: 'bad host name' }, false],
      [{ host: 'collector.example.com', hostname: 'has space' }, false],
      [{ host: 'collector.example.com', maxMessageBytes: 1024 }, false],
      [{ host: 'collector.example.com', facility: 'local8' }, false],
      [{ host: 'collector.example.com', format: 'leef' }, false],
      [{ host: 'collector.example.com', port: 0 }, false],
    ])('%j valid: %s', (config, valid) => {
      // Prepare + Act
      const result = z.safeParse(SyslogConfigSchema, { type: 'syslog', ...config });

      // Assess
      expect(result.success).toBe(valid);
    });
  });
});
