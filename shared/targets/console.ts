import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import type { Digest } from '../delivery/digest.ts';
import { actorFacts, actorSummary } from '../actor-summary.ts';
import { formatSeverity } from '../severity.ts';
import { stripControl } from '../text.ts';
import { defineTarget } from './define.ts';
import type { SendJob, TargetDefinition, TargetSpec } from './types.ts';

/** A chat-style rendering on stdout (stderr under `replay --json`), for local runs. */
const ConsoleConfigSchema = z.strictObject({ type: z.literal('console') });
type ConsoleConfig = z.infer<typeof ConsoleConfigSchema>;

const renderConsole = (enriched: EnrichedFinding): string => {
  const { finding, enrichment: e } = enriched;
  const clean = (text: string | undefined) => stripControl(text ?? '').replace(/\s+/g, ' ').trim();
  const account = e.account.name ? `${clean(e.account.name)} (${finding.accountId})` : `${finding.accountId} (unknown account)`;
  const owner = e.account.tags.owner ? ` · owner ${clean(e.account.tags.owner)}` : '';
  const lines = [
    `${e.sample ? '[SAMPLE] ' : ''}[${formatSeverity(finding.severity).toUpperCase()}] ${clean(finding.type)}`,
    `  ${clean(finding.title)}`,
    `  account ${account}${owner} · ${clean(finding.region)}`,
    `  resource ${clean(e.resourceSummary)} · count ${e.count}`,
    ...actorFacts(actorSummary(finding)).map(({ label, value }) => `  ${label.toLowerCase()} ${clean(value)}`),
    `  ${e.consoleUrl}`,
  ];
  return `${lines.join('\n')}\n`;
};

const renderConsoleDigest = (digest: Digest): string => {
  const clean = (text: string) => stripControl(text).replace(/\s+/g, ' ').trim();
  const list = (rows: [string, number][]) => rows.map(([name, n]) => `${clean(name)} (${n})`).join(', ');
  return [
    `[DIGEST ${formatSeverity(digest.worstScore).toUpperCase()}] ${digest.count} similar findings · route ${clean(digest.route)}`,
    `  types ${list(digest.types)}`,
    `  accounts ${list(digest.accounts)}`,
    `  top resources ${list(digest.topResources)}`,
    `  window ${digest.firstSeen} – ${digest.lastSeen}`,
    '',
  ].join('\n');
};

const consoleSpec: TargetSpec<ConsoleConfig> = {
  type: 'console',
  category: 'local',
  updates: 'every-update',
  digest: true,
  local: true,
  configSchema: ConsoleConfigSchema,
};

const consoleTarget: TargetDefinition<ConsoleConfig> = /* @__PURE__ */ defineTarget(consoleSpec, {
  example: { type: 'console' },
  summary: 'Readable chat-style rendering on standard output, for local runs.',
  create: (name, _config, context) => ({
    name,
    render: (enriched) => ({ body: renderConsole(enriched), contentType: 'text/plain; charset=utf-8', extension: 'txt' }),
    renderDigest: (digest) => ({ body: renderConsoleDigest(digest), contentType: 'text/plain; charset=utf-8', extension: 'txt' }),
    send: async ({ payload }: SendJob) => {
      context.stdout.write(payload.body);
    },
  }),
});

export { consoleTarget, consoleSpec, renderConsole };
