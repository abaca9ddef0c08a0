import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutSystemPackages } from '../helpers/system-packages.ts';

/**
 * Opens the generated pages in a real headless browser (Debian's chromium, driven by
 * playwright-core; no browser download). Skipped only on a machine without chromium and
 * outside CI: in CI (`.ci/run` installs chromium) it always runs.
 */
const CHROMIUM = '/usr/bin/chromium';
const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/findings-router.mjs');
const SAMPLES = join(ROOT, 'test/events/samples');
const CONFIGS = join(ROOT, 'test/events/configs/diff');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const SCRIPT_TEXT = '<script>window.__pwned=1</script>';
const IMG_TEXT = '<img src=x onerror="window.__pwned=2">';
const SKIP = skipWithoutSystemPackages('replay --report in a headless browser', 'chromium');

/** The little of the DOM used here (the project's tsconfig has no DOM lib). */
type DomElement = { getAttribute(name: string): string | null; querySelectorAll(selector: string): Iterable<DomElement>; textContent: string | null };
type JsonRecord = { source: string; type: string | null; severity: number | null; outcome: string; targets: string[]; deliveries?: Record<string, string> };

const run = (args: string[], cwd: string, timeout = 120_000) => {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout, maxBuffer: 512 * 1024 * 1024 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

const launch = () =>
  chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });

/** Opens `file` and records every request; anything but the file itself is aborted and remembered. */
const openOffline = async (browser: Browser, file: string) => {
  const url = pathToFileURL(file).href;
  const context = await browser.newContext({ viewport: { width: 1360, height: 1000 } });
  const foreign: string[] = [];
  const requested: string[] = [];
  await context.route('**/*', (route) => {
    if (route.request().url() === url) return route.continue();
    foreign.push(route.request().url());
    return route.abort();
  });
  const page = await context.newPage();
  page.on('request', (request) => requested.push(request.url()));
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);
  return { page, url, foreign, requested, errors };
};

const visibleFindings = (page: Page) => page.locator('details.finding:visible');

/** The one-line JSON records on stdout (anything else on it, such as a summary line, is left out). */
const recordsOf = (stdout: string): JsonRecord[] =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as JsonRecord & { outcome?: unknown })
    .filter((r) => typeof r.outcome === 'string' && 'targets' in r);

/** Per target and delivery status, the count the page shows and the count the --json records give. */
const deliveryCounts = async (page: Page, records: readonly JsonRecord[]) => {
  const expected: Record<string, Record<string, number>> = {};
  for (const r of records) {
    for (const [target, status] of Object.entries(r.deliveries ?? {})) {
      expected[target] ??= { sent: 0, rendered: 0, failed: 0, held: 0, duplicate: 0 };
      expected[target]![status] = (expected[target]![status] ?? 0) + 1;
    }
  }
  const shown = await page.$$eval('#deliveries tbody tr', (rows) =>
    Object.fromEntries(
      (rows as unknown as DomElement[]).map((row) => [
        row.getAttribute('data-delivery'),
        Object.fromEntries([...row.querySelectorAll('td[data-status]')].map((cell) => [cell.getAttribute('data-status'), Number(cell.textContent)])),
      ]),
    ),
  );
  return { shown, expected };
};

/** The page's group of a record: type, severity band, outcome, routes, targets. */
const groupKey = (r: JsonRecord & { routes?: string[] }) =>
  JSON.stringify([r.type, r.severity === null ? null : r.severity >= 9 ? 'critical' : r.severity >= 7 ? 'high' : r.severity >= 4 ? 'medium' : 'low', r.outcome, r.routes, r.targets]);

/** How many findings the page details, by the rule it states: the first half of the budget in input order, then the first of each new group. */
const detailedCount = (records: readonly JsonRecord[], budget: number) => {
  const seen = new Set<string>();
  let kept = 0;
  for (const r of records) {
    const key = r.type === null ? r.outcome : groupKey(r);
    const isNew = !seen.has(key);
    seen.add(key);
    if (kept < budget && (kept < budget / 2 || isNew)) kept++;
  }
  return kept;
};

/** Where `selector`'s top edge is, and where the sticky filter bar ends, in the viewport. */
const topAndBar = (page: Page, selector: string) =>
  page.evaluate((sel) => {
    const doc = (globalThis as unknown as { document: { querySelector(s: string): { getBoundingClientRect(): { top: number; bottom: number } } | null } }).document;
    return { top: doc.querySelector(sel)!.getBoundingClientRect().top, barBottom: doc.querySelector('#filters')!.getBoundingClientRect().bottom };
  }, selector);

describe.skipIf(SKIP)('replay --report in a headless browser', () => {
  let browser: Browser;
  let cwd: string;
  let records: JsonRecord[];
  let report: string;

  beforeAll(async () => {
    // Prepare: the bundled corpus plus one finding whose title carries markup.
    cwd = mkdtempSync(join(tmpdir(), 'report-'));
    const event = JSON.parse(readFileSync(join(ROOT, 'test/events/published/ssh-bruteforce.sample.eventbridge.json'), 'utf8'));
    event.detail.id = 'hostile-title-finding';
    event.detail.severity = 9.5;
    event.detail.title = `Hostile ${SCRIPT_TEXT} and ${IMG_TEXT} end`;
    writeFileSync(join(cwd, 'hostile.json'), JSON.stringify(event));
    report = join(cwd, 'report.html');
    // Act
    const { code, stdout, stderr } = run(['replay', SAMPLES, 'hostile.json', '--json', '--report', report], cwd);
    expect(code, stderr).toBe(0);
    records = recordsOf(stdout);
    browser = await launch();
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('shows the same summary numbers and matrices as the JSON output, and asks nothing from the network', async () => {
    // Act
    const { page, url, foreign, requested, errors } = await openOffline(browser, report);
    // Assess: summary
    expect(records).toHaveLength(251);
    const count = (key: string) => page.locator(`[data-count="${key}"] .n`).textContent();
    expect(await count('total')).toBe('251');
    for (const outcome of ['routed', 'suppressed', 'rejected', 'ignored', 'failed']) {
      expect(await count(outcome), outcome).toBe(String(records.filter((r) => r.outcome === outcome).length));
    }
    // Assess: severity × target (routed and failed findings, as the terminal summary)
    const bands: [string, (s: number) => boolean][] = [['critical', (s) => s >= 9], ['high', (s) => s >= 7 && s < 9], ['medium', (s) => s >= 4 && s < 7], ['low', (s) => s < 4]];
    const targets = await page.locator('#severity-targets thead th.bar-cell').allTextContents();
    expect(targets.sort()).toEqual(['chat', 'oncall', 'siem', 'soc-slack']);
    for (const [band, inBand] of bands) {
      for (const target of targets) {
        const expected = records.filter((r) => r.severity !== null && inBand(r.severity) && (r.outcome === 'routed' || r.outcome === 'failed') && r.targets.includes(target)).length;
        const shown = await page.locator(`#severity-targets tr[data-severity="${band}"] td[data-target="${target}"] .count`).textContent();
        expect(shown, `${band} × ${target}`).toBe(String(expected));
      }
    }
    // Assess: coverage matrix by finding type
    const matrix = await page.$$eval('#matrix-type tbody tr', (elements) =>
      Object.fromEntries(
        (elements as unknown as DomElement[]).map((row) => [
          row.getAttribute('data-key'),
          Object.fromEntries([...row.querySelectorAll('td[data-target]')].map((cell) => [cell.getAttribute('data-target'), Number(cell.textContent?.replace(/[^0-9]/g, '') || 0)])),
        ]),
      ),
    );
    const expectedMatrix: Record<string, Record<string, number>> = {};
    for (const r of records) {
      if (r.type === null || !['routed', 'suppressed', 'failed'].includes(r.outcome)) continue;
      expectedMatrix[r.type] ??= Object.fromEntries(targets.map((t) => [t, 0]));
      for (const t of r.targets) expectedMatrix[r.type]![t]!++;
    }
    expect(matrix).toEqual(expectedMatrix);
    const deliveries = await deliveryCounts(page, records);
    expect(deliveries.shown).toEqual(deliveries.expected);
    const defaultOnly = await page.locator('#matrix-type tr.flag-default').count();
    expect(defaultOnly).toBe(Number(await count('default-only')));
    expect(defaultOnly).toBeGreaterThan(0);
    // Assess: nothing but the file was requested, and the page script ran without errors
    expect(foreign).toEqual([]);
    expect(requested).toEqual([url]);
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'report.png') });
    await page.context().close();
  }, 60_000);

  it('narrows the rows as one types in the filter box, and by severity', async () => {
    // Prepare
    const { page } = await openOffline(browser, report);
    await expect.poll(() => page.locator('#shown').textContent(), { timeout: 20_000 }).toBe('251 of 251 findings shown');
    // Act
    await page.locator('input[name="q"]').fill('backdoor:ec2');
    // Assess
    const backdoor = records.filter((r) => r.type?.toLowerCase().startsWith('backdoor:ec2')).length;
    expect(backdoor).toBeGreaterThan(0);
    await expect.poll(() => visibleFindings(page).count(), { timeout: 20_000 }).toBe(backdoor);
    expect(await page.locator('#shown').textContent()).toBe(`${backdoor} of 251 findings shown`);
    expect(await page.locator('#matrix-type tbody tr:visible').count()).toBe(new Set(records.filter((r) => r.type?.toLowerCase().startsWith('backdoor:ec2')).map((r) => r.type)).size);
    // Act
    await page.locator('input[name="q"]').fill('');
    await page.locator('select[name="severity"]').selectOption('critical');
    // Assess
    await expect.poll(() => visibleFindings(page).count(), { timeout: 20_000 }).toBe(records.filter((r) => (r.severity ?? 0) >= 9).length);
    await page.context().close();
  }, 60_000);

  it('shows injected markup as text and never runs it', async () => {
    // Prepare
    const { page, foreign, errors } = await openOffline(browser, report);
    const row = page.locator('details.finding', { hasText: 'window.__pwned=1' });
    // Act
    await row.locator('> summary').click();
    // Assess
    expect(await row.count()).toBe(1);
    expect(await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(await row.locator('.t-title').textContent()).toBe(`Hostile ${SCRIPT_TEXT} and ${IMG_TEXT} end`);
    await expect.poll(() => row.locator('.slack').isVisible(), { timeout: 20_000 }).toBe(true);
    expect(await row.locator('.slack').textContent()).toContain(`${SCRIPT_TEXT} and ${IMG_TEXT}`);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(1);
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
    await row.locator('.slack').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'report-finding.png') });
    await page.context().close();
  }, 60_000);

  it('shows every severity badge whole ("Medium 5.5" included), never cut by its column', async () => {
    // Prepare
    const { page } = await openOffline(browser, report);
    // Act
    const clipped = await page.$$eval('details.finding > summary > .sev', (badges) =>
      (badges as unknown as { textContent: string; scrollWidth: number; clientWidth: number; getBoundingClientRect(): { right: number }; nextElementSibling: { getBoundingClientRect(): { left: number } } }[])
        .filter((b) => b.scrollWidth > b.clientWidth || b.getBoundingClientRect().right > b.nextElementSibling.getBoundingClientRect().left)
        .map((b) => b.textContent),
    );
    // Assess
    expect(await page.locator('details.finding > summary > .sev', { hasText: 'Medium 5.5' }).count()).toBeGreaterThan(0);
    expect(clipped).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('opens a finding below the sticky filter bar, never under it', async () => {
    // Prepare: scroll so that the finding's summary is half under the bar
    const { page } = await openOffline(browser, report);
    const anchor = (await page.locator('details.finding').nth(40).getAttribute('id'))!;
    await page.locator(`#${anchor}`).scrollIntoViewIfNeeded();
    const before = await topAndBar(page, `#${anchor}`);
    await page.mouse.wheel(0, before.top - before.barBottom + 14);
    await expect.poll(async () => { const at = await topAndBar(page, `#${anchor}`); return at.top < at.barBottom && at.top > at.barBottom - 30; }, { timeout: 20_000 }).toBe(true);
    // Act: click the part of the summary below the bar
    const box = (await page.locator(`#${anchor} > summary`).boundingBox())!;
    await page.mouse.click(box.x + 300, box.y + box.height - 4);
    // Assess
    expect(await page.locator(`#${anchor}`).getAttribute('open')).not.toBeNull();
    await expect.poll(async () => { const at = await topAndBar(page, `#${anchor}`); return at.top >= at.barBottom; }, { timeout: 20_000 }).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'report-opened-below-bar.png') });
    await page.context().close();
  }, 60_000);
});

describe.skipIf(SKIP)('replay --report over 100,000 findings in a headless browser', () => {
  const FINDINGS = 100_000;
  const SIZE_BOUND = 5 * 1024 * 1024;
  let browser: Browser;
  let cwd: string;
  let report: string;
  let records: JsonRecord[];

  beforeAll(async () => {
    // Prepare: the sample corpus cloned with new finding ids, one event per line (~250 MB, removed afterwards)
    cwd = mkdtempSync(join(tmpdir(), 'report-scale-'));
    const samples = readdirSync(SAMPLES)
      .filter((name) => name.endsWith('.json'))
      .map((name) => JSON.parse(readFileSync(join(SAMPLES, name), 'utf8')) as { detail: { id: string } });
    const out = createWriteStream(join(cwd, 'scale.jsonl'));
    for (let i = 0; i < FINDINGS; i++) {
      const event = samples[i % samples.length]!;
      event.detail.id = `scale-${String(i).padStart(6, '0')}`;
      if (!out.write(`${JSON.stringify(event)}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    await new Promise<void>((resolve) => out.end(() => resolve()));
    report = join(cwd, 'report.html');
    // Act: through the CLI, rendering every delivery (the bundled routes: Slack, webhook, file, console), sending nothing
    const { code, stdout, stderr } = run(['replay', 'scale.jsonl', '--dry-run', '--json', '--report', report], cwd, 900_000);
    expect(code, stderr.slice(-2000)).toBe(0);
    records = recordsOf(stdout);
    browser = await launch();
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 900_000);

  afterAll(async () => {
    await browser?.close();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  it(`stays under ${SIZE_BOUND / 1024 / 1024} MB, counts every finding as --json does, and becomes usable (load time recorded, not asserted)`, async () => {
    // Assess: size
    expect(records).toHaveLength(FINDINGS);
    const bytes = statSync(report).size;
    expect(bytes).toBeLessThan(SIZE_BOUND);
    // Act: open it and wait until the filter script has run
    const started = performance.now();
    const { page, foreign, errors } = await openOffline(browser, report);
    await expect.poll(() => page.locator('#shown').textContent(), { timeout: 120_000 }).toMatch(/^\d+ of \d+ detailed findings shown$/);
    const interactiveMs = Math.round(performance.now() - started);
    const navigation = await page.evaluate(() => {
      const [entry] = (globalThis as unknown as { performance: { getEntriesByType(t: string): { domContentLoadedEventEnd: number; loadEventEnd: number }[] } }).performance.getEntriesByType('navigation');
      return { domContentLoadedMs: Math.round(entry!.domContentLoadedEventEnd), loadMs: Math.round(entry!.loadEventEnd) };
    });
    const measured = { findings: FINDINGS, bytes, megabytes: Math.round((bytes / 1024 / 1024) * 100) / 100, ...navigation, interactiveMs };
    writeFileSync(join(ARTIFACTS, 'report-scale.json'), `${JSON.stringify(measured, null, 2)}\n`);
    console.log(`report for ${FINDINGS} findings: ${measured.megabytes} MB, DOMContentLoaded ${navigation.domContentLoadedMs} ms, load ${navigation.loadMs} ms, filter ready ${interactiveMs} ms`);
    // Assess: the summary covers every finding, as --json
    const count = (key: string) => page.locator(`[data-count="${key}"] .n`).textContent();
    expect(await count('total')).toBe(String(FINDINGS));
    for (const outcome of ['routed', 'suppressed', 'rejected', 'ignored', 'failed']) {
      expect(await count(outcome), outcome).toBe(String(records.filter((r) => r.outcome === outcome).length));
    }
    const deliveries = await deliveryCounts(page, records);
    expect(deliveries.shown).toEqual(deliveries.expected);
    const grouped = await page.$$eval('#groups-table tbody tr', (rows) => (rows as unknown as DomElement[]).reduce((n, row) => n + Number(row.getAttribute('data-n')), 0));
    expect(grouped).toBe(records.filter((r) => r.type !== null).length);
    // Assess: details for a bounded sample, said so on the page
    const detailed = detailedCount(records, 300);
    expect(detailed).toBeLessThanOrEqual(300);
    expect(await page.locator('details.finding').count()).toBe(detailed);
    expect(await page.locator('#sample-note').textContent()).toContain(`sample of ${detailed} of ${FINDINGS} events`);
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'report-scale.png') });
    await page.context().close();
  }, 300_000);

  it('filters all 100,000 findings by text and severity, and opens a finding from its group', async () => {
    // Prepare
    const { page } = await openOffline(browser, report);
    const detailed = detailedCount(records, 300);
    await expect.poll(() => page.locator('#shown').textContent(), { timeout: 120_000 }).toBe(`${detailed} of ${detailed} detailed findings shown`);
    const groupsOf = (rs: JsonRecord[]) => new Set(rs.map(groupKey)).size;
    // Act
    await page.locator('input[name="q"]').fill('backdoor:ec2');
    // Assess
    const backdoor = records.filter((r) => r.type?.toLowerCase().includes('backdoor:ec2'));
    expect(backdoor.length).toBeGreaterThan(0);
    await expect.poll(() => page.locator('#shown-groups').textContent(), { timeout: 60_000 }).toBe(`${groupsOf(backdoor)} groups shown (${backdoor.length} findings)`);
    // Act
    await page.locator('input[name="q"]').fill('');
    await page.locator('select[name="severity"]').selectOption('critical');
    // Assess
    const critical = records.filter((r) => r.type !== null && (r.severity ?? 0) >= 9);
    await expect.poll(() => page.locator('#shown-groups').textContent(), { timeout: 60_000 }).toBe(`${groupsOf(critical)} groups shown (${critical.length} findings)`);
    // Act: a group's example link opens its finding, below the sticky bar
    const link = page.locator('#groups-table tbody tr:visible td a').first();
    const anchor = (await link.getAttribute('href'))!.slice(1);
    await link.click();
    // Assess
    await expect.poll(() => page.locator(`#${anchor}`).getAttribute('open'), { timeout: 20_000 }).not.toBeNull();
    await expect.poll(() => page.locator(`#${anchor} .body`).isVisible(), { timeout: 20_000 }).toBe(true);
    const at = await topAndBar(page, `#${anchor}`);
    expect(at.top).toBeGreaterThanOrEqual(at.barBottom);
    await page.context().close();
  }, 300_000);
});

describe.skipIf(SKIP)('routes diff --report in a headless browser', () => {
  it('shows the same number of changed findings as --json, offline', async () => {
    // Prepare
    const cwd = mkdtempSync(join(tmpdir(), 'diff-'));
    const args = ['routes', 'diff', '--old', join(CONFIGS, 'base.yml'), '--new', join(CONFIGS, 'suppression-added.yml')];
    const json = run([...args, '--json'], cwd);
    const page = run([...args, '--report', join(cwd, 'diff.html')], cwd);
    expect(json.code, json.stderr).toBe(2);
    expect(page.code, page.stderr).toBe(2);
    const data = JSON.parse(json.stdout) as { counts: { changed: number; nowSuppressed: number } };
    const browser = await launch();
    try {
      // Act
      const { page: tab, foreign, errors } = await openOffline(browser, join(cwd, 'diff.html'));
      // Assess
      expect(await tab.locator('[data-count="changed"] .n').textContent()).toBe(String(data.counts.changed));
      expect(await tab.locator('[data-count="now-suppressed"] .n').textContent()).toBe(String(data.counts.nowSuppressed));
      // The routes file change itself, and account names beside the ids
      const yamlAdded = await tab.locator('#yaml .yl-add').allTextContents();
      expect(yamlAdded).toContain('+suppress:');
      expect(yamlAdded).toContain('+  - name: pentest-vendor-scans');
      expect(await tab.locator('#yaml .yl-del').count()).toBeGreaterThan(0);
      expect(await tab.locator('td.acct', { hasText: 'payments-prod (111111111111)' }).count()).toBeGreaterThan(0);
      expect(foreign).toEqual([]);
      expect(errors).toEqual([]);
      mkdirSync(ARTIFACTS, { recursive: true });
      await tab.screenshot({ path: join(ARTIFACTS, 'diff.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  }, 60_000);
});
