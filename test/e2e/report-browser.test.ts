import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
type JsonRecord = { source: string; type: string | null; severity: number | null; outcome: string; targets: string[] };

const run = (args: string[], cwd: string) => {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
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
    records = stdout.trim().split('\n').map((line) => JSON.parse(line) as JsonRecord);
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
      expect(foreign).toEqual([]);
      expect(errors).toEqual([]);
      mkdirSync(ARTIFACTS, { recursive: true });
      await tab.screenshot({ path: join(ARTIFACTS, 'diff.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  }, 60_000);
});
