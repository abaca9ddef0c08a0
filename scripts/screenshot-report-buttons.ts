/**
 * Re-creates docs/images/report-buttons-slack.png and report-buttons-teams.png: one sample
 * finding replayed with `replay --report` through Slack and Teams targets that opt in to the
 * buttons, the page opened in Debian's Chromium (playwright-core drives it; nothing is
 * downloaded) and the two message previews photographed.
 *
 *   npx node scripts/screenshot-report-buttons.ts        (needs: sudo apt-get install chromium)
 *
 * The page is opened offline: every request other than the file itself is aborted, as the
 * report browser test does.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = join(import.meta.dirname, '..');
const CHROMIUM = '/usr/bin/chromium';
const IMAGES = join(ROOT, 'docs/images');
const SAMPLE = join(ROOT, 'test/events/samples/unauthorizedaccess-ec2-sshbruteforce.json');

const ROUTES = `# Written by scripts/screenshot-report-buttons.ts: two chat targets with every button.
targets:
  soc-slack:
    type: slack
    webhookUrl: { env: SOC_SLACK_WEBHOOK }
    actions: [acknowledge, archive, false-positive, useful, suppress]
  soc-teams:
    type: teams
    webhookUrl: { env: SOC_TEAMS_WEBHOOK }
    actions: [acknowledge, archive, false-positive, useful, suppress]

default:
  targets: [soc-slack, soc-teams]

routes: []
`;

const main = async (): Promise<void> => {
  if (!existsSync(CHROMIUM)) throw new Error(`no ${CHROMIUM}: sudo apt-get install chromium`);
  const work = mkdtempSync(join(tmpdir(), 'report-buttons-'));
  try {
    writeFileSync(join(work, 'routes.yml'), ROUTES);
    const report = join(work, 'report.html');
    const replay = spawnSync(
      process.execPath,
      ['--experimental-strip-types', '--no-warnings=ExperimentalWarning', join(ROOT, 'shared/cli/main.ts'), 'replay', SAMPLE, '--routes', 'routes.yml', '--dry-run', '--report', report],
      { cwd: work, encoding: 'utf8', timeout: 120_000, env: { ...process.env, SOC_SLACK_WEBHOOK: 'https://hooks.slack.com/services/T0/B0/x', SOC_TEAMS_WEBHOOK: 'https://example.invalid/workflows' } },
    );
    if (replay.status !== 0) throw new Error(`replay failed (${replay.status}): ${replay.stderr.slice(0, 2000)}`);

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    try {
      const url = pathToFileURL(report).href;
      const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1, colorScheme: 'light' });
      await context.route('**/*', (route) => (route.request().url() === url ? route.continue() : route.abort()));
      const page = await context.newPage();
      await page.goto(url);
      const finding = page.locator('details.finding').first();
      await finding.evaluate((element) => {
        (element as unknown as { open: boolean }).open = true;
      });
      mkdirSync(IMAGES, { recursive: true });
      for (const [target, file] of [
        ['soc-slack', 'report-buttons-slack.png'],
        ['soc-teams', 'report-buttons-teams.png'],
      ] as const) {
        const section = finding.locator('section.payload', { has: page.locator('h5', { hasText: target }) });
        await section.scrollIntoViewIfNeeded();
        await section.screenshot({ path: join(IMAGES, file) });
        process.stdout.write(`wrote docs/images/${file}\n`);
      }
    } finally {
      await browser.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
};

await main();
