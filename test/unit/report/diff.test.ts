import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACCOUNTS_CONFIG, staticAccountDirectory } from '../../../shared/accounts/directory.ts';
import { routeBoth } from '../../../shared/cli/diff-cmd.ts';
import { BUNDLED } from '../../../shared/cli/paths.ts';
import { loadConfig } from '../../../shared/config/load.ts';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';
import { buildDiff, renderDiffText, type DiffDecision, type DiffEvent, type DiffFinding } from '../../../shared/cli/report/diff.ts';
import { renderDiffHtml } from '../../../shared/cli/report/html.ts';

const CONFIGS = join(import.meta.dirname, '../../events/configs/diff');
const EVENTS = join(import.meta.dirname, '../../events');
/** Fixed, so suppressions with `until` behave the same on every run. */
const NOW = Date.parse('2026-11-01T00:00:00Z');

/** base.yml → `<name>.yml` over the bundled sample corpus, sources relative to test/events. */
const diffAgainstBase = async (name: string) => {
  const accountsFile = BUNDLED.accounts();
  const accounts = staticAccountDirectory(parseConfig(ACCOUNTS_CONFIG, await readFile(accountsFile, 'utf8'), accountsFile));
  const configs = { old: await loadConfig(ROUTES_CONFIG, { file: join(CONFIGS, 'base.yml') }), new: await loadConfig(ROUTES_CONFIG, { file: join(CONFIGS, `${name}.yml`) }) };
  const events = await routeBoth([BUNDLED.samples()], configs, accounts, { cwd: EVENTS, now: NOW });
  const targets = [...configs.new.targets.values(), ...configs.old.targets.values()].map((t) => ({ name: t.name, type: t.type, kind: t.category }));
  return buildDiff({ oldLabel: 'base.yml', newLabel: `${name}.yml`, targets, events });
};

describe('routes diff: golden plans over the sample corpus', () => {
  it.each(['route-added', 'target-removed', 'suppression-added', 'continue-flipped', 'route-removed'])('%s', async (name) => {
    // Act
    const data = await diffAgainstBase(name);
    // Assess
    expect(data.counts.changed).toBeGreaterThan(0);
    await expect(renderDiffText(data)).toMatchFileSnapshot(`../../golden/diff/${name}.txt`);
  });

  it('reports no change for the same file on both sides', async () => {
    // Act
    const data = await diffAgainstBase('base');
    // Assess
    expect(data.counts.changed).toBe(0);
    expect(data.events).toBe(250);
    expect(renderDiffText(data)).toContain('No changes: all 250 findings route the same under both configurations.');
  });

  it('groups a removed target by the route that used to send it', async () => {
    // Act
    const data = await diffAgainstBase('target-removed');
    // Assess
    expect(data.targets.map((t) => [t.target, t.addedCount, t.removedCount])).toEqual([['oncall', 0, 5]]);
    expect(data.targets[0]!.removed.map((g) => g.via)).toEqual(['route critical']);
    expect(data.counts).toMatchObject({ changed: 5, gained: 0, lost: 5, nowSuppressed: 0, nowDefault: 0 });
  });

  it('counts a suppression even when the targets stay the same (audit target)', async () => {
    // Act
    const data = await diffAgainstBase('suppression-added');
    // Assess
    expect(data.nowSuppressed.map((g) => [g.name, g.findings.length])).toEqual([['pentest-vendor-scans', 7]]);
    expect(data.changed.filter((f) => f.added.length === 0 && f.removed.length === 0)).toHaveLength(6);
  });

  it('lists findings that fall to the default route when a route is removed', async () => {
    // Act
    const data = await diffAgainstBase('route-removed');
    // Assess
    expect(data.nowDefault.map((f) => f.type)).toEqual(['CryptoCurrency:Runtime/BitcoinTool.B!DNS', 'CryptoCurrency:Runtime/BitcoinTool.B']);
    expect(data.nowDefault.every((f) => f.new.routes.join() === 'default' && f.new.targets.join() === 'siem')).toBe(true);
  });
});

describe('routes diff: the pure model', () => {
  const finding = (source: string, extra: Partial<DiffFinding> = {}): DiffFinding => ({
    source,
    findingId: `id-${source}`,
    type: 'Recon:EC2/Portscan',
    severity: 5,
    accountId: '111111111111',
    region: 'us-east-1',
    title: 'title',
    ...extra,
  });
  const decision = (targets: string[], extra: Partial<DiffDecision> = {}): DiffDecision => ({
    outcome: 'routed',
    routes: ['r'],
    targets,
    usedDefault: false,
    via: Object.fromEntries(targets.map((t) => [t, ['r']])),
    ...extra,
  });

  it('ignores findings whose targets, suppression and default-ness do not change, even if the route name does', () => {
    // Prepare
    const events: DiffEvent[] = [
      { kind: 'finding', finding: finding('a'), old: decision(['chat']), new: { ...decision(['chat']), routes: ['renamed'], via: { chat: ['renamed'] } } },
      { kind: 'skipped', source: 'bad.json', outcome: 'rejected', reason: '$.detail.id: missing' },
      { kind: 'skipped', source: 'other.json', outcome: 'ignored', reason: 'not a finding' },
    ];
    // Act
    const data = buildDiff({ oldLabel: 'a.yml', newLabel: 'b.yml', targets: [], events });
    // Assess
    expect(data).toMatchObject({ events: 3, findings: 1, skipped: { rejected: 1, ignored: 1 }, changed: [] });
    expect(renderDiffText(data)).toContain('(rejected 1, ignored 1: the same under both configurations)');
  });

  it('orders target groups as the configuration lists the targets', () => {
    // Prepare
    const events: DiffEvent[] = [{ kind: 'finding', finding: finding('a'), old: decision(['zeta']), new: decision(['alpha']) }];
    // Act
    const data = buildDiff({ oldLabel: 'a', newLabel: 'b', targets: [{ name: 'zeta', type: 'slack', kind: 'chat' }, { name: 'alpha', type: 'console', kind: 'local' }], events });
    // Assess
    expect(data.targets.map((t) => t.target)).toEqual(['zeta', 'alpha']);
  });

  it('escapes finding text on the diff page', () => {
    // Prepare
    const hostile = '<script>window.__pwned=1</script><img src=x onerror="x()">';
    const events: DiffEvent[] = [{ kind: 'finding', finding: finding(`${hostile}.json`, { type: hostile, title: hostile }), old: decision([]), new: decision([hostile]) }];
    // Act
    const html = renderDiffHtml(buildDiff({ oldLabel: hostile, newLabel: 'b', targets: [], events }));
    // Assess
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script>window');
    expect(html).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;img src=x onerror=&quot;x()&quot;&gt;');
  });

  it('names the account beside its id on the page, escaped', () => {
    // Prepare
    const hostile = '<b>payments</b>-prod';
    const events: DiffEvent[] = [{ kind: 'finding', finding: finding('a.json', { accountName: hostile }), old: decision([]), new: decision(['chat']) }];
    // Act
    const html = renderDiffHtml(buildDiff({ oldLabel: 'a', newLabel: 'b', targets: [], events }));
    // Assess
    expect(html).toContain('<span class="acct-name">&lt;b&gt;payments&lt;/b&gt;-prod</span> <span class="muted">(111111111111)</span> · us-east-1');
    expect(html).not.toContain('<b>payments');
  });

  it('shows the routes file change itself as an escaped unified diff', () => {
    // Prepare
    const before = 'routes:\n  - name: a\n    targets: [chat]\n';
    const after = 'routes:\n  - name: a\n    targets: [chat, oncall]\n  - name: "</pre><script>x()</script>"\n';
    // Act
    const data = buildDiff({ oldLabel: 'old.yml', newLabel: 'new.yml', targets: [], events: [], files: { old: before, new: after } });
    const html = renderDiffHtml(data);
    // Assess
    expect(data.routesChange).toMatchObject({ added: 2, removed: 1 });
    expect(html).toContain('<span class="yl-file">--- old.yml</span>');
    expect(html).toContain('<span class="yl-del">-    targets: [chat]</span>');
    expect(html).toContain('<span class="yl-add">+    targets: [chat, oncall]</span>');
    expect(html).toContain('<span class="yl-add">+  - name: &quot;&lt;/pre&gt;&lt;script&gt;x()&lt;/script&gt;&quot;</span>');
    expect(html.match(/<script/g)).toHaveLength(1);
  });
});
