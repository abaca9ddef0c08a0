import type { GuardDutyClient, GuardDutyClientConfig } from '@aws-sdk/client-guardduty';
import { loadOnce } from './load-once.ts';
import type { GuardDutyAdmin } from '../actions/engine.ts';

/**
 * Every GuardDuty call the actions engine makes, in the administrator account, in the
 * finding's region. The detector of a region comes from the detector ARNs the stack was
 * given (ACTIONS_DETECTOR_ARNS, the same list its IAM statements name) or, when none names
 * that region, from ListDetectors (one detector per account and region), cached for the
 * life of the container.
 */
interface DetectorArn {
  region: string;
  accountId: string;
  detectorId: string;
}

const DETECTOR_ARN = /^arn:aws[a-z-]*:guardduty:([a-z0-9-]+):(\d{12}):detector\/([0-9a-z]{1,300})$/;

/** `arn:…:detector/<id>` list, comma-separated; a malformed entry is an error naming it by position, not by value. */
const parseDetectorArns = (text: string | undefined): DetectorArn[] =>
  (text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry, index) => {
      const m = DETECTOR_ARN.exec(entry);
      if (!m) throw new Error(`ACTIONS_DETECTOR_ARNS entry ${index + 1} is not a GuardDuty detector ARN (arn:aws:guardduty:<region>:<account>:detector/<id>)`);
      return { region: m[1]!, accountId: m[2]!, detectorId: m[3]! };
    });

interface AdminOptions {
  detectorArns?: readonly DetectorArn[];
  /** Endpoint and credentials for simulate and tests (the Lambda takes the environment's). */
  clientConfig?: Omit<GuardDutyClientConfig, 'region'>;
}

const sdkGuardDutyAdmin = (options: AdminOptions = {}): GuardDutyAdmin => {
  const clients = new Map<string, GuardDutyClient>();
  const detectors = new Map<string, string | undefined>();
  // The client loads on first use: the Function URL half of the function never calls GuardDuty.
  const sdk = loadOnce(() => import('./lazy/guardduty-actions.ts'));
  // The engine retries throttling with its own backoff and shows "pending" meanwhile; one SDK attempt each.
  const client = async (region: string) => {
    const { GuardDutyClient } = await sdk();
    let found = clients.get(region);
    if (!found) {
      found = new GuardDutyClient({ maxAttempts: 1, ...options.clientConfig, region });
      clients.set(region, found);
    }
    return found;
  };
  return {
    detectorId: async (region) => {
      const configured = options.detectorArns?.find((arn) => arn.region === region);
      if (configured) return configured.detectorId;
      if (detectors.has(region)) return detectors.get(region);
      const { ListDetectorsCommand } = await sdk();
      const { DetectorIds } = await (await client(region)).send(new ListDetectorsCommand({ MaxResults: 1 }));
      const id = DetectorIds?.[0];
      detectors.set(region, id);
      return id;
    },
    getFinding: async (region, detectorId, findingId) => {
      const { GetFindingsCommand } = await sdk();
      const { Findings } = await (await client(region)).send(new GetFindingsCommand({ DetectorId: detectorId, FindingIds: [findingId] }));
      return Findings?.find((f) => f.Id === findingId);
    },
    archive: async (region, detectorId, findingId) => {
      const { ArchiveFindingsCommand } = await sdk();
      await (await client(region)).send(new ArchiveFindingsCommand({ DetectorId: detectorId, FindingIds: [findingId] }));
    },
    feedback: async (region, detectorId, findingId, feedback, comments) => {
      const { UpdateFindingsFeedbackCommand } = await sdk();
      await (await client(region)).send(
        new UpdateFindingsFeedbackCommand({ DetectorId: detectorId, FindingIds: [findingId], Feedback: feedback, ...(comments ? { Comments: comments } : {}) }),
      );
    },
  };
};

export { sdkGuardDutyAdmin, parseDetectorArns };
