import {
  GetFindingsCommand,
  ListDetectorsCommand,
  ListFindingsCommand,
  type Finding,
  type FindingCriteria,
  type GuardDutyClient,
} from '@aws-sdk/client-guardduty';
import { FindingsRouterError } from '../errors.ts';

/**
 * One region of a pull: the administrator's detector(s) (ListDetectors, or --detector), then
 * ListFindings pages of at most 50 ids, each fetched at once with one GetFindings call (its
 * limit is 50 ids too). The administrator's detector lists its member accounts' findings as
 * well, so nothing is asked per account. Retries (throttling, 5xx) are the SDK's: the client
 * comes with its retry strategy; this counts the attempts it reports.
 */
const MAX_IDS_PER_CALL = 50;

/** A region the caller may not read (IAM or SCP deny, an opt-in region not enabled). */
class RegionDeniedError extends FindingsRouterError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RegionDeniedError';
  }
}

/** GuardDuty is not enabled for this account in the region. */
class NoDetectorError extends FindingsRouterError {
  constructor(region: string) {
    super(`no GuardDuty detector in ${region} (GuardDuty is not enabled there for this account)`);
    this.name = 'NoDetectorError';
  }
}

interface RegionPullOptions {
  region: string;
  detectorId?: string;
  criteria: FindingCriteria;
  /** Receives each fetched page, in order; awaited before the next call (backpressure). */
  onFindings: (findings: Finding[]) => Promise<void>;
}

interface RegionPullResult {
  detectors: string[];
  /** Listed by ListFindings but not returned by GetFindings (archived or deleted in between). */
  missing: number;
  /** Extra attempts the SDK's retry strategy made (throttling, 5xx, network). */
  retries: number;
}

const retriesOf = (output: { $metadata?: { attempts?: number } }): number => Math.max(0, (output.$metadata?.attempts ?? 1) - 1);

const isDenied = (error: unknown): boolean => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'AccessDeniedException' || e.name === 'UnrecognizedClientException' || e.$metadata?.httpStatusCode === 403;
};

const listDetectors = async (client: GuardDutyClient, region: string, result: RegionPullResult): Promise<string[]> => {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListDetectorsCommand({ MaxResults: MAX_IDS_PER_CALL, ...(token ? { NextToken: token } : {}) }));
    result.retries += retriesOf(page);
    ids.push(...(page.DetectorIds ?? []));
    token = page.NextToken;
  } while (token);
  if (ids.length === 0) throw new NoDetectorError(region);
  return ids;
};

const pullDetector = async (client: GuardDutyClient, detectorId: string, options: RegionPullOptions, result: RegionPullResult): Promise<void> => {
  // A finding updated during the listing may be listed twice (ascending updatedAt moves it to
  // the end rather than out of reach); each is fetched and written once.
  const seen = new Set<string>();
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListFindingsCommand({
        DetectorId: detectorId,
        FindingCriteria: options.criteria,
        SortCriteria: { AttributeName: 'updatedAt', OrderBy: 'ASC' },
        MaxResults: MAX_IDS_PER_CALL,
        ...(token ? { NextToken: token } : {}),
      }),
    );
    result.retries += retriesOf(page);
    token = page.NextToken;
    const ids = (page.FindingIds ?? []).filter((id) => !seen.has(id));
    for (const id of ids) seen.add(id);
    for (let i = 0; i < ids.length; i += MAX_IDS_PER_CALL) {
      const batch = ids.slice(i, i + MAX_IDS_PER_CALL);
      const got = await client.send(new GetFindingsCommand({ DetectorId: detectorId, FindingIds: batch }));
      result.retries += retriesOf(got);
      const findings = got.Findings ?? [];
      result.missing += batch.length - findings.length;
      if (findings.length > 0) await options.onFindings(findings);
    }
  } while (token);
};

/**
 * Pulls one region. Throws RegionDeniedError (403), NoDetectorError, or the SDK's error once
 * its retries are spent; findings already handed to onFindings stay handed.
 */
const pullRegion = async (client: GuardDutyClient, options: RegionPullOptions, result: RegionPullResult): Promise<void> => {
  try {
    result.detectors = options.detectorId ? [options.detectorId] : await listDetectors(client, options.region, result);
    for (const detectorId of result.detectors) await pullDetector(client, detectorId, options, result);
  } catch (error) {
    const attempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts;
    if (attempts) result.retries += attempts - 1;
    if (isDenied(error)) throw new RegionDeniedError(`access denied in ${options.region}: ${(error as Error).message}`, { cause: error });
    throw error;
  }
};

export { pullRegion, RegionDeniedError, NoDetectorError };
export type { RegionPullResult };
