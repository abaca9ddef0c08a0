import * as z from 'zod/mini';
import { DeliveryError } from '../errors.ts';
import { JsonFormatSchema, renderJsonFormat } from '../formats/json-formats.ts';
import { appendToFile } from './file-appender.ts';
import { escapeLineSeparators } from './siem-json.ts';
import { defineTarget } from './define.ts';
import type { TargetDefinition, TargetSpec } from './types.ts';

/** Appends one NDJSON line per finding: the enriched finding, the original untouched inside. */
const FileConfigSchema = z.strictObject({
  type: z.literal('file'),
  path: z.string().check(z.minLength(1)),
  /** raw (GuardDuty detail), enriched (default) or ocsf. */
  format: z.optional(JsonFormatSchema),
});
type FileConfig = z.infer<typeof FileConfigSchema>;

const fileSpec: TargetSpec<FileConfig> = {
  type: 'file',
  category: 'siem',
  updates: 'every-update',
  digest: false,
  local: true,
  configSchema: FileConfigSchema,
};

const fileTarget: TargetDefinition<FileConfig> = /* @__PURE__ */ defineTarget(fileSpec, {
  example: { type: 'file', path: 'out/findings.ndjson' },
  summary: 'Appends one NDJSON line per finding (the enriched finding) to a local file.',
  create: (name, config) => ({
    name,
    render: (enriched) => ({ body: `${escapeLineSeparators(renderJsonFormat(enriched, config.format))}\n`, contentType: 'application/x-ndjson', extension: 'ndjson' }),
    send: async ({ payload }) => {
      try {
        await appendToFile(config.path, payload.body);
      } catch (cause) {
        const code = (cause as { code?: string }).code ?? 'error';
        throw new DeliveryError(name, `cannot append to ${config.path}: ${code}`, { retryable: code !== 'EACCES' && code !== 'EISDIR' }, { cause });
      }
    },
  }),
});

export { fileTarget, fileSpec };
