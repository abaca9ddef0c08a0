import type { Finding, FindingCriteria, GuardDutyClient } from '@aws-sdk/client-guardduty';
import { fromApiFinding } from '../../input/api-finding.ts';
import { redactText } from '../../redact.ts';
import { stripControl, truncate } from '../../text.ts';
import { OutputError, type FindingsFile } from './output.ts';
import type { PullProgress } from './progress.ts';
import { NoDetectorError, pullRegion, RegionDeniedError, type RegionPullResult } from '../../aws/guardduty-findings.ts';
import { RegionTally, type RegionSummary } from './summary.ts';

/**
 * Pulls every region into one file, at most `concurrency` regions at once. A region that is
 * denied or has no detector is skipped, one that fails otherwise is marked failed; both are
 * summarised and the others go on. Only the output file failing stops everything (OutputError).
 */
interface PullRegionsOptions {
  regions: readonly string[];
  concurrency: number;
  detectorId?: string;
  criteria: FindingCriteria;
  clientFor: (region: string) => GuardDutyClient;
  file: FindingsFile;
  progress: PullProgress;
}

/** An AWS error as one printable line: no control characters, nothing secret-looking, bounded. */
const describeFailure = (error: unknown): string => {
  const ours = error instanceof RegionDeniedError || error instanceof NoDetectorError;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const text = !(error instanceof Error) ? String(error) : ours ? error.message : `${error.name}${status ? ` (HTTP ${status})` : ''}: ${error.message}`;
  return truncate(redactText(stripControl(text).replace(/\s+/g, ' ').trim()), 400);
};

const pullRegions = async (options: PullRegionsOptions): Promise<RegionSummary[]> => {
  const summaries: RegionSummary[] = [];
  let fatal: OutputError | undefined;

  const pullOne = async (region: string): Promise<void> => {
    const tally = new RegionTally();
    const result: RegionPullResult = { detectors: [], missing: 0, retries: 0 };
    const summarise = (status: RegionSummary['status'], reason?: string) =>
      summaries.push({
        region,
        status,
        ...(reason !== undefined ? { reason } : {}),
        detectors: result.detectors,
        findings: tally.findings,
        bySeverity: tally.bySeverity,
        accounts: tally.accounts.size,
        missing: result.missing,
        retries: result.retries,
      });
    const onFindings = async (findings: Finding[]) => {
      if (fatal !== undefined) throw fatal;
      await options.file.write(findings.map((f) => JSON.stringify(fromApiFinding(f))));
      for (const f of findings) tally.add(f);
      options.progress.add(region, findings.length);
    };
    const client = options.clientFor(region);
    options.progress.start(region);
    try {
      await pullRegion(client, { region, ...(options.detectorId !== undefined ? { detectorId: options.detectorId } : {}), criteria: options.criteria, onFindings }, result);
      summarise('pulled');
    } catch (error) {
      if (error instanceof OutputError) {
        fatal ??= error;
        return;
      }
      summarise(error instanceof RegionDeniedError || error instanceof NoDetectorError ? 'skipped' : 'failed', describeFailure(error));
    } finally {
      client.destroy();
      options.progress.finish(region);
    }
  };

  const queue = [...options.regions];
  const worker = async () => {
    for (let region = queue.shift(); region !== undefined && fatal === undefined; region = queue.shift()) await pullOne(region);
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.regions.length) }, worker));
  if (fatal !== undefined) throw fatal;
  return summaries.sort((a, b) => options.regions.indexOf(a.region) - options.regions.indexOf(b.region));
};

export { pullRegions, describeFailure };
