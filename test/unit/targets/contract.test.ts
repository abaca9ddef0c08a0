import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { buildDigest } from '../../../shared/delivery/digest.ts';
import { TARGET_DEFINITIONS } from '../../../shared/targets/registry.ts';
import type { AnyTargetDefinition, Target } from '../../../shared/targets/types.ts';
import { targetContext as renderOnlyContext } from '../../helpers/all-targets.ts';
import { copyEnriched, enrichedFrom, hostileAccount, hostileFinding } from '../../helpers/findings.ts';
import { withHostileActor } from '../../helpers/hostile-actor.ts';
import { listenLoopback, readBody } from '../../helpers/receiver-kit.ts';
import { representativeFindings } from '../../helpers/representative.ts';
import { delivery, findingJob, leakedPieces, statusTable, targetContext } from '../../helpers/target-contract.ts';

/**
 * The contract every registered target keeps, checked from its definition alone: a target
 * added to the registry is covered here without a line of its own. What is special about a
 * target (its format's escaping, its service's answers) stays in its own test file.
 *
 * A target is reached over HTTP by convention: the http(s) URLs of its example (settings, or
 * secrets whose env name ends in _URL) are pointed at a loopback receiver; an example without
 * one is given `url` where its schema takes it. Every secret of the example resolves to a
 * random canary that must never show in an error.
 */

const DEFINITIONS = TARGET_DEFINITIONS.map((definition) => [definition.type, definition] as const);

// ── Secrets and settings from the example ───────────────────────────────────

/** The env names of the example's `{ env }` secret references, wherever they sit. */
const envRefs = (value: unknown): string[] => {
  if (Array.isArray(value)) return value.flatMap(envRefs);
  if (value === null || typeof value !== 'object') return [];
  const entries = Object.entries(value);
  if (entries.length === 1 && entries[0]![0] === 'env' && typeof entries[0]![1] === 'string') return [entries[0]![1]];
  return entries.flatMap(([, inner]) => envRefs(inner));
};

/** 32 random characters (a PagerDuty routing key's length); no 8-character piece of it is anywhere else. */
const canary = (): string => `cnry${randomBytes(14).toString('hex')}`;

/** The example's settings with its http(s) URLs moved to `origin`, or undefined when it reaches no URL there. */
const pointAt = (definition: AnyTargetDefinition, origin: string): Record<string, unknown> | undefined => {
  let moved = false;
  const move = (value: unknown): unknown => {
    if (typeof value === 'string' && /^https?:\/\//.test(value)) {
      moved = true;
      return `${origin}${new URL(value).pathname.replace(/\/$/, '')}`;
    }
    if (Array.isArray(value)) return value.map(move);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, move(inner)]));
    return value;
  };
  const schema = definition.configSchema as z.ZodMiniType<unknown>;
  let settings = move(definition.example) as Record<string, unknown>;
  const urlSecrets = envRefs(definition.example).filter((name) => name.endsWith('_URL'));
  if (!moved && urlSecrets.length === 0) {
    if (!z.safeParse(schema, { ...settings, url: origin }).success) return undefined;
    settings = { ...settings, url: origin };
  }
  const loopbackAllowed = { ...settings, allowPrivateNetwork: true };
  return z.safeParse(schema, loopbackAllowed).success ? loopbackAllowed : undefined;
};

const OVER_HTTP = TARGET_DEFINITIONS.filter((definition) => pointAt(definition, 'http://127.0.0.1:9') !== undefined);

// ── A receiver that answers one status and echoes the whole request ──────────

interface Received {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** Answers every request with `status` and a JSON body repeating the request (URL, headers, body): what a careless service does. */
const echoingReceiver = async (status: number): Promise<{ origin: string; requests: Received[] }> => {
  const requests: Received[] = [];
  const { origin, close } = await listenLoopback(
    createServer(async (req, res) => {
      const body = (await readBody(req)).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `refused ${req.url} ${JSON.stringify(req.headers)} ${body}` }));
    }),
  );
  closers.push(close);
  return { origin, requests };
};

/** The target built from its example, pointed at `origin`, its secrets resolving to canaries (URL secrets to `origin`). */
const reachable = (definition: AnyTargetDefinition, origin: string): { target: Target; secrets: string[] } => {
  const env: NodeJS.ProcessEnv = {};
  const secrets: string[] = [];
  for (const name of envRefs(definition.example)) {
    const value = canary();
    secrets.push(value);
    env[name] = name.endsWith('_URL') ? `${origin}/hooks/${value}` : value;
  }
  const settings = z.parse(definition.configSchema as z.ZodMiniType<unknown>, pointAt(definition, origin));
  return { target: definition.create(`contract-${definition.type}`, settings, targetContext({ env })), secrets };
};

// ── Well-formed for its content type ─────────────────────────────────────────

/** Why `body` is not well-formed for `contentType`, or undefined. */
const malformed = (body: string, contentType: string): string | undefined => {
  // A raw ESC reaches a terminal or log viewer as a command in every format (JSON writes it \u001b).
  if (body.includes('\u001b')) return 'a raw ESC';
  if (contentType.startsWith('application/json')) {
    try {
      JSON.parse(body);
    } catch {
      return 'not JSON';
    }
  }
  if (contentType.startsWith('application/x-ndjson')) {
    if (!body.endsWith('\n')) return 'NDJSON without the final newline';
    for (const line of body.slice(0, -1).split('\n')) {
      try {
        JSON.parse(line);
      } catch {
        return `an NDJSON line that is not JSON: ${line.slice(0, 60)}`;
      }
    }
    if (/[\r\u2028\u2029]/.test(body)) return 'a raw line separator in NDJSON';
  }
  if (contentType.startsWith('text/plain') && /[\r\u0080-\u009f]/.test(body)) return 'a raw CR or C1 control in text';
  return undefined;
};

let representative: [string, EnrichedFinding][] = [];
let hostile: EnrichedFinding;
beforeAll(async () => {
  representative = await representativeFindings();
  hostile = await enrichedFrom(withHostileActor(hostileFinding()), hostileAccount());
});

describe('target contract: the registry', () => {
  it('reaches every HTTP target of the registry over a loopback by the convention (none skipped silently)', () => {
    // Assess
    expect(OVER_HTTP.map((definition) => definition.type)).toEqual(
      expect.arrayContaining(['slack', 'webhook', 'teams', 'jira', 'servicenow', 'pagerduty', 'opsgenie', 'splunk', 'elasticsearch']),
    );
  });
});

describe.each(DEFINITIONS)('target contract: %s', (_type, definition) => {
  const build = (): Target => definition.create(`contract-${definition.type}`, z.parse(definition.configSchema as z.ZodMiniType<unknown>, definition.example), renderOnlyContext());

  it('its example is a configuration its schema accepts, with secrets as references only', () => {
    // Act
    const parsed = z.safeParse(definition.configSchema as z.ZodMiniType<unknown>, definition.example);

    // Assess
    expect(parsed.success).toBe(true);
    expect(JSON.stringify(definition.example)).not.toMatch(/"value":/);
  });

  it('takes digests exactly when it renders them or is held for them (digest policy matches renderDigest)', () => {
    // Act
    const target = build();

    // Assess: a target that renders digests must be sent them
    if (target.renderDigest !== undefined) expect(definition.digest).toBe(true);
  });

  it('renders every representative finding: pure, well-formed for its content type, within its size limit', () => {
    // Prepare
    const target = build();

    // Act
    const rendered = representative.map(([name, enriched]) => ({ name, first: target.render(enriched), again: target.render(copyEnriched(enriched)) }));

    // Assess
    for (const { name, first, again } of rendered) {
      expect(again, name).toEqual(first);
      expect(first.body.length, name).toBeGreaterThan(0);
      expect(malformed(first.body, first.contentType), name).toBeUndefined();
      if (definition.limits) expect(Buffer.byteLength(first.body, 'utf8'), name).toBeLessThanOrEqual(definition.limits.payloadBytes);
    }
  });

  it('renders a digest of the representative and hostile findings well-formed, where it renders digests', () => {
    // Prepare
    const target = build();
    const digest = buildDigest({ route: 'contract <!channel>\u001b[31m', key: 'account=111111111111' }, [...representative.map(([, enriched]) => enriched), hostile]);

    // Act
    const payload = target.renderDigest?.(digest);

    // Assess
    if (payload === undefined) return;
    expect(target.renderDigest?.(structuredClone(digest))).toEqual(payload);
    expect(malformed(payload.body, payload.contentType)).toBeUndefined();
    if (definition.limits) expect(Buffer.byteLength(payload.body, 'utf8')).toBeLessThanOrEqual(definition.limits.payloadBytes);
  });

  it('renders a finding hostile everywhere well-formed and within its size limit (no raw ESC, no broken structure)', () => {
    // Act
    const payload = build().render(hostile);

    // Assess
    expect(malformed(payload.body, payload.contentType)).toBeUndefined();
    if (definition.limits) expect(Buffer.byteLength(payload.body, 'utf8')).toBeLessThanOrEqual(definition.limits.payloadBytes);
  });
});

describe.each(OVER_HTTP.map((definition) => [definition.type, definition] as const))('target contract over HTTP: %s', (_type, definition) => {
  const failing = statusTable(definition.statusExceptions ?? {}).filter(({ status }) => status >= 300);

  it.each(failing)('HTTP $status → $expected, and no piece of a secret in the error', async ({ status, expected }) => {
    // Prepare
    const receiver = await echoingReceiver(status);
    const { target, secrets } = reachable(definition, receiver.origin);
    const enriched = representative[0]![1];

    // Act
    const error: unknown = await target.send(findingJob(target, enriched, delivery())).then(
      () => undefined,
      (caught: unknown) => caught,
    );

    // Assess
    expect(receiver.requests.length).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(Error);
    expect((error as { retryable?: boolean }).retryable ? 'retryable' : 'permanent').toBe(expected);
    for (const secret of secrets) expect(leakedPieces(error as Error, secret)).toEqual([]);
  });

  it('a retry of the same job sends the same request, so a receiver that deduplicates sees a duplicate', async () => {
    // Prepare
    const receiver = await echoingReceiver(503);
    const { target } = reachable(definition, receiver.origin);
    const job = findingJob(target, representative[0]![1], delivery(5_000, 'contract-key'));

    // Act
    await target.send(job).catch(() => undefined);
    await target.send({ ...job, attempt: 2 }).catch(() => undefined);

    // Assess
    const [first, second] = receiver.requests;
    expect(second).toEqual(first);
  });
});
