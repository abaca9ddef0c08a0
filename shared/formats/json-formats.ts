import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { toOcsf } from './ocsf.ts';

/**
 * The JSON documents a JSON target can send, chosen by its `format` setting:
 * - `raw`: the finding exactly as GuardDuty sent it (EventBridge `detail`, unknown fields kept);
 * - `enriched`: `{ finding, enrichment }`, the project's enriched event (the default);
 * - `ocsf`: an OCSF 1.1.0 Detection Finding (see ocsf.ts).
 */
const JSON_FORMATS = ['raw', 'enriched', 'ocsf'] as const;
type JsonFormat = (typeof JSON_FORMATS)[number];

/** For target config schemas: `format: z.optional(JsonFormatSchema)`. */
const JsonFormatSchema = z.enum(JSON_FORMATS);

const jsonDocument = (enriched: EnrichedFinding, format: JsonFormat = 'enriched'): unknown => {
  switch (format) {
    case 'raw':
      return enriched.finding;
    case 'enriched':
      return enriched;
    case 'ocsf':
      return toOcsf(enriched);
    default:
      throw new Error(`unknown JSON format ${String(format satisfies never)}`);
  }
};

/** The document as compact JSON (no trailing newline). Pure. */
const renderJsonFormat = (enriched: EnrichedFinding, format: JsonFormat = 'enriched'): string =>
  JSON.stringify(jsonDocument(enriched, format));

export { JsonFormatSchema, jsonDocument, renderJsonFormat };
export type { JsonFormat };
