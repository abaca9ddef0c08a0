import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { END, runDocs } from '../../scripts/docs.ts';
import type { DocumentedTarget } from '../../scripts/docs/target-reference.ts';
import { TARGET_DEFINITIONS } from '../../shared/targets/registry.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEFINITIONS = TARGET_DEFINITIONS as readonly DocumentedTarget[];

/** A throwaway checkout holding only what the docs command reads and writes. */
const checkout = (): string => {
  const root = mkdtempSync(join(tmpdir(), 'docs-'));
  mkdirSync(join(root, 'docs'));
  mkdirSync(join(root, 'scripts/docs'), { recursive: true });
  for (const file of ['README.md', 'docs/targets.md', 'scripts/docs/target-notes.md', 'routes.schema.json']) cpSync(join(ROOT, file), join(root, file));
  return root;
};

const run = (argv: string[], definitions: readonly DocumentedTarget[] = DEFINITIONS) => {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (lines: string[]) => ({ write: (chunk: string) => lines.push(String(chunk)) }) as unknown as NodeJS.WritableStream;
  const code = runDocs(argv, { stdout: sink(out), stderr: sink(err) }, definitions);
  return { code, stdout: out.join(''), stderr: err.join('') };
};

const slack = DEFINITIONS.find((definition) => definition.type === 'slack')!;

/** Slack as if someone added a setting to its schema and did not regenerate the docs. */
const slackWithNewSetting = (): DocumentedTarget => ({
  ...slack,
  configSchema: z.extend(slack.configSchema as never, { channelHint: z.optional(z.string().check(z.describe('shown | in the table'))) }) as z.ZodMiniType<unknown>,
});

describe('npm run docs', () => {
  it('the committed README block and docs/targets.md are what the target definitions give (run npm run docs after changing a definition)', () => {
    // Act
    const result = run(['--check', '--root', ROOT]);

    // Assess
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('--check fails with one line naming the stale files when a definition changed', () => {
    // Prepare
    const root = checkout();
    const changed = DEFINITIONS.map((definition) => (definition === slack ? slackWithNewSetting() : definition));

    // Act
    const result = run(['--check', '--root', root], changed);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('docs: docs/targets.md is not what the target definitions give: run npm run docs\n');
  });

  it('routes.schema.json is written as `config schema` prints it, and a stale one is named by --check', () => {
    // Prepare
    const root = checkout();
    writeFileSync(join(root, 'routes.schema.json'), '{}\n');

    // Act
    const stale = run(['--check', '--root', root]);
    const written = run(['--root', root]);

    // Assess
    expect(stale).toMatchObject({ code: 1, stderr: 'docs: routes.schema.json is not what the target definitions give: run npm run docs\n' });
    expect(written.code).toBe(0);
    expect(readFileSync(join(root, 'routes.schema.json'), 'utf8')).toBe(readFileSync(join(ROOT, 'routes.schema.json'), 'utf8'));
  });

  it('writes the new setting with its schema description, a table pipe escaped, and leaves the README outside its markers alone', () => {
    // Prepare
    const root = checkout();
    const before = readFileSync(join(root, 'README.md'), 'utf8');
    const changed = DEFINITIONS.map((definition) => (definition === slack ? slackWithNewSetting() : definition));

    // Act
    const result = run(['--root', root], changed);

    // Assess
    expect(result.code).toBe(0);
    const targets = readFileSync(join(root, 'docs/targets.md'), 'utf8');
    expect(targets).toContain('| `channelHint` | no | – | string | shown \\| in the table |');
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toBe(before);
    expect(run(['--check', '--root', root], changed).code).toBe(0);
  });

  it('every registered type has its section, its settings and its example in docs/targets.md', () => {
    // Prepare
    const targets = readFileSync(join(ROOT, 'docs/targets.md'), 'utf8');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

    // Assess
    for (const definition of DEFINITIONS) {
      expect(targets).toContain(`\n## ${definition.type}\n`);
      expect(readme).toContain(`| [\`${definition.type}\`](docs/targets.md#${definition.type}) |`);
      const schema = z.toJSONSchema(definition.configSchema, { io: 'input', unrepresentable: 'any' }) as { properties?: object };
      const section = targets.slice(targets.indexOf(`\n## ${definition.type}\n`)).split('\n## ')[1]!;
      for (const setting of Object.keys(schema.properties ?? {}).filter((name) => name !== 'type')) expect(section).toContain(`| \`${setting}\` |`);
    }
  });

  it('says whether a grouping route sends a target one digest message or its findings one by one (from what the target renders)', () => {
    // Prepare
    const root = checkout();
    const teams = DEFINITIONS.find((definition) => definition.type === 'teams')!;
    const teamsWithDigest: DocumentedTarget = {
      ...teams,
      create: (name, config, context) => ({ ...teams.create!(name, config, context), renderDigest: () => ({ body: '', contentType: 'text/plain', extension: 'txt' }) }),
    };

    // Act
    run(['--root', root], DEFINITIONS.map((definition) => (definition === teams ? teamsWithDigest : definition)));

    // Assess
    const before = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const after = readFileSync(join(root, 'README.md'), 'utf8');
    expect(before).toMatch(/\| \[`teams`\]\(docs\/targets\.md#teams\) \| chat \| per `notify` policy \| one by one \|/);
    expect(after).toMatch(/\| \[`teams`\]\(docs\/targets\.md#teams\) \| chat \| per `notify` policy \| one message \|/);
    expect(before).toMatch(/\| \[`slack`\]\(docs\/targets\.md#slack\) \| chat \| per `notify` policy \| one message \|/);
  });

  it('a note about a setting the schema does not have stops the run at its line', () => {
    // Prepare
    const root = checkout();
    const notes = join(root, 'scripts/docs/target-notes.md');
    const text = readFileSync(notes, 'utf8').replace('## slack\n\n', '## slack\n\n- `webhookURL`: a typo\n');
    writeFileSync(notes, text);
    const line = text.split('\n').indexOf('- `webhookURL`: a typo') + 1;

    // Act
    const result = run(['--root', root]);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^docs: scripts/docs/target-notes.md:${line}: target 'slack' has no setting 'webhookURL' \\(it has [^\\n]+\\)\\n$`));
  });

  it('a note for a type nobody registered, and an example its own schema refuses, are errors', () => {
    // Prepare
    const root = checkout();
    const notes = join(root, 'scripts/docs/target-notes.md');
    writeFileSync(notes, `${readFileSync(notes, 'utf8')}\n## hipchat\n\nGone.\n`);
    const broken = DEFINITIONS.map((definition) => (definition === slack ? { ...slack, example: { type: 'slack' } } : definition));

    // Act
    const unknownType = run(['--root', root]);
    writeFileSync(notes, readFileSync(join(ROOT, 'scripts/docs/target-notes.md'), 'utf8'));
    const badExample = run(['--root', root], broken);

    // Assess
    expect(unknownType.stderr).toMatch(/^docs: scripts\/docs\/target-notes\.md:\d+: no target type 'hipchat' in shared\/targets\/registry\.ts\n$/);
    expect(badExample.code).toBe(1);
    expect(badExample.stderr).toMatch(/^docs: target 'slack': its example does not pass its own schema \([^\n]+\)\n$/);
  });

  it('a README without its markers is one line, and nothing is written', () => {
    // Prepare
    const root = checkout();
    const readme = join(root, 'README.md');
    writeFileSync(readme, readFileSync(readme, 'utf8').replace(END, ''));
    const targetsBefore = readFileSync(join(root, 'docs/targets.md'), 'utf8');

    // Act
    const result = run(['--root', root]);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^docs: README\.md: expected the markers '[^']+' and '[^']+' once each, in that order\n$/);
    expect(readFileSync(join(root, 'docs/targets.md'), 'utf8')).toBe(targetsBefore);
  });
});
