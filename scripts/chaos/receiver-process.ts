import { startFaultReceiver, type FaultReceiver } from '../../test/helpers/fault-receiver.ts';
import { answerFor } from './plan.ts';
import type { ReceiverReply, ReceiverRequest } from './receivers.ts';

/**
 * The chaos run's receivers, in a process of their own (forked by receivers.ts): one fault
 * receiver per target, answering as the seeded plan says. The parent talks over IPC: the
 * queue clock's offset (Retry-After is judged on the clock the queue runs on), the keys the
 * router reported done, and the ledgers at the end.
 */
const { seed, targets } = JSON.parse(process.argv[2] ?? '{}') as { seed: number; targets: string[] };
let clockOffsetMs = 0;
const now = () => Date.now() + clockOffsetMs;

const receivers = new Map<string, FaultReceiver>();
for (const target of targets) {
  receivers.set(target, await startFaultReceiver({ answer: (update, index) => answerFor(seed, { target, ...update }, index), now }));
}

const reply = (message: ReceiverReply): void => {
  process.send?.(message);
};

process.on('message', async (message: ReceiverRequest) => {
  switch (message.type) {
    case 'clock':
      clockOffsetMs = message.offsetMs;
      return reply({ type: 'ack', id: message.id });
    case 'done':
      receivers.get(message.target)?.markDone(message.keys);
      return reply({ type: 'ack', id: message.id });
    case 'ledger':
      return reply({
        type: 'ledger',
        id: message.id,
        ledgers: Object.fromEntries([...receivers].map(([name, r]) => [name, { entries: r.ledger(), malformed: r.malformed() }])),
      });
    case 'close':
      await Promise.all([...receivers.values()].map((r) => r.close()));
      process.disconnect?.();
      return;
  }
});
// The parent went away: nothing left to serve.
process.on('disconnect', () => process.exit(0));

reply({ type: 'ready', origins: Object.fromEntries([...receivers].map(([name, r]) => [name, r.origin])) });
