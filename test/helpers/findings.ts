import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as z from 'zod/mini';
import type { AccountInfo, EnrichedFinding } from '../../schemas/enriched.ts';
import { GuardDutyFindingSchema, type GuardDutyFinding } from '../../schemas/finding.ts';
import { findingView } from '../../schemas/finding-view.ts';
import { staticAccountDirectory } from '../../shared/accounts/directory.ts';
import { enrichFinding } from '../../shared/enrich.ts';
import { validateEvent } from '../../shared/validate.ts';

/**
 * Findings for target tests: fixtures under test/events (never outside the repository),
 * enrichment through the real enrichFinding, and a deliberately hostile finding.
 */
const EVENTS_DIR = fileURLToPath(new URL('../events/', import.meta.url));

/** Parsed JSON of `test/events/<relativePath>`. */
const loadEvent = (relativePath: string): unknown => JSON.parse(readFileSync(`${EVENTS_DIR}${relativePath}`, 'utf8'));

/** The finding inside an event file (EventBridge event, `{ detail }` wrapper or bare detail), validated. */
const loadFinding = (relativePath: string): GuardDutyFinding => {
  const validated = validateEvent(loadEvent(relativePath));
  if (validated.kind !== 'finding') throw new Error(`${relativePath} is not a valid finding: ${JSON.stringify(validated)}`);
  return validated.finding;
};

type AccountEntry = Omit<AccountInfo, 'id' | 'known' | 'tags'> & { tags?: Record<string, string> };

/**
 * The enriched finding exactly as the pipeline builds it: schema parse (unknown keys kept),
 * then enrichFinding over a static directory holding `account` for the finding's account
 * (no `account`: the account is unknown).
 */
const enrichedFrom = async (finding: unknown, account?: AccountEntry): Promise<EnrichedFinding> => {
  const parsed = findingView(z.parse(GuardDutyFindingSchema, finding))!;
  const accounts = new Map<string, AccountInfo>();
  if (account !== undefined) accounts.set(parsed.accountId, { id: parsed.accountId, known: true, ...account, tags: account.tags ?? {} });
  return enrichFinding(parsed, staticAccountDirectory(accounts));
};

/**
 * A deep copy of an enriched finding, as the deliver stage gets it (through JSON): its
 * finding keeps the `null`s GuardDuty sent for SIEM copies (schemas/finding-view.ts),
 * which structuredClone, copying only what readers see, would drop.
 */
const copyEnriched = (enriched: EnrichedFinding): EnrichedFinding => ({
  finding: findingView(JSON.parse(JSON.stringify(enriched.finding)))!,
  enrichment: structuredClone(enriched.enrichment),
});

// ── Hostile input ────────────────────────────────────────────────────────────

/** Each string attacks a renderer: Slack mentions and links, entities, code spans, terminals. */
const HOSTILE = {
  channel: '<!channel>',
  here: '<!here>',
  user: '<@U123>',
  link: '<https://evil.example|Approve>',
  preEscaped: '&lt;b&gt; &amp; &#60;',
  codeBreakout: '``` `x` ```',
  bold: '*bold* _it_ ~strike~',
  crlf: 'line1\r\nline2\rline3\n',
  lineSeparator: 'a\u2028b\u2029c',
  ansi: '\u001b[31mRED\u001b[0m',
  c1: '\u009b2J',
} as const;

/** Every hostile string, in one line (which contains CR, LF and U+2028 itself). */
const HOSTILE_LINE = Object.values(HOSTILE).join(' ');

/** Multi-byte filler: a surrogate pair, an escapable `&` and `<`, a 2-byte and a 3-byte UTF-8 letter. */
const FILLER_UNIT = '😀&<é中';

/** Length of FILLER_UNIT once escaped for Slack (`😀&amp;&lt;é中`): the period of the cut offsets. */
const FILLER_SHIFTS = 13;

/** `prefix`, then filler, cut to exactly `length` UTF-16 units without splitting the last pair. */
const padTo = (prefix: string, length: number): string => {
  let text = prefix;
  while (text.length < length) text += FILLER_UNIT;
  text = text.slice(0, length);
  return /[\uD800-\uDBFF]$/.test(text) ? `${text.slice(0, -1)}x` : text;
};

/**
 * A valid finding whose every free-form string is hostile. The description is exactly
 * 5,000 UTF-16 units of hostile text and multi-byte filler; `shift` moves the filler by
 * one unit, so that shifts 0 to FILLER_SHIFTS - 1 put the truncation point on every offset
 * of the escaped filler (inside the surrogate pair, inside `&amp;` and `&lt;`). The title, resource id, region and tags are hostile too;
 * the resource id is long enough to overflow a Slack field on its own.
 */
const hostileFinding = (options: { shift?: number } = {}): GuardDutyFinding => {
  const shift = '.'.repeat(options.shift ?? 0);
  const id = `hostile-${HOSTILE.here}|${HOSTILE.user}&fId=evil\`x\``;
  const finding = {
    schemaVersion: '2.0',
    accountId: '111122223333',
    region: `eu-west-1 ${HOSTILE.channel}${HOSTILE.crlf}${HOSTILE.ansi}`,
    partition: 'aws',
    id,
    arn: `arn:aws:guardduty:eu-west-1:111122223333:detector/d1/finding/${id}`,
    type: `Backdoor:EC2/${HOSTILE.channel}\`x\`*b*${HOSTILE.ansi}&lt;\r\n\u2028${HOSTILE.user}`.slice(0, 100),
    resource: {
      resourceType: `Instance${HOSTILE.here}`,
      instanceDetails: {
        instanceId: padTo(`i-${HOSTILE_LINE}`, 2_100),
        instanceType: `${HOSTILE.link}${HOSTILE.ansi}`,
        tags: [
          { key: HOSTILE.channel, value: HOSTILE.link },
          { key: `Name${HOSTILE.crlf}`, value: `${HOSTILE.codeBreakout}${HOSTILE.ansi}${HOSTILE.lineSeparator}` },
          { key: 'owner', value: HOSTILE.preEscaped },
        ],
      },
      s3BucketDetails: [{ name: `bucket-${HOSTILE.here}`, tags: [{ key: HOSTILE.user, value: HOSTILE.bold }] }],
    },
    service: { serviceName: 'guardduty', archived: false, count: 3, additionalInfo: { note: HOSTILE_LINE } },
    severity: 8.9,
    createdAt: '2026-11-01T10:00:00.000Z',
    updatedAt: '2026-11-01T10:05:00.000Z',
    title: padTo(`${HOSTILE_LINE} `, 3_500),
    description: padTo(`${shift}${HOSTILE_LINE} `, 5_000),
    futureField: { x: 1 },
  };
  return findingView(z.parse(GuardDutyFindingSchema, finding))!;
};

/** An account-directory entry as hostile as the finding: name and owner overflow a Slack field together. */
const hostileAccount = (): AccountEntry => ({
  name: padTo(`acct ${HOSTILE_LINE}`, 1_500),
  email: `${HOSTILE.link}@evil.example`,
  ou: HOSTILE_LINE,
  tags: { owner: padTo(`owner ${HOSTILE_LINE}`, 1_500), env: HOSTILE.channel },
});

export { loadEvent, loadFinding, enrichedFrom, copyEnriched, hostileFinding, hostileAccount, HOSTILE, HOSTILE_LINE, FILLER_SHIFTS };
