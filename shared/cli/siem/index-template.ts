/**
 * The index template and lifecycle policy `siem setup` installs for the `elasticsearch`
 * target's ECS documents (shared/targets/elasticsearch.ts), for Elasticsearch and OpenSearch.
 *
 * Every ECS field the router writes is mapped explicitly, and `dynamic: false` keeps any
 * other field in `_source` without indexing it, so nothing is ever mapped by guesswork. The
 * finding as GuardDuty sent it (`aws.guardduty`) is one `flattened` (Elasticsearch) or
 * `flat_object` (OpenSearch) field: every leaf is a keyword, so real findings that mix types
 * in the same field (launchTime as ISO string or epoch ms, createdAt as seconds or string,
 * asn as string or number) never meet a mapping conflict, and stay searchable by path.
 */
type Flavor = 'elasticsearch' | 'opensearch';

type FieldMapping =
  | { type: 'keyword'; ignore_above?: number }
  | { type: 'text' }
  | { type: 'date'; format: string }
  | { type: 'long' | 'float' | 'ip' | 'geo_point' | 'boolean' }
  | { type: 'flattened'; ignore_above?: number; depth_limit?: number }
  | { type: 'flat_object' }
  | { type?: 'object'; properties: Record<string, FieldMapping> };

const TEMPLATE_NAME = 'guardduty-findings';
const POLICY_NAME = 'guardduty-findings';
/** How long an index of findings is kept when `--retention-days` is not given: one year. */
const DEFAULT_RETENTION_DAYS = 365;
/** Lucene refuses a term longer than 32,766 bytes; longer keyword values are kept in _source only. */
const KEYWORD_IGNORE_ABOVE = 1024;
const ISO_DATE = 'strict_date_optional_time';

const keyword = (ignoreAbove = KEYWORD_IGNORE_ABOVE): FieldMapping => ({ type: 'keyword', ignore_above: ignoreAbove });
const date: FieldMapping = { type: 'date', format: ISO_DATE };
const object = (properties: Record<string, FieldMapping>): FieldMapping => ({ properties });

/** The ECS mappings of the router's documents; `aws.guardduty` differs by flavor. */
const ecsMappings = (flavor: Flavor): { dynamic: false; properties: Record<string, FieldMapping> } => ({
  dynamic: false,
  properties: {
    '@timestamp': date,
    message: { type: 'text' },
    tags: keyword(),
    ecs: object({ version: keyword() }),
    event: object({
      kind: keyword(),
      module: keyword(),
      dataset: keyword(),
      category: keyword(),
      type: keyword(),
      action: keyword(),
      id: keyword(),
      severity: { type: 'long' },
      reason: keyword(),
      created: date,
      start: date,
      end: date,
      url: keyword(2048),
    }),
    rule: object({ name: keyword(), category: keyword() }),
    cloud: object({
      provider: keyword(),
      region: keyword(),
      account: object({ id: keyword(), name: keyword() }),
      instance: object({ id: keyword() }),
    }),
    observer: object({ vendor: keyword(), product: keyword(), type: keyword() }),
    source: object({
      ip: { type: 'ip' },
      geo: object({ location: { type: 'geo_point' }, country_iso_code: keyword(), country_name: keyword(), city_name: keyword() }),
      as: object({ number: { type: 'long' }, organization: object({ name: keyword() }) }),
    }),
    related: object({ ip: { type: 'ip' } }),
    labels: object({ severity_label: keyword(), occurrence: keyword(), resource: keyword() }),
    aws: object({
      guardduty:
        flavor === 'elasticsearch' ? { type: 'flattened', ignore_above: KEYWORD_IGNORE_ABOVE, depth_limit: 20 } : { type: 'flat_object' },
    }),
  },
});

/**
 * The index pattern the target's `index` setting writes to: each `{date}` token becomes `*`.
 * A fixed name (no token) is its own pattern.
 */
const indexPatternOf = (index: string): string => index.replace(/\{[^}]*\}/g, '*');

interface TemplateOptions {
  flavor: Flavor;
  indexPattern: string;
  /** Attach the lifecycle policy (only for dated indices: deleting a single fixed index would delete everything). */
  withPolicy: boolean;
}

/** The composable index template body (`PUT _index_template/<name>`), the same API in both flavors. */
const indexTemplate = ({ flavor, indexPattern, withPolicy }: TemplateOptions): Record<string, unknown> => ({
  index_patterns: [indexPattern],
  priority: 200,
  template: {
    settings: flavor === 'elasticsearch' && withPolicy ? { 'index.lifecycle.name': POLICY_NAME } : {},
    mappings: ecsMappings(flavor),
  },
  _meta: { managed_by: 'findings-router', description: 'GuardDuty findings as ECS documents (findings-router elasticsearch target)' },
});

/** Elasticsearch ILM: no rollover (the indices are dated), deleted `retentionDays` after creation. */
const ilmPolicy = (retentionDays: number): Record<string, unknown> => ({
  policy: {
    _meta: { managed_by: 'findings-router' },
    phases: {
      hot: { min_age: '0ms', actions: {} },
      delete: { min_age: `${retentionDays}d`, actions: { delete: {} } },
    },
  },
});

/** OpenSearch ISM: the same lifecycle; `ism_template` attaches it to new indices of the pattern. */
const ismPolicy = (retentionDays: number, indexPattern: string): Record<string, unknown> => ({
  policy: {
    description: `GuardDuty findings (findings-router): delete ${retentionDays} days after index creation`,
    default_state: 'hot',
    states: [
      { name: 'hot', actions: [], transitions: [{ state_name: 'delete', conditions: { min_index_age: `${retentionDays}d` } }] },
      { name: 'delete', actions: [{ delete: {} }], transitions: [] },
    ],
    ism_template: [{ index_patterns: [indexPattern], priority: 100 }],
  },
});

export { TEMPLATE_NAME, POLICY_NAME, DEFAULT_RETENTION_DAYS, ecsMappings, indexTemplate, ilmPolicy, ismPolicy, indexPatternOf };
export type { Flavor, FieldMapping };
