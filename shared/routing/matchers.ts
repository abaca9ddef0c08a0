import { BlockList, isIP } from 'node:net';
import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { ownRecord } from '../config/own-record.ts';
import { compileGlob } from './glob.ts';
import { compileUserRegex } from './user-regex.ts';
import { resourceIdOf } from '../suppressions/resource-id.ts';

/**
 * The matcher table: one entry per key a route's `match:` accepts. Each entry owns its
 * schema (validated once at load time) and compiles its value into a predicate.
 * Adding a matcher is one entry here.
 */
type Predicate = (finding: EnrichedFinding) => boolean;

interface MatcherDefinition<T> {
  schema: z.ZodMiniType<T>;
  description: string;
  example: string;
  compile(value: T): Predicate;
}

const oneOrMany = z.union([z.string(), z.array(z.string()).check(z.minLength(1))]);
const toList = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);

/** Every user pattern is compiled here, once, at config load (see glob.ts and user-regex.ts). */
const anyGlob = (globs: string | string[]): ((text: string | undefined) => boolean) => {
  const compiled = toList(globs).map(compileGlob);
  return (text) => text !== undefined && compiled.some((glob) => glob.test(text));
};

const SeverityLabelSchema = z.enum(['low', 'medium', 'high', 'critical', 'Low', 'Medium', 'High', 'Critical']);
const RangeSchema = z.strictObject({ min: z.optional(z.number()), max: z.optional(z.number()) });
const inRange = (value: number, range: { min?: number | undefined; max?: number | undefined }): boolean =>
  (range.min === undefined || value >= range.min) && (range.max === undefined || value <= range.max);

/**
 * Compiled once per matcher: every wanted tag key must have a value matching one of its globs.
 * Tag keys are data: `constructor` or `__proto__` is a tag like any other, never a property
 * the tags object inherits.
 */
const tagsMatcher = (wanted: Record<string, string | string[]>): ((tags: Record<string, string>) => boolean) => {
  const tests = Object.entries(wanted).map(([key, globs]) => [key, anyGlob(globs)] as const);
  return (tags) => tests.every(([key, test]) => test(Object.hasOwn(tags, key) ? tags[key] : undefined));
};
const TagsSchema = ownRecord(z.string(), oneOrMany);

const define = <T>(definition: MatcherDefinition<T>): MatcherDefinition<T> => definition;

const MATCHERS = {
  severity: define({
    schema: z.union([RangeSchema, z.array(SeverityLabelSchema).check(z.minLength(1))]),
    description: 'Severity range `{min, max}` (inclusive, 0–10) or a list of labels (low, medium, high, critical).',
    example: 'severity: { min: 7 }   # or: severity: [high, critical]',
    compile: (value) => {
      if (Array.isArray(value)) {
        const labels = new Set(value.map((label) => label.toLowerCase()));
        return (f) => labels.has(f.enrichment.severityLabel);
      }
      return (f) => inRange(f.finding.severity, value);
    },
  }),
  type: define({
    schema: oneOrMany,
    description: 'Finding type glob or list of globs.',
    example: 'type: ["Recon:*", "UnauthorizedAccess:IAMUser/*"]',
    compile: (value) => {
      const test = anyGlob(value);
      return (f) => test(f.finding.type);
    },
  }),
  typeRegex: define({
    schema: z.string(),
    description: 'Regular expression (unanchored, RE2 syntax: no backreferences or lookaround) tested against the finding type.',
    example: 'typeRegex: "^(Backdoor|CryptoCurrency):EC2/"',
    compile: (value) => {
      const re = compileUserRegex(value);
      return (f) => re.test(f.finding.type);
    },
  }),
  threatPurpose: define({
    schema: oneOrMany,
    description: 'Globs on the ThreatPurpose part of the type (before the colon).',
    example: 'threatPurpose: [Backdoor, CryptoCurrency]',
    compile: (value) => {
      const test = anyGlob(value);
      return (f) => test(f.enrichment.typeParts.threatPurpose);
    },
  }),
  threatFamily: define({
    schema: oneOrMany,
    description: 'Globs on the ThreatFamilyName part of the type (after the slash).',
    example: 'threatFamily: ["SSHBruteForce", "*Exfiltration*"]',
    compile: (value) => {
      const test = anyGlob(value);
      return (f) => test(f.enrichment.typeParts.threatFamilyName);
    },
  }),
  region: define({
    schema: oneOrMany,
    description: 'Region globs.',
    example: 'region: ["eu-*"]',
    compile: (value) => {
      const test = anyGlob(value);
      return (f) => test(f.finding.region);
    },
  }),
  accountId: define({
    schema: oneOrMany,
    description: 'Member account ids (globs allowed).',
    example: 'accountId: ["111111111111"]',
    compile: (value) => {
      const test = anyGlob(value);
      return (f) => test(f.finding.accountId);
    },
  }),
  account: define({
    schema: z.strictObject({
      id: z.optional(oneOrMany),
      name: z.optional(oneOrMany),
      ou: z.optional(oneOrMany),
      tags: z.optional(TagsSchema),
      known: z.optional(z.boolean()),
    }),
    description: 'The member account from the account registry: `id`, `name` glob, `ou` glob, `tags`, `known`.',
    example: 'account: { ou: "Root/Workloads/Prod*", tags: { env: prod } }',
    compile: (value) => {
      const checks: Predicate[] = [];
      if (value.id !== undefined) { const t = anyGlob(value.id); checks.push((f) => t(f.enrichment.account.id)); }
      if (value.name !== undefined) { const t = anyGlob(value.name); checks.push((f) => t(f.enrichment.account.name)); }
      if (value.ou !== undefined) { const t = anyGlob(value.ou); checks.push((f) => t(f.enrichment.account.ou)); }
      if (value.tags !== undefined) { const match = tagsMatcher(value.tags); checks.push((f) => match(f.enrichment.account.tags)); }
      if (value.known !== undefined) { const known = value.known; checks.push((f) => f.enrichment.account.known === known); }
      return (f) => checks.every((check) => check(f));
    },
  }),
  resourceType: define({
    schema: oneOrMany,
    description: 'Resource types (`resource.resourceType`: Instance, AccessKey, S3Bucket, EKSCluster, ...), globs allowed.',
    example: 'resourceType: [AccessKey, S3Bucket]',
    compile: (value) => {
      const test = anyGlob(value);
      return (f) => test(f.enrichment.resourceType);
    },
  }),
  resourceId: define({
    schema: oneOrMany,
    description: 'The affected resource\'s identifier, globs allowed: instance id, `userType/userName` of an access key, bucket, cluster, function, database or volume ARN (what `suppressions export` writes).',
    example: 'resourceId: ["i-0123456789abcdef0"]',
    compile: (value) => {
      const test = anyGlob(value);
      return (f) => test(resourceIdOf(f.finding.resource));
    },
  }),
  resourceTags: define({
    schema: TagsSchema,
    description: 'Tags carried on the affected resource in the finding (instance, bucket, cluster, function, database).',
    example: 'resourceTags: { env: prod }',
    compile: (value) => {
      const match = tagsMatcher(value);
      return (f) => match(f.enrichment.resourceTags);
    },
  }),
  sample: define({
    schema: z.boolean(),
    description: 'Whether the finding is a sample (`service.additionalInfo.sample`).',
    example: 'sample: true',
    compile: (value) => (f) => f.enrichment.sample === value,
  }),
  archived: define({
    schema: z.boolean(),
    description: 'Whether the finding is archived (`service.archived`).',
    example: 'archived: false',
    compile: (value) => (f) => f.enrichment.archived === value,
  }),
  count: define({
    schema: RangeSchema,
    description: 'Occurrence count range (`service.count`).',
    example: 'count: { min: 10 }',
    compile: (value) => (f) => inRange(f.enrichment.count, value),
  }),
  occurrence: define({
    schema: z.enum(['first', 'update']),
    description: 'Whether this is the first sighting of the finding id or a later update (from the finding state).',
    example: 'occurrence: first',
    compile: (value) => (f) => (f.enrichment.occurrence ?? 'first') === value,
  }),
  remoteIp: define({
    schema: z.union([z.string(), z.array(z.string()).check(z.minLength(1))]),
    description: 'CIDR blocks (IPv4 or IPv6) containing the remote IP from the action details.',
    example: 'remoteIp: ["198.51.100.0/24"]',
    compile: (value) => {
      const blocks = toList(value).map(parseCidr);
      return (f) => {
        const ip = f.enrichment.remote?.ip;
        return ip !== undefined && blocks.some((block) => block.check(ip, block.family));
      };
    },
  }),
  country: define({
    schema: oneOrMany,
    description: 'Country of the remote IP: ISO code or name globs.',
    example: 'country: [KP, IR, "Russia*"]',
    compile: (value) => {
      const test = anyGlob(value);
      return (f) => test(f.enrichment.remote?.countryCode) || test(f.enrichment.remote?.countryName);
    },
  }),
  asnOrg: define({
    schema: oneOrMany,
    description: 'ASN organisation of the remote IP (globs).',
    example: 'asnOrg: ["*Hosting*"]',
    compile: (value) => {
      const test = anyGlob(value);
      return (f) => test(f.enrichment.remote?.asnOrg);
    },
  }),
};

/** A CIDR block; throws on a malformed one (reported at load time with its location). */
const parseCidr = (cidr: string): { check: (ip: string, family: 'ipv4' | 'ipv6') => boolean; family: 'ipv4' | 'ipv6' } => {
  const [address = '', bits] = cidr.split('/');
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (isIP(address) === 0) throw new Error(`'${cidr}' is not a CIDR block`);
  const prefix = bits === undefined ? (family === 'ipv4' ? 32 : 128) : Number(bits);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 'ipv4' ? 32 : 128)) throw new Error(`bad prefix length in '${cidr}'`);
  const list = new BlockList();
  list.addSubnet(address, prefix, family);
  return {
    family,
    check: (ip, fam) => {
      const ipFamily = isIP(ip) === 6 ? 'ipv6' : isIP(ip) === 4 ? 'ipv4' : undefined;
      return ipFamily !== undefined && ipFamily === fam && list.check(ip, ipFamily);
    },
  };
};

type MatcherKey = keyof typeof MATCHERS;
const MATCHER_KEYS = Object.keys(MATCHERS) as MatcherKey[];

export { MATCHERS, MATCHER_KEYS, compileGlob };
export type { Predicate };
