import { parseArgs } from 'node:util';
import type { GuardDutyFinding } from '../../schemas/finding.ts';
import { ACTION_NAMES, type ActionName } from '../actions/model.ts';
import { loadConfig } from '../config/load.ts';
import { ROUTES_CONFIG } from '../config/routes-config.ts';
import { validateEvent } from '../validate.ts';
import { readInputs } from './inputs.ts';
import { BUNDLED } from './paths.ts';
import { terminalSafe } from './terminal-text.ts';
import { UsageError } from './usage.ts';

type Io = { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };

const USAGE = `Usage: findings-router actions simulate --action ACTION --finding ID --as SLACK_USER_ID [--config routes.yml] [--input FILE]

Runs one button press through the whole actions path in this process: a Slack request signed
with a throwaway secret, the same handler chain as the Lambda (verify, queue, authorise, act,
update the message, audit), a GuardDuty loopback holding the findings of --input (default: the
bundled samples) and a loopback response_url. Prints each step; nothing leaves the machine.

  --action    ${ACTION_NAMES.join(' | ')}
  --finding   the finding id (it must be in --input: the button carries its account and region)
  --as        the Slack user id pressing the button (U…), checked against routes.yml actions:
  --config    routes file (default routes.example.yml)
  --input     findings file or folder (EventBridge events or bare findings, .json/.jsonl)

Exit codes: 0 the action was done, 1 refused or failed (the reason is printed), 2 usage error.
Slack user groups (slackUserGroups) are not resolved here: simulate a user listed in slackUsers.
`;

const runActionsSimulate = async (argv: string[], io: Io): Promise<number> => {
  const { values } = parseArgs({
    args: argv,
    options: {
      action: { type: 'string' },
      finding: { type: 'string' },
      as: { type: 'string' },
      config: { type: 'string' },
      input: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const action = values.action as ActionName | undefined;
  if (action === undefined || !ACTION_NAMES.includes(action)) throw new UsageError(`--action expects one of ${ACTION_NAMES.join(', ')}`);
  if (values.finding === undefined || values.finding === '') throw new UsageError('--finding ID is required');
  if (values.as === undefined || !/^[UW][A-Z0-9]{2,30}$/.test(values.as)) throw new UsageError('--as expects a Slack user id such as U0123ABC');
  const configFile = values.config ?? BUNDLED.routes();
  const config = await loadConfig(ROUTES_CONFIG, { file: configFile });
  const input = values.input ?? BUNDLED.samples();
  const findings: GuardDutyFinding[] = [];
  for await (const item of readInputs([input])) {
    if (item.error !== undefined) continue;
    const validated = validateEvent(item.value);
    if (validated.kind === 'finding') findings.push(validated.finding);
  }
  const finding = findings.find((f) => f.id === values.finding);
  if (finding === undefined) throw new UsageError(`finding ${terminalSafe(values.finding)} is not in ${terminalSafe(input)} (${findings.length} findings read); give --input with it`);
  const print = (line: string) => io.stdout.write(`${terminalSafe(line)}\n`);
  print(`actions simulate: ${action} on ${finding.id} (${finding.type}, account ${finding.accountId}, ${finding.region}) as ${values.as}`);
  print(`config: ${configFile}; ${findings.length} findings in the GuardDuty loopback`);
  const { simulateAction } = await import('./actions/simulate/run.ts');
  const result = await simulateAction({ config, action, actor: values.as, finding, findings, print });
  return result.status === 'done' ? 0 : 1;
};

export { runActionsSimulate };
