import { parseArgs } from 'node:util';
import type { FindingCriteria, GuardDutyClient } from '@aws-sdk/client-guardduty';
import { FindingsRouterError } from '../errors.ts';
import { createPullClient } from '../aws/guardduty-pull-client.ts';
import { CriteriaError, parseCriteria, type Criterion } from './pull/criteria.ts';
import { OutputError, openFindingsFile, type FindingsFile } from './pull/output.ts';
import { PullProgress } from './pull/progress.ts';
import { describeFailure, pullRegions } from './pull/run.ts';
import { renderPullSummary, totals, type PullSummary, type RegionSummary } from './pull/summary.ts';
import { parseWindow, windowCondition, WindowError } from './pull/window.ts';

type Io = { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };

const USAGE = `Usage: findings-router pull -o FILE [--since 7d] [--until DATE] [--region r1,r2] [--detector ID]
                           [--criteria EXPR]... [--include-archived] [--concurrency N] [--json]

Pulls findings from GuardDuty's administrator account (its member accounts' findings included)
into FILE, one finding per line in GuardDuty's wire form (as EventBridge's detail carries it):
replay, routes test and routes diff read the file as they read EventBridge events.
  -o, --output        the .jsonl file to write (replaced at the end; a failed run leaves it as it was);
                      a pipe or device (/dev/stdout) is written directly, and the summary goes to stderr
  --since             findings updated since: a duration back from now (7d, 12h, 90d, 2w) or a
                      date (2026-11-01, 2026-11-01T08:00:00Z); default 7d (GuardDuty keeps 90 days)
  --until             findings updated before this duration or date; default now
  --region            comma-separated regions (default: AWS_REGION or the profile's region)
  --detector          the detector id (default: ListDetectors); takes exactly one region
  --criteria          FIELD OP VALUE[,FIELD OP VALUE...], OP one of >= > <= < = !=, alternatives
                      with | (severity>=7, type=Recon:EC2/Portscan|Recon:EC2/PortProbeUnprotectedPort,
                      accountId!=111111111111, resource.resourceType=Instance); may repeat
  --include-archived  archived findings too (default: left out)
  --concurrency       regions pulled at once (default 4, at most 16)
  --json              the summary as one JSON document on stdout
Needs guardduty:ListDetectors, guardduty:ListFindings and guardduty:GetFindings.
Exit status: 0 pulled (regions where access is denied or GuardDuty is not enabled are reported
and skipped), 1 no credentials or region, output not writable, a region failed, or no region
could be read, 2 usage error.
`;

const DEFAULT_SINCE = '7d';
const DEFAULT_CONCURRENCY = 4;
const MAX_CONCURRENCY = 16;
const REGION = /^[a-z]{2}(-[a-z0-9]+)+-\d{1,2}$/;

interface PullDeps {
  /** The GuardDuty client of a region (tests: a loopback endpoint). */
  clientFor?: (region: string) => GuardDutyClient;
  /** The region when --region is absent; default the SDK's (AWS_REGION, the profile). */
  defaultRegion?: () => Promise<string>;
  now?: () => number;
}

class PullUsageError extends FindingsRouterError {
  constructor(message: string) {
    super(message);
    this.name = 'PullUsageError';
  }
}

const configuredRegion = async (): Promise<string> => {
  const probe = createPullClient(undefined);
  try {
    return await probe.config.region();
  } finally {
    probe.destroy();
  }
};

const parseRegions = (text: string | undefined): string[] | undefined => {
  if (text === undefined) return undefined;
  const regions = [...new Set(text.split(',').map((r) => r.trim()).filter((r) => r !== ''))];
  if (regions.length === 0) throw new PullUsageError(`--region '${text}': no region given`);
  const bad = regions.find((r) => !REGION.test(r));
  if (bad !== undefined) throw new PullUsageError(`--region: '${bad}' is not a region name (e.g. us-east-1)`);
  return regions;
};

const parseConcurrency = (text: string | undefined): number => {
  if (text === undefined) return DEFAULT_CONCURRENCY;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY) throw new PullUsageError(`--concurrency '${text}': a whole number from 1 to ${MAX_CONCURRENCY}`);
  return n;
};

const parse = (argv: string[]) => {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      since: { type: 'string' },
      until: { type: 'string' },
      region: { type: 'string' },
      detector: { type: 'string' },
      criteria: { type: 'string', multiple: true },
      'include-archived': { type: 'boolean', default: false },
      concurrency: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (positionals.length > 0) throw new PullUsageError(`unexpected argument '${positionals[0]}' (the output file goes after -o)`);
  return values;
};

const runPull = async (argv: string[], io: Io, deps: PullDeps = {}): Promise<number> => {
  const now = deps.now?.() ?? Date.now();
  let values: ReturnType<typeof parse>;
  let criterion: Criterion;
  let window: ReturnType<typeof parseWindow>;
  let regionsGiven: string[] | undefined;
  let concurrency: number;
  try {
    values = parse(argv);
    if (values.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    if (values.output === undefined || values.output === '') throw new PullUsageError('-o FILE is required (where the findings go)');
    window = parseWindow(values.since ?? DEFAULT_SINCE, values.until, now);
    criterion = parseCriteria(values.criteria ?? []);
    regionsGiven = parseRegions(values.region);
    concurrency = parseConcurrency(values.concurrency);
    if (values.detector !== undefined && regionsGiven !== undefined && regionsGiven.length > 1) {
      throw new PullUsageError('--detector names one region\'s detector: give a single --region with it');
    }
  } catch (error) {
    const usage = error instanceof PullUsageError || error instanceof CriteriaError || error instanceof WindowError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    if (!usage) throw error;
    io.stderr.write(`findings-router pull: ${(error as Error).message} (see pull --help)\n`);
    return 2;
  }
  const fail = (message: string): number => {
    io.stderr.write(`findings-router pull: ${message}\n`);
    return 1;
  };

  const clientFor = deps.clientFor ?? ((region: string) => createPullClient(region));
  let regions = regionsGiven;
  if (regions === undefined) {
    try {
      regions = [await (deps.defaultRegion ?? configuredRegion)()];
    } catch {
      return fail('no region: pass --region (e.g. --region us-east-1,eu-west-1) or set AWS_REGION');
    }
  }
  // Credentials are resolved once, before the output file is touched: a missing profile is one
  // line here, not one failure per region.
  const first = clientFor(regions[0]!);
  try {
    await (first.config.credentials as () => Promise<unknown>)();
  } catch (error) {
    return fail(`no AWS credentials (${describeFailure(error)}); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`);
  } finally {
    first.destroy();
  }

  let file: FindingsFile;
  try {
    file = await openFindingsFile(values.output);
  } catch (error) {
    if (error instanceof OutputError) return fail(error.message);
    throw error;
  }
  // An interrupted pull leaves no partial file behind (the handlers replace node's default exit).
  const onSignal = (signal: NodeJS.Signals) => {
    file.abortSync();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);

  const criteria: FindingCriteria = {
    Criterion: {
      ...criterion,
      updatedAt: windowCondition(window),
      ...(values['include-archived'] ? {} : { 'service.archived': { Equals: ['false'] } }),
    },
  };
  const progress = new PullProgress(io.stderr, regions.length);
  let summaries: RegionSummary[];
  try {
    summaries = await pullRegions({
      regions,
      concurrency,
      ...(values.detector !== undefined ? { detectorId: values.detector } : {}),
      criteria,
      clientFor,
      file,
      progress,
    });
    progress.clear();
    // Nothing read anywhere: an older file of the same name stays as it was.
    if (summaries.some((s) => s.status === 'pulled')) await file.commit();
    else await file.abort();
  } catch (error) {
    progress.clear();
    await file.abort();
    if (error instanceof OutputError) return fail(error.message);
    throw error;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }

  const all = totals(summaries);
  const report: PullSummary = {
    output: values.output,
    since: new Date(window.sinceMs).toISOString(),
    until: window.untilMs === undefined ? null : new Date(window.untilMs).toISOString(),
    includeArchived: values['include-archived'],
    criteria: values.criteria ?? [],
    findings: all.findings,
    bySeverity: all.bySeverity,
    regions: summaries,
  };
  // Findings written to a pipe or a device may be this very stdout: the summary then goes aside.
  const out = file.direct ? io.stderr : io.stdout;
  out.write(values.json ? `${JSON.stringify(report)}\n` : renderPullSummary(report));
  const pulled = summaries.some((s) => s.status === 'pulled');
  const failed = summaries.some((s) => s.status === 'failed');
  return pulled && !failed ? 0 : 1;
};

export { runPull };
export type { PullDeps };
