import { describe, expect, it } from 'vitest';
import { targetDocs } from '../../../shared/cli/targets-cmd.ts';
import { TARGET_DEFINITIONS } from '../../../shared/targets/registry.ts';
import { fileTarget } from '../../../shared/targets/file.ts';
import { webhookTarget } from '../../../shared/targets/webhook.ts';
import { createHttpClient } from '../../../shared/targets/http.ts';
import { memoryLedger } from '../../../shared/targets/ledger.ts';
import { localSecretResolver } from '../../../shared/secrets.ts';
import { enrich, makeFinding } from '../../helpers/finding-factory.ts';

const context = { secrets: localSecretResolver(), http: createHttpClient(), stdout: process.stdout, ledger: memoryLedger() };

describe('Command: targets', () => {
  it('documents every registered target type with its required settings', () => {
    // Act
    const docs = targetDocs();
    // Assess
    expect(docs.map((d) => d.type)).toEqual(TARGET_DEFINITIONS.map((d) => d.type));
    const slack = docs.find((d) => d.type === 'slack')!;
    expect(slack.settings.find((s) => s.name === 'webhookUrl')?.required).toBe(true);
    expect(slack.settings.map((s) => s.name)).toEqual(expect.arrayContaining(['rateLimit', 'audit', 'jurisdiction']));
  });
});

describe('Formats: raw, enriched and OCSF for JSON targets', () => {
  it('renders each format from one enriched finding', async () => {
    // Prepare
    const enriched = await enrich(makeFinding({ futureField: { x: 1 } }));
    const render = (format?: 'raw' | 'enriched' | 'ocsf') =>
      JSON.parse(fileTarget.create('f', { type: 'file', path: 'x', ...(format ? { format } : {}) }, context).render(enriched).body);
    // Act / Assess
    expect(render()).toEqual(JSON.parse(JSON.stringify(enriched)));
    expect(render('raw')).toEqual(JSON.parse(JSON.stringify(enriched.finding)));
    expect(render('raw').futureField).toEqual({ x: 1 });
    expect(render('ocsf')).toMatchObject({ class_uid: 2004, finding_info: { uid: enriched.finding.arn } });
    const hook = webhookTarget.create('w', { type: 'webhook', url: 'https://x.example.com', format: 'ocsf' }, context);
    expect(JSON.parse(hook.render(enriched).body).class_uid).toBe(2004);
  });
});
