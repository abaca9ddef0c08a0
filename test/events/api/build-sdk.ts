/**
 * Part of build.py: GetFindings through the SDK for JavaScript v3 against the loopback
 * endpoint build.py serves, printed as a script would save it (JSON.stringify: Dates
 * become ISO strings, `$metadata` included).
 *   npx node build-sdk.ts <endpoint> <detectorId> <findingId...>
 */
import { GetFindingsCommand, GuardDutyClient } from '@aws-sdk/client-guardduty';

const [endpoint, detectorId, ...findingIds] = process.argv.slice(2);
const client = new GuardDutyClient({
  endpoint: endpoint!,
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDLOOPBACK', secretAccessKey: 'loopback-secret' },
  maxAttempts: 1,
});
const output = await client.send(new GetFindingsCommand({ DetectorId: detectorId!, FindingIds: findingIds }));
process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
