import { isIP } from 'node:net';
import type { FieldMapping } from '../../shared/cli/siem/index-template.ts';

/**
 * Applies an index template's mappings to one document the way the cluster would, and lists
 * every value it would refuse (`mapper_parsing_exception`) or silently not index. Stricter
 * than the cluster on purpose: a number in a keyword field, or a field the template does not
 * map (`dynamic: false` keeps it unsearchable), is a problem too, so drift is caught here.
 */
interface MappingProblem {
  /** JSON path in the document, e.g. `source.geo.location`. */
  path: string;
  message: string;
}

/** Lucene's hard limit for one indexed term. */
const MAX_TERM_BYTES = 32_766;
/** `strict_date_optional_time` as the router writes it (toISOString) or a date alone. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

const describe = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

const isPlainObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

const depthOf = (value: unknown): number => {
  if (Array.isArray(value)) return value.reduce((max: number, item) => Math.max(max, depthOf(item)), 0);
  if (isPlainObject(value)) return 1 + Object.values(value).reduce((max: number, item) => Math.max(max, depthOf(item)), 0);
  return 0;
};

/**
 * A date against its `format` (`a||b` alternatives): the ISO formats take an ISO-8601 string,
 * `epoch_millis` / `epoch_second` a number (or its digits). Other formats are not modelled: reported.
 */
const dateProblem = (format: string, value: unknown): string | undefined => {
  const formats = format.split('||');
  const known = formats.filter((f) => ['strict_date_optional_time', 'date_optional_time', 'epoch_millis', 'epoch_second'].includes(f));
  if (known.length !== formats.length) return `date format ${format} is not modelled by this checker`;
  const iso = formats.some((f) => f.endsWith('date_optional_time'));
  const epoch = formats.some((f) => f.startsWith('epoch_'));
  if (iso && typeof value === 'string' && ISO_DATE.test(value) && !Number.isNaN(Date.parse(value))) return undefined;
  if (epoch && ((typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)))) return undefined;
  return `date (${format}) does not take ${JSON.stringify(value)?.slice(0, 60)}`;
};

/** One leaf value (arrays are unrolled by the caller, as Elasticsearch does). */
const leafProblem = (mapping: Exclude<FieldMapping, { properties: unknown }>, value: unknown): string | undefined => {
  switch (mapping.type) {
    case 'keyword':
      if (typeof value !== 'string') return `keyword expects a string, got ${describe(value)}`;
      if (mapping.ignore_above === undefined && Buffer.byteLength(value) > MAX_TERM_BYTES) return `keyword longer than ${MAX_TERM_BYTES} bytes without ignore_above`;
      return undefined;
    case 'text':
      return typeof value === 'string' ? undefined : `text expects a string, got ${describe(value)}`;
    case 'date':
      return dateProblem(mapping.format, value);
    case 'long':
      return Number.isSafeInteger(value) ? undefined : `long expects an integer, got ${JSON.stringify(value)?.slice(0, 60)}`;
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : `float expects a number, got ${describe(value)}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `boolean expects true or false, got ${describe(value)}`;
    case 'ip':
      return typeof value === 'string' && isIP(value) !== 0 ? undefined : `ip expects an IPv4 or IPv6 address, got ${JSON.stringify(value)?.slice(0, 60)}`;
    case 'geo_point': {
      if (!isPlainObject(value)) return `geo_point expects { lat, lon }, got ${describe(value)}`;
      const { lat, lon, ...rest } = value;
      if (Object.keys(rest).length > 0) return `geo_point has unexpected keys ${Object.keys(rest).join(', ')}`;
      const inRange = (n: unknown, bound: number) => typeof n === 'number' && Number.isFinite(n) && Math.abs(n) <= bound;
      return inRange(lat, 90) && inRange(lon, 180) ? undefined : `geo_point out of range: ${JSON.stringify(value)}`;
    }
    case 'flattened':
      if (!isPlainObject(value)) return `flattened expects an object, got ${describe(value)}`;
      return mapping.depth_limit !== undefined && depthOf(value) > mapping.depth_limit ? `flattened deeper than depth_limit ${mapping.depth_limit}` : undefined;
    case 'flat_object':
      return isPlainObject(value) ? undefined : `flat_object expects an object, got ${describe(value)}`;
    default:
      return `unsupported mapping type ${(mapping as { type?: string }).type}`;
  }
};

const checkValue = (mapping: FieldMapping, value: unknown, path: string, problems: MappingProblem[]): void => {
  if (value === null) return; // null is "no value" for every field type.
  if (Array.isArray(value)) {
    for (const item of value) checkValue(mapping, item, path, problems);
    return;
  }
  if ('properties' in mapping) {
    if (!isPlainObject(value)) {
      problems.push({ path, message: `object expected, got ${describe(value)}` });
      return;
    }
    checkProperties(mapping.properties, value, path, problems);
    return;
  }
  const message = leafProblem(mapping, value);
  if (message !== undefined) problems.push({ path, message });
};

const checkProperties = (properties: Record<string, FieldMapping>, document: Record<string, unknown>, prefix: string, problems: MappingProblem[]): void => {
  for (const [key, value] of Object.entries(document)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const mapping = Object.hasOwn(properties, key) ? properties[key] : undefined;
    if (mapping === undefined) {
      problems.push({ path, message: 'not mapped by the template (dynamic: false keeps it unsearchable)' });
      continue;
    }
    checkValue(mapping, value, path, problems);
  }
};

/** Every problem the template's mappings find in `document`; empty when it conforms. */
const checkDocument = (mappings: { properties: Record<string, FieldMapping> }, document: unknown): MappingProblem[] => {
  const problems: MappingProblem[] = [];
  if (!isPlainObject(document)) return [{ path: '$', message: `a document is an object, got ${describe(document)}` }];
  checkProperties(mappings.properties, document, '', problems);
  return problems;
};

export { checkDocument };
