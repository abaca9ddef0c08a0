import type { Context, SQSEvent } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import type { RouterConfig } from '../../../config/compile.ts';
import type { GuardDutyFinding } from '../../../../schemas/finding.ts';
import { memorySuppressionStore } from '../../suppressions/memory-store.ts';
import { sdkGuardDutyAdmin } from '../../../aws/guardduty-actions.ts';
import type { ActionAuditRecord } from '../../../actions/audit.ts';
import { encodeButtonValue } from '../../../actions/button-value.ts';
import { actionsChain } from '../../../actions/chain.ts';
import { composeActions } from '../../../actions/compose.ts';
import type { ActionJob } from '../../../actions/job.ts';
import type { ActionName } from '../../../actions/model.ts';
import { slackActionId } from '../../../actions/slack-buttons.ts';
import { slackSignature } from '../../../actions/slack-verify.ts';
import { memoryActionStore } from '../../../actions/store.ts';
import { startActionsLoopback, type ActionsLoopbackCall } from './guardduty-loopback.ts';
import { startResponseReceiver } from './response-receiver.ts';

/**
 * `actions simulate`: one button press through the whole path, in process. A Slack request
 * is signed with a throwaway secret and handed to the same middy chain the Lambda runs; the
 * job it queues is run by the same chain as the queue would; GuardDuty is a loopback holding
 * the given findings (the real SDK client talks to it), the message update goes to a loopback
 * response_url, and the audit record is printed instead of being sent. Nothing leaves the
 * machine and nothing is kept.
 */
interface SimulateOptions {
  config: RouterConfig;
  action: ActionName;
  actor: string;
  finding: GuardDutyFinding;
  /** Every finding the loopback detector holds (the chosen one included unless `absent`). */
  findings: readonly GuardDutyFinding[];
  print: (line: string) => void;
}

interface SimulateResult {
  httpStatus: number;
  status?: string;
  guardDutyCalls: ActionsLoopbackCall[];
  updates: Record<string, unknown>[];
  audit?: ActionAuditRecord;
}

const context = (): Context =>
  ({
    functionName: 'findings-router-actions-simulate',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:findings-router-actions-simulate',
    memoryLimitInMB: '256',
    awsRequestId: 'simulate',
    logGroupName: 'simulate',
    logStreamName: 'simulate',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 20_000,
  }) as unknown as Context;

const simulateAction = async (options: SimulateOptions): Promise<SimulateResult> => {
  const { finding, print } = options;
  const byRegion: Record<string, Record<string, unknown>[]> = {};
  for (const f of options.findings) (byRegion[f.region] ??= []).push(f as unknown as Record<string, unknown>);
  byRegion[finding.region] ??= [];
  const guardduty = await startActionsLoopback({ regions: byRegion as Record<string, (Record<string, unknown> & { id: string })[]> });
  const receiver = await startResponseReceiver();
  try {
    const secret = randomBytes(24).toString('hex');
    const jobs: ActionJob[] = [];
    const audits: ActionAuditRecord[] = [];
    const logLine = (level: string) => (message: string, fields?: Record<string, unknown>) => {
      if (level !== 'info') print(`  log ${level}: ${message} ${JSON.stringify(fields ?? {})}`);
    };
    const chain = actionsChain(
      composeActions({
        policy: options.config.actions,
        store: memoryActionStore(),
        guardduty: sdkGuardDutyAdmin({ clientConfig: { endpoint: guardduty.endpoint, credentials: { accessKeyId: 'AKIDSIMULATE', secretAccessKey: 'simulate' } } }),
        suppressions: memorySuppressionStore(),
        audit: { record: async (record) => void audits.push(record) },
        queue: { enqueue: async (job) => void jobs.push(job) },
        slackSecret: async () => secret,
        log: { info: logLine('info'), warn: logLine('warn'), error: logLine('error') },
        now: Date.now,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        allowedResponseUrl: (url) => url === receiver.url,
      }),
    );

    const payload = {
      type: 'block_actions',
      user: { id: options.actor, username: options.actor },
      actions: [{ action_id: slackActionId(options.action), value: encodeButtonValue({ id: finding.id, accountId: finding.accountId, region: finding.region, type: finding.type }) }],
      response_url: receiver.url,
      message: { blocks: [{ type: 'section', block_id: 'finding', text: { type: 'plain_text', text: finding.type.slice(0, 150) } }] },
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const timestamp = String(Math.floor(Date.now() / 1000));
    print(`1. Slack request: POST /slack, ${Buffer.byteLength(body)} bytes, signed v0 with a throwaway secret (timestamp ${timestamp})`);
    const answer = (await chain(
      {
        rawPath: '/slack',
        headers: { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': slackSignature(secret, timestamp, body), 'content-type': 'application/x-www-form-urlencoded' },
        body,
        isBase64Encoded: false,
        requestContext: { http: { method: 'POST' } },
      },
      context(),
    )) as { statusCode: number };
    print(`2. endpoint answered ${answer.statusCode}${answer.statusCode === 200 ? ' (signature verified, not seen before; 1 job queued)' : ''}`);
    if (answer.statusCode !== 200 || jobs.length === 0) return { httpStatus: answer.statusCode, guardDutyCalls: guardduty.calls, updates: receiver.updates };

    const event = {
      Records: jobs.splice(0).map((job, index) => ({ messageId: `simulate-${index}`, receiptHandle: 'simulate', body: JSON.stringify(job), attributes: { ApproximateReceiveCount: '1' } })),
    } as unknown as SQSEvent;
    const work = (await chain(event, context())) as { batchItemFailures: unknown[] };
    const audit = audits[0];
    const status = audit?.status;
    print(`3. worker: ${status === 'refused' ? 'refused' : 'authorised'} (${audit?.message ?? 'no outcome'})`);
    if (guardduty.calls.length === 0) print('4. GuardDuty calls: none');
    else print(`4. GuardDuty calls (${finding.region}, detector ${guardduty.detectors[finding.region]}):`);
    for (const call of guardduty.calls) print(`     ${call.operation} ${JSON.stringify(call.body)} → ${call.status}${call.errorCode ? ` ${call.errorCode}` : ''}`);
    print(`5. message updates (response_url, replace_original): ${receiver.updates.length}`);
    receiver.updates.forEach((update, index) => print(`     ${index + 1}. ${String(update.text)}`));
    if (work.batchItemFailures.length > 0) print('   the job went back to the queue (GuardDuty throttling outlasted the backoff); the message stays "pending"');
    print('6. audit record (structured log line + audit targets):');
    print(`     ${JSON.stringify(audit)}`);
    const auditTargets = [...options.config.targets.values()].filter((t) => t.common.audit === true).map((t) => `${t.name} (${t.type})`);
    print(`     audit targets that would receive it: ${auditTargets.length > 0 ? auditTargets.join(', ') : 'none (no target has audit: true)'}`);
    return { httpStatus: answer.statusCode, ...(status ? { status } : {}), guardDutyCalls: guardduty.calls, updates: receiver.updates, ...(audit ? { audit } : {}) };
  } finally {
    await guardduty.close();
    await receiver.close();
  }
};

export { simulateAction };

