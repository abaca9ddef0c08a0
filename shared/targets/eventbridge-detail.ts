import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { jsonDocument, type JsonFormat } from '../formats/json-formats.ts';
import { byteLength, fitJson } from './siem-json.ts';

/**
 * The `Detail` of an EventBridge entry, within the PutEvents entry limit.
 *
 * EventBridge counts an entry as Time (14 bytes when given) + the UTF-8 bytes of Source,
 * DetailType, Detail and each Resources string, and the total "must be less than 256KB"
 * ("Calculating Amazon EventBridge PutEvents event entry size"). A larger entry makes the
 * whole call fail, so a finding that does not fit is sent reduced, never dropped, in the
 * first of these forms that fits, each marked `truncated: true` at the top of the detail:
 *
 * 1. the whole document with only long free text cut (strings over 2,048 characters, where
 *    descriptions and command lines live; identifiers, ARNs and types are shorter);
 * 2. the routing projection: the fields rules and playbooks match on (ids, type, severity,
 *    account, region, times, archived/sample, the resource's own identifiers, enrichment),
 *    with every long string cut;
 * 3. the minimal projection: the same without any list or map (tags, resources), a fixed
 *    handful of fields that always fits.
 */

/** "The total entry size must be less than 256KB." */
const MAX_ENTRY_BYTES = 256 * 1024 - 1;
/** What EventBridge counts for a given Time, whatever its text. */
const TIME_BYTES = 14;
/** Strings up to this length survive the first reduction untouched. */
const KEEP_STRINGS_UP_TO = 2048;

interface EntryFrame {
  source: string;
  detailType: string;
  resources: readonly string[];
  hasTime: boolean;
}

/** The entry size as EventBridge computes it. */
const entrySize = (frame: EntryFrame, detail: string): number =>
  (frame.hasTime ? TIME_BYTES : 0) +
  byteLength(frame.source) +
  byteLength(frame.detailType) +
  byteLength(detail) +
  frame.resources.reduce((sum, resource) => sum + byteLength(resource), 0);

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);
const isScalar = (value: unknown): boolean => value === null || ['string', 'number', 'boolean'].includes(typeof value);

/** The scalar members of `source` named in `keys` (or all of them), in `source`'s order. */
const scalars = (source: unknown, keys?: readonly string[]): Json => {
  const out: Json = {};
  if (!isObject(source)) return out;
  for (const [key, value] of Object.entries(source)) if ((keys === undefined || keys.includes(key)) && isScalar(value)) out[key] = value;
  return out;
};

const FINDING_KEYS = ['schemaVersion', 'accountId', 'region', 'partition', 'id', 'arn', 'type', 'severity', 'confidence', 'createdAt', 'updatedAt', 'title'];
const SERVICE_KEYS = ['serviceName', 'detectorId', 'archived', 'count', 'eventFirstSeen', 'eventLastSeen', 'resourceRole', 'featureName'];
const ENRICHMENT_KEYS = ['severityLabel', 'resourceType', 'resourceSummary', 'sample', 'archived', 'count', 'consoleUrl', 'occurrence', 'stale'];
const ACCOUNT_KEYS = ['id', 'known', 'name', 'ou'];
const OCSF_FINDING_INFO_KEYS = ['uid', 'title', 'created_time', 'modified_time', 'first_seen_time', 'last_seen_time', 'src_url'];

/** The resource's identifiers: each `*Details` object's own scalars (lists of them only when `withLists`). */
const resourceIdentifiers = (resource: unknown, withLists: boolean): Json => {
  const out: Json = scalars(resource, ['resourceType']);
  if (!withLists || !isObject(resource)) return out;
  for (const [key, value] of Object.entries(resource)) {
    if (isObject(value)) out[key] = scalars(value);
    else if (Array.isArray(value)) out[key] = value.map((item) => scalars(item));
  }
  return out;
};

const findingProjection = (finding: Json, withLists: boolean): Json => {
  const service = isObject(finding.service) ? finding.service : {};
  const sample = isObject(service.additionalInfo) && typeof service.additionalInfo.sample === 'boolean' ? service.additionalInfo.sample : undefined;
  return {
    ...scalars(finding, withLists ? [...FINDING_KEYS, 'description', 'associatedAttackSequenceArn'] : FINDING_KEYS),
    resource: resourceIdentifiers(finding.resource, withLists),
    service: {
      ...scalars(service, SERVICE_KEYS),
      ...(isObject(service.action) ? { action: scalars(service.action, ['actionType']) } : {}),
      ...(sample === undefined ? {} : { additionalInfo: { sample } }),
    },
  };
};

const enrichmentProjection = (enrichment: Json, withLists: boolean): Json =>
  withLists ? enrichment : { ...scalars(enrichment, ENRICHMENT_KEYS), account: scalars(enrichment.account, ACCOUNT_KEYS) };

const ocsfProjection = (document: Json, withLists: boolean): Json => {
  if (withLists) return document;
  const findingInfo = isObject(document.finding_info) ? document.finding_info : {};
  return {
    ...scalars(document),
    finding_info: { ...scalars(findingInfo, OCSF_FINDING_INFO_KEYS), types: Array.isArray(findingInfo.types) ? findingInfo.types.slice(0, 1) : [] },
    cloud: document.cloud,
    unmapped: scalars(document.unmapped),
  };
};

/** The fields of `document` (the JSON of `format`) that stay when it does not fit (see the forms above). */
const routingProjection = (document: Json, format: JsonFormat, withLists: boolean): Json => {
  switch (format) {
    case 'raw':
      return findingProjection(document, withLists);
    case 'enriched':
      return {
        finding: findingProjection(isObject(document.finding) ? document.finding : {}, withLists),
        enrichment: enrichmentProjection(isObject(document.enrichment) ? document.enrichment : {}, withLists),
      };
    case 'ocsf':
      return ocsfProjection(document, withLists);
    default:
      throw new Error(`unknown JSON format ${String(format satisfies never)}`);
  }
};

const marked = (value: Json): Json => ({ ...value, truncated: true });

/**
 * The detail JSON for `enriched` in `format`, reduced (and marked) when the entry around it
 * would reach the limit. Pure: the same finding and frame always give the same text.
 */
const buildDetail = (enriched: EnrichedFinding, format: JsonFormat, frame: EntryFrame): { detail: string; truncated: boolean } => {
  const document = jsonDocument(enriched, format);
  const full = JSON.stringify(document);
  const budget = MAX_ENTRY_BYTES - entrySize(frame, '');
  if (byteLength(full) <= budget) return { detail: full, truncated: false };
  // Reduced from the JSON text, not the objects: a finding's `null`s live only in its toJSON.
  const plain = JSON.parse(full) as Json;
  const attempts = [
    () => fitJson(marked(plain), budget, KEEP_STRINGS_UP_TO),
    () => fitJson(marked(routingProjection(plain, format, true)), budget),
    () => fitJson(marked(routingProjection(plain, format, false)), budget),
  ];
  for (const attempt of attempts) {
    const fitted = attempt();
    if (fitted !== undefined) return { detail: JSON.stringify(fitted.value), truncated: true };
  }
  // A dozen scalars cut to 64 characters each cannot exceed the budget left by a valid frame.
  throw new RangeError(`finding ${enriched.finding.id}: even the minimal detail exceeds ${budget} bytes`);
};

export { buildDetail, entrySize, MAX_ENTRY_BYTES, KEEP_STRINGS_UP_TO };
