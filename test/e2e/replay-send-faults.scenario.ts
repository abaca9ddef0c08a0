import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Mode, ReceiverLedgers, Reply } from './replay-send-faults.receiver.ts';

/**
 * The `replay --send` fault scenario: findings (several updates each, in updatedAt order,
 * interleaved), a routes file with a webhook (unordered) and a PagerDuty target (one alert
 * per finding: ordered) behind loopback receivers in another process.
 */
const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
const UPDATES_PER_FINDING = 3;

/** Finding ids in input order: `count` updates in all; ids starting with `doomed-` never succeed. */
const findingIds = (findings: number, doomed: { fail503: number; fail400: number }): string[] => [
  ...Array.from({ length: doomed.fail503 }, (_, i) => `doomed-503-${i}`),
  ...Array.from({ length: doomed.fail400 }, (_, i) => `doomed-400-${i}`),
  ...Array.from({ length: findings - doomed.fail503 - doomed.fail400 }, (_, i) => `finding-${String(i).padStart(3, '0')}`),
];

const finding = (id: string, update: number) => ({
  schemaVersion: '2.0',
  accountId: '111111111111',
  region: 'us-east-1',
  partition: 'aws',
  id,
  arn: `arn:aws:guardduty:us-east-1:111111111111:detector/d1/finding/${id}`,
  type: 'UnauthorizedAccess:EC2/SSHBruteForce',
  resource: { resourceType: 'Instance', instanceDetails: { instanceId: 'i-0abc', tags: [{ key: 'env', value: 'prod' }] } },
  service: { serviceName: 'guardduty', count: update + 1, archived: false, additionalInfo: {} },
  severity: 5,
  createdAt: '2026-11-01T10:00:00.000Z',
  updatedAt: new Date(Date.UTC(2026, 10, 1, 10, update)).toISOString(),
  title: 'Test finding',
  description: 'A finding for tests',
});

/**
 * `events` findings as JSON lines: groups of five findings whose updates alternate
 * (a0 b0 c0 d0 e0 a1 b1 …), so updates of one finding are a few lines apart, inside any
 * concurrency window.
 */
const writeScenario = (dir: string, options: { events: number; doomed: { fail503: number; fail400: number }; origins: { webhook: string; pagerduty: string } }) => {
  const ids = findingIds(Math.ceil(options.events / UPDATES_PER_FINDING), options.doomed);
  const lines: string[] = [];
  for (let start = 0; start < ids.length; start += 5) {
    const group = ids.slice(start, start + 5);
    for (let update = 0; update < UPDATES_PER_FINDING; update++) for (const id of group) lines.push(JSON.stringify(finding(id, update)));
  }
  const input = join(dir, 'findings.jsonl');
  writeFileSync(input, `${lines.slice(0, options.events).join('\n')}\n`);
  const routes = join(dir, 'routes.yml');
  writeFileSync(
    routes,
    [
      'targets:',
      `  hook: { type: webhook, url: "${options.origins.webhook}/hook", allowPrivateNetwork: true }`,
      `  pager: { type: pagerduty, routingKey: { env: PD_ROUTING_KEY }, url: "${options.origins.pagerduty}", allowPrivateNetwork: true, rateLimit: { perSecond: 1000, burst: 1000 } }`,
      'default:',
      '  targets: [hook, pager]',
      'routes:',
      '  - name: everything',
      '    match: { severity: { min: 0 } }',
      '    targets: [hook, pager]',
      '    notify: { on: [new, any-update] }',
      '',
    ].join('\n'),
  );
  return { input, routes, events: lines.slice(0, options.events).map((line) => JSON.parse(line) as { id: string; updatedAt: string }) };
};

/** The receivers in a child process (Node strips the types; IPC for the ledgers). */
const startReceivers = async (mode: Mode, seed = 14) => {
  const child = fork(join(import.meta.dirname, 'replay-send-faults.receiver.ts'), [JSON.stringify({ mode, seed })], {
    execArgv: ['--no-warnings=ExperimentalWarning'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T extends Reply['type']>(type: T) =>
    new Promise<Extract<Reply, { type: T }>>((resolve, reject) => {
      const onMessage = (message: Reply) => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        resolve(message as Extract<Reply, { type: T }>);
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`receiver process exited (${code})`)));
    });
  const ready = await next('ready');
  return {
    origins: { webhook: ready.webhook, pagerduty: ready.pagerduty },
    ledgers: async (): Promise<ReceiverLedgers> => {
      const answer = next('ledgers');
      child.send({ type: 'ledgers' });
      return (await answer).ledgers;
    },
    close: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ type: 'close' });
      const timer = setTimeout(() => child.kill(), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
};

export { writeScenario, startReceivers, ROUTING_KEY };
