/**
 * `npx node scripts/make-malformed.ts [outDir]`: writes the bad-input corpus to
 * test/events/malformed/ — wrong types in every required field, nulls, arrays where
 * objects belong, NaN-like strings, huge numbers, surrogates, a BOM, invalid UTF-8,
 * duplicate keys, `__proto__`/`constructor` keys, 5,000-level nesting, events near the
 * 256 KB EventBridge limit, dead letters carrying bad payloads — with `expected.tsv`:
 * file, expected outcome (rejected | ignored | invalid-json) and, for rejections, the
 * JSON path the reason must name. The expectations are written here by hand: they are
 * the oracle, not a recording of what the validator happens to say.
 *
 * Deterministic (no clock, no randomness): test/unit/validate/malformed.test.ts fails
 * when the checked-in files differ from this output.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Outcome = 'rejected' | 'ignored' | 'invalid-json';

interface MalformedCase {
  /** File name without extension. */
  name: string;
  /** The file's exact bytes. */
  content: string | Buffer;
  outcome: Outcome;
  /** For `rejected`: the JSON path of the first problem. */
  path: string;
  /** One line: what is wrong. */
  why: string;
}

const ROOT = join(import.meta.dirname, '..');
const OUT = join(ROOT, 'test/events/malformed');
/** EventBridge's limit on an event. */
const MAX_EVENT_BYTES = 256 * 1024;
const DEPTH = 5_000;
/** shared/validate.ts MAX_DEPTH: deeper is rejected at the path where the limit is crossed. */
const MAX_DEPTH = 64;

type Json = any;

const base = (): Json => JSON.parse(readFileSync(join(ROOT, 'test/events/published/ssh-bruteforce.sample.eventbridge.json'), 'utf8'));

/** A copy of the base event with `edit` applied to it. */
const event = (edit: (e: Json) => void): Json => {
  const e = base();
  edit(e);
  return e;
};

const json = (value: Json): string => `${JSON.stringify(value, null, 2)}\n`;

/** `{"a":{"a":…}}` `depth` levels deep around `leaf`, as text (JSON.stringify would recurse). */
const deepObjectText = (depth: number, leaf = '1'): string => `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;

/** Replaces the JSON text of one marker string value by raw `replacement` text. */
const spliceRaw = (value: Json, marker: string, replacement: string): string => {
  const text = JSON.stringify(value);
  const quoted = JSON.stringify(marker);
  if (!text.includes(quoted)) throw new Error(`marker ${marker} not found`);
  return `${text.replace(quoted, replacement)}\n`;
};

const cases: MalformedCase[] = [];
const add = (name: string, content: string | Buffer, outcome: Outcome, path: string, why: string) => cases.push({ name, content, outcome, path, why });
const rejected = (name: string, value: Json, path: string, why: string) => add(name, json(value), 'rejected', path, why);

// ── The envelope: every required field wrong ────────────────────────────────
rejected('envelope-id-missing', event((e) => delete e.id), '$.id', 'envelope id missing');
rejected('envelope-id-number', event((e) => (e.id = 42)), '$.id', 'envelope id is a number');
rejected('envelope-detail-type-null', event((e) => (e['detail-type'] = null)), '$["detail-type"]', 'detail-type null');
rejected('envelope-detail-type-array', event((e) => (e['detail-type'] = ['GuardDuty Finding'])), '$["detail-type"]', 'detail-type an array');
rejected('envelope-source-object', event((e) => (e.source = {})), '$.source', 'source an object');
rejected('envelope-account-number', event((e) => (e.account = 785665517223)), '$.account', 'account a number');
rejected('envelope-time-boolean', event((e) => (e.time = true)), '$.time', 'time a boolean');
rejected('envelope-region-null', event((e) => (e.region = null)), '$.region', 'region null');
rejected('envelope-resources-string', event((e) => (e.resources = 'arn:aws:ec2:us-east-1:785665517223:instance/i-99999999')), '$.resources', 'resources a string');
rejected('envelope-resources-mixed', event((e) => (e.resources = ['arn:aws:ec2:::x', 1])), '$.resources[1]', 'a number among the resources');

// ── detail: not an object ───────────────────────────────────────────────────
rejected('detail-null', event((e) => (e.detail = null)), '$.detail', 'detail null');
rejected('detail-array', event((e) => (e.detail = [e.detail])), '$.detail', 'detail an array holding the finding');
rejected('detail-json-in-a-string', event((e) => (e.detail = JSON.stringify(e.detail))), '$.detail', 'detail is the finding serialised into a string');
rejected('detail-empty-object', event((e) => (e.detail = {})), '$.detail.schemaVersion', 'detail empty');

// ── The finding: every required field wrong ────────────────────────────────
rejected('finding-schema-version-number', event((e) => (e.detail.schemaVersion = 2)), '$.detail.schemaVersion', 'schemaVersion a number');
rejected('finding-account-id-number', event((e) => (e.detail.accountId = 785665517223)), '$.detail.accountId', 'accountId a number');
rejected('finding-account-id-11-digits', event((e) => (e.detail.accountId = '78566551722')), '$.detail.accountId', 'accountId 11 digits');
rejected('finding-account-id-huge-number', event((e) => (e.detail.accountId = 1e21)), '$.detail.accountId', 'accountId 1e21');
rejected('finding-account-id-surrogate-pair', event((e) => (e.detail.accountId = '78566551722\u{1F600}')), '$.detail.accountId', 'accountId ending in an emoji (a surrogate pair)');
rejected('finding-account-id-lone-surrogate', event((e) => (e.detail.accountId = '78566551722\uD800')), '$.detail.accountId', 'accountId ending in a lone high surrogate');
rejected('finding-account-id-bom', event((e) => (e.detail.accountId = '\uFEFF785665517223')), '$.detail.accountId', 'accountId behind a byte order mark');
rejected('finding-region-empty', event((e) => (e.detail.region = '')), '$.detail.region', 'region empty');
rejected('finding-region-array', event((e) => (e.detail.region = ['us-east-1'])), '$.detail.region', 'region an array');
rejected('finding-id-null', event((e) => (e.detail.id = null)), '$.detail.id', 'id null');
rejected('finding-id-empty', event((e) => (e.detail.id = '')), '$.detail.id', 'id empty');
rejected('finding-id-lone-surrogate', event((e) => (e.detail.id = 'f0b37a7d5504bba0ec3493e776a0c54f\uDC00')), '$.detail.id', 'id ending in a lone low surrogate (cannot be URL-encoded)');
rejected('finding-id-301-chars', event((e) => (e.detail.id = 'f'.repeat(301))), '$.detail.id', 'id over 300 characters');
rejected('finding-arn-object', event((e) => (e.detail.arn = { arn: e.detail.arn })), '$.detail.arn', 'arn an object');
rejected('finding-type-number', event((e) => (e.detail.type = 7)), '$.detail.type', 'type a number');
rejected('finding-type-101-chars', event((e) => (e.detail.type = `Recon:EC2/${'P'.repeat(91)}`)), '$.detail.type', 'type over 100 characters');
rejected('finding-resource-null', event((e) => (e.detail.resource = null)), '$.detail.resource', 'resource null');
rejected('finding-resource-array', event((e) => (e.detail.resource = [e.detail.resource])), '$.detail.resource', 'resource an array');
rejected('finding-resource-string', event((e) => (e.detail.resource = 'Instance')), '$.detail.resource', 'resource a string');
rejected('finding-severity-string', event((e) => (e.detail.severity = '8')), '$.detail.severity', 'severity "8"');
rejected('finding-severity-nan-string', event((e) => (e.detail.severity = 'NaN')), '$.detail.severity', 'severity "NaN"');
rejected('finding-severity-infinity-string', event((e) => (e.detail.severity = 'Infinity')), '$.detail.severity', 'severity "Infinity"');
rejected('finding-severity-hex-string', event((e) => (e.detail.severity = '0x8')), '$.detail.severity', 'severity "0x8"');
rejected('finding-severity-1e308', event((e) => (e.detail.severity = 1e308)), '$.detail.severity', 'severity 1e308');
rejected('finding-severity-negative', event((e) => (e.detail.severity = -1)), '$.detail.severity', 'severity -1');
rejected('finding-severity-null', event((e) => (e.detail.severity = null)), '$.detail.severity', 'severity null');
add('finding-severity-overflows-to-infinity', spliceRaw(event((e) => (e.detail.severity = 'MARKER')), 'MARKER', '1e400'), 'rejected', '$.detail.severity', 'severity 1e400: JSON.parse makes it Infinity');
rejected('finding-created-at-boolean', event((e) => (e.detail.createdAt = false)), '$.detail.createdAt', 'createdAt a boolean');
rejected('finding-updated-at-object', event((e) => (e.detail.updatedAt = { $date: e.detail.updatedAt })), '$.detail.updatedAt', 'updatedAt an object');
rejected('finding-updated-at-null', event((e) => (e.detail.updatedAt = null)), '$.detail.updatedAt', 'updatedAt null');
rejected('finding-bare-id-number', { ...base().detail, id: 5 }, '$.id', 'a bare finding (no envelope) whose id is a number');
rejected('finding-wrapper-severity-string', { detail: event((e) => (e.detail.severity = 'high')).detail }, '$.detail.severity', 'a { detail } test event with severity "high"');

// ── Typed optional fields wrong ─────────────────────────────────────────────
rejected('service-array', event((e) => (e.detail.service = [e.detail.service])), '$.detail.service', 'service an array');
rejected('service-count-string', event((e) => (e.detail.service.count = '3')), '$.detail.service.count', 'count "3"');
add('service-count-overflows-to-infinity', spliceRaw(event((e) => (e.detail.service.count = 'MARKER')), 'MARKER', '-1e999'), 'rejected', '$.detail.service.count', 'count -1e999: -Infinity once parsed');
rejected('service-additional-info-array', event((e) => (e.detail.service.additionalInfo = [{ sample: true }])), '$.detail.service.additionalInfo', 'additionalInfo an array');
rejected('instance-tags-object', event((e) => (e.detail.resource.instanceDetails.tags = { Name: 'web' })), '$.detail.resource.instanceDetails.tags', 'tags an object');
rejected('instance-tag-value-number', event((e) => (e.detail.resource.instanceDetails.tags[0].value = 1)), '$.detail.resource.instanceDetails.tags[0].value', 'a tag value that is a number');
rejected('network-interfaces-null-entry', event((e) => (e.detail.resource.instanceDetails.networkInterfaces = [null])), '$.detail.resource.instanceDetails.networkInterfaces[0]', 'a null network interface');
rejected(
  'remote-asn-boolean',
  event((e) => (e.detail.service.action.networkConnectionAction.remoteIpDetails.organization.asn = true)),
  '$.detail.service.action.networkConnectionAction.remoteIpDetails.organization.asn',
  'asn a boolean',
);
rejected('s3-bucket-details-object', event((e) => (e.detail.resource.s3BucketDetails = { name: 'b' })), '$.detail.resource.s3BucketDetails', 's3BucketDetails an object');
rejected('confidence-string', event((e) => (e.detail.confidence = 'high')), '$.detail.confidence', 'confidence "high"');

// ── Deep nesting (5,000 levels) ──────────────────────────────────────────────
add('deep-object-in-instance-id', spliceRaw(event((e) => (e.detail.resource.instanceDetails.instanceId = 'MARKER')), 'MARKER', deepObjectText(DEPTH)), 'rejected', `$.detail.resource.instanceDetails.instanceId${'.a'.repeat(MAX_DEPTH - 4)}`, `instanceId ${DEPTH} objects deep`);
add('deep-additional-info-bad-severity', spliceRaw(event((e) => ((e.detail.service.additionalInfo = 'MARKER'), (e.detail.severity = 'x'))), 'MARKER', deepObjectText(DEPTH)), 'rejected', `$.detail.service.additionalInfo${'.a'.repeat(MAX_DEPTH - 3)}`, `additionalInfo ${DEPTH} objects deep and severity "x": the depth is found first`);
add('deep-additional-info-otherwise-valid', spliceRaw(event((e) => (e.detail.service.additionalInfo = 'MARKER')), 'MARKER', deepObjectText(DEPTH)), 'rejected', `$.detail.service.additionalInfo${'.a'.repeat(MAX_DEPTH - 3)}`, `a valid finding but for additionalInfo ${DEPTH} objects deep (no serialiser survives it)`);
add('deep-additional-info-at-the-limit', spliceRaw(event((e) => ((e.detail.service.additionalInfo = 'MARKER'), (e.detail.severity = 'x'))), 'MARKER', deepObjectText(MAX_DEPTH - 3)), 'rejected', '$.detail.severity', `additionalInfo nested exactly to the ${MAX_DEPTH}-level limit (allowed) and severity "x"`);
add('deep-unknown-key-bad-account', spliceRaw(event((e) => ((e.detail.futureField = 'MARKER'), (e.detail.accountId = 'x'))), 'MARKER', `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`), 'rejected', `$.detail.futureField${'[0]'.repeat(MAX_DEPTH - 2)}`, `an unknown key ${DEPTH} arrays deep (and a bad accountId)`);
add('deep-array-top-level', `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}\n`, 'rejected', `$${'[0]'.repeat(MAX_DEPTH)}`, `${DEPTH} nested arrays: one element, itself ${DEPTH - 1} deep`);

// ── Near 256 KB ──────────────────────────────────────────────────────────────
/** Grows `fill` until the event is as large as it may be while staying under the limit. */
const nearLimit = (make: (n: number) => Json): string => {
  let low = 1;
  let high = 1;
  while (Buffer.byteLength(JSON.stringify(make(high))) < MAX_EVENT_BYTES) high *= 2;
  while (low < high - 1) {
    const mid = Math.floor((low + high) / 2);
    if (Buffer.byteLength(JSON.stringify(make(mid))) < MAX_EVENT_BYTES) low = mid;
    else high = mid;
  }
  return `${JSON.stringify(make(low))}\n`;
};
add('oversized-type', nearLimit((n) => event((e) => (e.detail.type = `Recon:EC2/${'A'.repeat(n)}`))), 'rejected', '$.detail.type', 'type of about 256 KB');
add(
  'oversized-tags-last-bad',
  nearLimit((n) =>
    event((e) => {
      const tags = Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
      tags.push({ key: 'last', value: 404 as never });
      e.detail.resource.instanceDetails.tags = tags;
    }),
  ),
  'rejected',
  '$.detail.resource.instanceDetails.tags[LAST].value',
  'thousands of tags, the last one with a number for a value',
);
add(
  'oversized-interfaces-all-bad',
  nearLimit((n) => event((e) => (e.detail.resource.instanceDetails.networkInterfaces = Array.from({ length: n }, () => 'eni-bfcffe88-not-an-object')))),
  'rejected',
  '$.detail.resource.instanceDetails.networkInterfaces[0]',
  'thousands of network interfaces, every one a string',
);
add(
  'oversized-unicode-description-bad-account',
  nearLimit((n) => event((e) => ((e.detail.description = '漢字😀é'.repeat(n)), (e.detail.accountId = 'not-an-account')))),
  'rejected',
  '$.detail.accountId',
  'a multi-byte description of about 256 KB and a bad accountId',
);

// ── Odd bytes and odd JSON ───────────────────────────────────────────────────
add('nan-literal', spliceRaw(event((e) => (e.detail.severity = 'MARKER')), 'MARKER', 'NaN'), 'invalid-json', '$', 'severity: NaN (not JSON)');
add('truncated', json(base()).slice(0, 1500), 'invalid-json', '$', 'cut off mid-event');
add('trailing-comma', json(base()).replace(/\n}\n$/, ',\n}\n'), 'invalid-json', '$', 'a trailing comma');
add('empty-file', '', 'invalid-json', '$', 'nothing at all');
add(
  'invalid-utf8-in-account-id',
  (() => {
    const [before, after] = json(base()).split('"accountId": "785665517223"');
    return Buffer.concat([Buffer.from(before!), Buffer.from('"accountId": "7856655\xff\xfe7223"', 'latin1'), Buffer.from(after!)]);
  })(),
  'rejected',
  '$.detail.accountId',
  'bytes that are not UTF-8 in accountId (decoded as U+FFFD)',
);
add('duplicate-key-last-wins', json(base()).replace('"severity": 2,', '"severity": 2,\n    "severity": "critical",'), 'rejected', '$.detail.severity', 'severity twice; the second, a string, wins');
add('duplicate-detail-type', json(base()).replace('"detail-type": "GuardDuty Finding",', '"detail-type": "GuardDuty Finding",\n  "detail-type": "GuardDuty Runtime Protection Health",'), 'ignored', '', 'detail-type twice; the second is not a finding');
add('proto-key-in-detail', json(base()).replace('"detail": {', '"detail": {\n    "__proto__": { "severity": 5, "polluted": true },').replace(/\n {4}"severity": 2,/, ''), 'rejected', '$.detail.severity', 'severity only under __proto__ (must not count as set)');
add('proto-key-in-envelope', json(base()).replace('{\n', '{\n  "__proto__": { "source": "aws.guardduty", "detail-type": "GuardDuty Finding" },\n').replace('  "detail-type": "GuardDuty Finding",\n', '').replace('  "source": "aws.guardduty",\n', ''), 'rejected', '$.schemaVersion', 'source and detail-type only under __proto__: not an EventBridge event');
add('constructor-prototype-key', json(base()).replace('"detail": {', '"detail": {\n    "constructor": { "prototype": { "polluted": true } },').replace(/\n {4}"severity": 2,/, ''), 'rejected', '$.detail.severity', 'constructor.prototype keys and no severity');

// ── Top-level values that are not events ─────────────────────────────────────
add('top-level-null', 'null\n', 'rejected', '$', 'null');
add('top-level-string', '"GuardDuty Finding"\n', 'rejected', '$', 'a string');
add('top-level-number-overflow', '1e400\n', 'rejected', '$', 'a number that overflows to Infinity');
add('top-level-boolean', 'true\n', 'rejected', '$', 'true');

// ── Events the router does not handle: ignored, not rejected ────────────────
add(
  'ignored-malware-scan-garbage-detail',
  json(event((e) => ((e['detail-type'] = 'GuardDuty Malware Protection Object Scan Result'), (e.detail = [null])))),
  'ignored',
  '',
  'another GuardDuty detail-type with a garbage detail',
);
add('ignored-security-hub', json(event((e) => ((e.source = 'aws.securityhub'), (e['detail-type'] = 'Security Hub Findings - Imported')))), 'ignored', '', 'a Security Hub event');
add('ignored-source-case', json(event((e) => (e.source = 'AWS.GuardDuty'))), 'ignored', '', 'source in the wrong case (EventBridge matches exactly)');

// ── Dead letters (dlq export lines) carrying bad payloads ────────────────────
const letter = (stage: string, payload: Json) => ({ reason: 'DeliveryError: HTTP 500 rejected', stage, payload, deadLetteredAt: '2026-01-01T00:00:00.000Z' });
rejected('letter-payload-string', letter('deliver', '{"target":"hook"'), '$.payload', 'a delivery letter whose job was unreadable text');
rejected('letter-in-a-letter', letter('deliver', letter('deliver', base())), '$.payload.schemaVersion', 'a letter inside a letter (unwrapped once only)');
rejected(
  'letter-job-bad-severity',
  letter('deliver', { target: 'hook', routes: ['high'], idempotencyKey: 'k', enriched: { finding: event((e) => (e.detail.severity = 'high')).detail, enrichment: {} } }),
  '$.payload.enriched.finding.severity',
  'a delivery job whose finding has severity "high"',
);
rejected(
  'letter-enriched-event-bad-account',
  letter('route', event((e) => ((e.source = 'findings-router'), (e['detail-type'] = 'GuardDuty Finding Enriched'), (e.detail = { finding: { ...e.detail, accountId: 'x' }, enrichment: {} })))),
  '$.payload.detail.finding.accountId',
  'an enriched event whose finding has a bad accountId',
);
rejected('letter-unknown-stage', { ...letter('later', base()), stage: 'later' }, '$.schemaVersion', "stage 'later' is not a letter: judged as an event");

const build = (): MalformedCase[] =>
  cases.map((c) => {
    if (!c.path.includes('[LAST]')) return c;
    const value = JSON.parse(String(c.content));
    const last = value.detail.resource.instanceDetails.tags.length - 1;
    return { ...c, path: c.path.replace('[LAST]', `[${last}]`) };
  });

const expectedTsv = (built: readonly MalformedCase[]): string =>
  `file\toutcome\tpath\twhy\n${built.map((c) => `${c.name}.json\t${c.outcome}\t${c.path}\t${c.why}`).join('\n')}\n`;

const write = (dir = OUT): number => {
  const built = build();
  mkdirSync(dir, { recursive: true });
  for (const file of readdirSync(dir)) if (file.endsWith('.json')) rmSync(join(dir, file));
  for (const c of built) writeFileSync(join(dir, `${c.name}.json`), c.content);
  writeFileSync(join(dir, 'expected.tsv'), expectedTsv(built));
  return built.length;
};

if (import.meta.main) {
  const count = write(process.argv[2] ?? OUT);
  process.stdout.write(`wrote ${count} malformed events and expected.tsv to ${process.argv[2] ?? OUT}\n`);
}

export { build as buildMalformed, expectedTsv, MAX_EVENT_BYTES, DEPTH };
export type { MalformedCase, Outcome };
