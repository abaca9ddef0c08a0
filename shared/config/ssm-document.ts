import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.ts';

/**
 * The routes document `config publish` stores in SSM Parameter Store: JSON with the YAML
 * exactly as written (so line:column errors and the hash refer to the operator's file) and
 * its sha256, the same hash `osls package` prints for the bundled file:
 *
 *   {"format":"findings-router-routes/1","sha256":"…","publishedAt":"…","source":"routes.prod.yml","yaml":"…"}
 *
 * JSON rather than YAML with a hash comment: a hand edit in the console cannot drop the hash
 * without breaking the document, and the route stage reads it without a YAML parser until it
 * has to compile the routes.
 */
const DOCUMENT_FORMAT = 'findings-router-routes/1';
/** SSM value limits: standard parameters hold 4 KB, advanced ones 8 KB. */
const STANDARD_TIER_BYTES = 4096;
const ADVANCED_TIER_BYTES = 8192;

interface RoutesDocument {
  sha256: string;
  publishedAt: string;
  /** The file it was published from, as given to `config publish`. */
  source: string;
  yaml: string;
}

const routesSha256 = (yaml: string | Uint8Array): string => createHash('sha256').update(yaml).digest('hex');

const encodeRoutesDocument = (document: RoutesDocument): string =>
  JSON.stringify({ format: DOCUMENT_FORMAT, sha256: document.sha256, publishedAt: document.publishedAt, source: document.source, yaml: document.yaml });

/** 'Advanced' above 4 KB; otherwise SSM decides (standard, or advanced if the parameter already is: SSM never downgrades). */
const tierFor = (value: string): { tier: 'Advanced' | 'Intelligent-Tiering'; bytes: number } | { tooLarge: true; bytes: number } => {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > ADVANCED_TIER_BYTES) return { tooLarge: true, bytes };
  return { tier: bytes > STANDARD_TIER_BYTES ? 'Advanced' : 'Intelligent-Tiering', bytes };
};

/**
 * The stored document, checked for shape and for a hash that matches its YAML: a document
 * edited by hand (or written by anything but `config publish`) is refused, so the hash in
 * the logs and in `config status` is always the hash of what runs. `where` names it in
 * errors (e.g. `ssm:/findings-router/prod/routes`).
 */
const decodeRoutesDocument = (value: string, where: string): RoutesDocument => {
  const refuse = (message: string): never => {
    throw new ConfigError([{ file: where, line: 1, column: 1, message }]);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return refuse(`not a routes document written by config publish (not JSON; expected {"format":"${DOCUMENT_FORMAT}",…})`);
  }
  const doc = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  if (doc.format !== DOCUMENT_FORMAT) return refuse(`not a routes document written by config publish (format is not "${DOCUMENT_FORMAT}")`);
  for (const key of ['sha256', 'publishedAt', 'source', 'yaml'] as const) {
    if (typeof doc[key] !== 'string') return refuse(`routes document: ${key} must be a string`);
  }
  const document = doc as unknown as RoutesDocument;
  const actual = routesSha256(document.yaml);
  if (actual !== document.sha256) {
    return refuse(`routes document: its yaml has sha256 ${actual.slice(0, 12)}…, not the published ${document.sha256.slice(0, 12)}… (edited outside config publish?)`);
  }
  return document;
};

export { ADVANCED_TIER_BYTES, decodeRoutesDocument, encodeRoutesDocument, routesSha256, tierFor };
export type { RoutesDocument };
