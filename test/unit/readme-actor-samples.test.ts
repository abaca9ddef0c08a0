import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderConsole } from '../../shared/targets/console.ts';
import { buildSlackMessage } from '../../shared/targets/slack.ts';
import { enrichedFrom, loadFinding } from '../helpers/findings.ts';

/** The README's "What a message shows" samples, one per action type: title, corpus file, console text, Slack text. */
const readmeSamples = (): { title: string; file: string; console: string; slack: string }[] => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('### What a message shows');
  const section = readme.slice(start, readme.indexOf('\n## ', start));
  const pattern = /\*\*([^*]+)\*\* \(`test\/events\/(samples\/[^`]+)`\)\n\n```text\n([\s\S]*?)\n```\n\nSlack[^\n]*\n\n```text\n([\s\S]*?)\n```/g;
  return [...section.matchAll(pattern)].map((m) => ({ title: m[1]!, file: m[2]!, console: m[3]!, slack: m[4]! }));
};

const SAMPLES = readmeSamples();
const ACCOUNT = { name: 'payments-prod', tags: { owner: 'payments' } };

describe('README: What a message shows', () => {
  it('has one sample per action type', () => {
    expect(SAMPLES.map((sample) => sample.title)).toEqual([
      'Network connection',
      'Port probe',
      'DNS request',
      'AWS API call',
      'Kubernetes API call',
      'RDS login',
      'Runtime process and container',
      'Malware scan result',
      'Attack sequence',
    ]);
  });

  it.each(SAMPLES.map((sample) => [sample.title, sample] as const))('%s: the sample is what the console and Slack render', async (_title, sample) => {
    // Prepare
    const enriched = await enrichedFrom(loadFinding(sample.file), ACCOUNT);

    // Act
    const consoleText = renderConsole(enriched).trimEnd();
    const slack = buildSlackMessage(enriched).blocks[3] as { text: { text: string } };

    // Assess
    expect(sample.console).toBe(consoleText);
    expect(sample.slack).toBe(slack.text.text);
  });
});
