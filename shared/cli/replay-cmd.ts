import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ACCOUNTS_CONFIG, staticAccountDirectory } from '../accounts/directory.ts';
import { loadConfig } from '../config/load.ts';
import { ROUTES_CONFIG } from '../config/routes-config.ts';
import { formatProblem } from '../errors.ts';
import { localSecretResolver } from '../secrets.ts';
import { createHttpClient } from '../targets/http.ts';
import { createTargets } from '../targets/create.ts';
import { memoryLedger } from '../targets/ledger.ts';
import { checkReplayFlags, expiredSuppressionWarnings, failOnVerdict, startFileTargets } from './replay/checks.ts';
import { readInputsOrStdin } from './stdin-input.ts';
import { BUNDLED } from './paths.ts';
import { replayStream, replaySession, type DeliveryMode } from './replay/runner.ts';
import { openDeadLetterFile } from './replay/dead-letter-file.ts';
import { recordLines } from './replay/record-lines.ts';
import { concurrencyOf, DEFAULT_CONCURRENCY } from './replay/concurrency.ts';
import { checkOutputFile } from './usage.ts';
import { entryFromReplay, ReportCollector } from './report/model.ts';
import { renderReportHtml } from './report/html.ts';
import { ReplaySummary } from './summary.ts';
import { runtimeSuppressionsFromFlags, SUPPRESSION_FLAGS, SUPPRESSION_FLAGS_USAGE } from './suppressions/source.ts';

const USAGE = `Usage: findings-router replay [PATH...] [--routes FILE] [--accounts FILE] [--dry-run | --send] [--payloads DIR] [--json] [--report FILE]
       [--concurrency N] [--dead-letters FILE]

Runs GuardDuty findings through the same pipeline as the Lambdas, in-process.
  PATH          .json (event, finding, GetFindings output, or array), .jsonl/.ndjson, the same
                gzipped (.gz), or folders of them (GuardDuty's S3 export)
                (default: the bundled sample corpus and example configuration)
  --routes      routes file (default: routes.example.yml)
  --accounts    account registry (default: accounts.example.yml)
  --dry-run     render every delivery, send nothing
  --send        also deliver to network targets (by default only console and file deliver;
                network targets are rendered)
  --payloads    write each rendered body to DIR/<target>/<findingId>.<ext>
  --json        one JSON line per input event on stdout; everything else on stderr
  --summary-json write the end-of-run summary as JSON to FILE (- for stdout)
  --fail-on     exit 3 when any event ends with one of these outcomes (a CI gate):
                failed, rejected, ignored, suppressed, skipped (e.g. --fail-on failed,rejected)
  --debug       print the stack trace of an unexpected error
  --report      write a self-contained HTML page: summary, severity × target, coverage
                matrix, and per finding its decision trace and rendered messages
  --concurrency findings whose deliveries run at the same time (default ${DEFAULT_CONCURRENCY}); a target
                that keeps one record per finding still gets its updates in order
  --dead-letters write every delivery that failed (after the deliver Lambda's retry budget)
                to FILE, one letter per line as \`dlq export\` writes them; \`replay FILE\`
                sends exactly those again
${SUPPRESSION_FLAGS_USAGE}`;

const runReplay = async (argv: string[], io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream }): Promise<number> => {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      routes: { type: 'string' },
      accounts: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      send: { type: 'boolean', default: false },
      payloads: { type: 'string' },
      json: { type: 'boolean', default: false },
      report: { type: 'string' },
      'summary-json': { type: 'string' },
      'fail-on': { type: 'string' },
      concurrency: { type: 'string' },
      'dead-letters': { type: 'string' },
      region: { type: 'string' },
      ...SUPPRESSION_FLAGS,
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  // Before any work: a flag combination, an input that does not exist or an output that cannot be written.
  const { failOn } = await checkReplayFlags(values, positionals);
  const human = values.json ? io.stderr : io.stdout;
  const config = await loadConfig(ROUTES_CONFIG, { file: values.routes ?? BUNDLED.routes() });
  for (const warning of config.warnings) io.stderr.write(`warning: ${formatProblem(warning)}\n`);
  for (const warning of expiredSuppressionWarnings(config)) io.stderr.write(`${warning}\n`);
  const runtimeSuppressions = await runtimeSuppressionsFromFlags(values, (line) => io.stderr.write(`warning: ${line}\n`));
  const accountsFile = values.accounts ?? BUNDLED.accounts();
  const accounts = staticAccountDirectory(await loadConfig(ACCOUNTS_CONFIG, { file: accountsFile }));
  const targets = createTargets(config, { secrets: localSecretResolver(), http: createHttpClient(), stdout: human, ledger: memoryLedger() });
  const mode: DeliveryMode = values['dry-run'] ? 'dry-run' : values.send ? 'send' : 'live';
  const paths = positionals.length > 0 ? positionals : [BUNDLED.samples()];

  const session = replaySession();
  const summary = new ReplaySummary((target) => sendsIn(mode, config.targets.get(target)));
  await startFileTargets(config, mode === 'dry-run');
  // The bundled corpus's README is ours, not a skipped input.
  const skipped = positionals.length > 0 ? (name: string, why: string) => summary.skip(name, why) : undefined;
  const progress = io.stderr.isTTY && !values.json ? io.stderr : undefined;
  const report = new ReportCollector();
  const collect = values.report === undefined ? {} : { collect: (detail: Parameters<typeof entryFromReplay>[0]) => report.add(entryFromReplay(detail)) };
  const concurrency = concurrencyOf(values.concurrency);
  if (values['dead-letters'] !== undefined) await checkOutputFile('--dead-letters', values['dead-letters']);
  const letters = values['dead-letters'] === undefined ? undefined : openDeadLetterFile(values['dead-letters']);
  const options = { config, accounts, targets, mode, ...session, ...collect, ...(values.payloads ? { payloadsDir: values.payloads } : {}), ...(letters ? { deadLetters: letters.write } : {}), ...(runtimeSuppressions ? { runtimeSuppressions } : {}) };
  // Records go out in batches (replay/record-lines.ts), all of them before anything else is written.
  const records = recordLines(io.stdout);
  await replayStream(readInputsOrStdin(paths, skipped), options, concurrency, (record) => {
    summary.add(record);
    if (values.json) records.write(`${JSON.stringify(record)}\n`);
    if (progress && summary.total % 25 === 0) progress.write(`\r${bar(summary.total)} ${summary.total} events`);
  }).finally(records.flush);
  if (progress) progress.write('\r\x1b[K');
  const digests = await session.digests.flushAll();
  if (letters) {
    await letters.close();
    human.write(`dead letters: ${letters.count} written to ${values['dead-letters']}\n`);
  }
  summary.setDigests(digests);
  human.write(summary.render());
  const summaryJson = `${JSON.stringify(summary)}\n`;
  if (values['summary-json'] === '-') io.stdout.write(summaryJson);
  else if (values['summary-json'] !== undefined) await writeFile(values['summary-json'], summaryJson);
  if (values.report !== undefined) {
    const data = report.build({
      routesFile: config.file,
      generatedAt: new Date().toISOString(),
      targets: [...config.targets.values()].map((t) => ({ name: t.name, type: t.type, kind: t.category })),
      defaultTargets: config.defaultTargets,
      skipped: { count: summary.skippedCount, first: summary.skipped },
    });
    await writeFile(values.report, renderReportHtml(data));
    human.write(`report: ${values.report}\n`);
  }
  const verdict = failOnVerdict(failOn, { outcomes: Object.fromEntries(summary.outcomes), skipped: summary.skippedCount });
  if (verdict.line) io.stderr.write(`${verdict.line}\n`);
  return verdict.exitCode;
};

/** Whether a target's deliveries are sent in this mode (the replay runner's rule, for the summary's digests). */
const sendsIn = (mode: DeliveryMode, target: { local: boolean } | undefined): boolean =>
  mode === 'send' || (mode === 'live' && target?.local === true);

const bar = (n: number): string => `[${'#'.repeat(Math.min(30, Math.floor(n / 10)) )}${' '.repeat(Math.max(0, 30 - Math.floor(n / 10)))}]`;

export { runReplay, USAGE as REPLAY_USAGE };
