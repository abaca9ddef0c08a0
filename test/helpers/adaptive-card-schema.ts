import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json' with { type: 'json' };

const SCHEMA = join(import.meta.dirname, '../events/adaptive-card/adaptive-card-1.4.0.extract.json');

type Definitions = Record<string, unknown>;

/**
 * A validator for the official Adaptive Card 1.4.0 schema (extract in test/events/adaptive-card,
 * PROVENANCE.md there); `extend` may add or change definitions first.
 */
const adaptiveCardValidator = (extend: (definitions: Definitions) => void = () => {}): ValidateFunction => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addMetaSchema(draft06);
  // The two formats the schema uses, as RFC 3986 defines them (absolute URI; URI or relative reference).
  ajv.addFormat('uri', (value: string) => URL.canParse(value));
  ajv.addFormat('uri-reference', (value: string) => URL.canParse(value, 'https://base.invalid/'));
  // Draft-06 names the schema with `id`; Ajv 8 reads only `$id`.
  const { id, ...schema } = JSON.parse(readFileSync(SCHEMA, 'utf8')) as { id: string; definitions: Definitions };
  extend(schema.definitions);
  return ajv.compile({ $id: id, ...schema });
};

export { adaptiveCardValidator };
