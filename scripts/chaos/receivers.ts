import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { LedgerEntry, Malformed } from '../../test/helpers/fault-receiver.ts';

/** The parent's side of receiver-process.ts: fork, wait for the origins, ask and wait for acks. */
type ReceiverRequest =
  | { type: 'clock'; id: number; offsetMs: number }
  | { type: 'done'; id: number; target: string; keys: string[] }
  | { type: 'ledger'; id: number }
  | { type: 'close' };

interface ReceiverLedger {
  entries: LedgerEntry[];
  malformed: Malformed;
}

type ReceiverReply =
  | { type: 'ready'; origins: Record<string, string> }
  | { type: 'ack'; id: number }
  | { type: 'ledger'; id: number; ledgers: Record<string, ReceiverLedger> };

class ReceiverProcessError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReceiverProcessError';
  }
}

const startReceiverProcess = async (options: { seed: number; targets: readonly string[] }) => {
  const child = fork(join(import.meta.dirname, 'receiver-process.ts'), [JSON.stringify(options)], {
    execArgv: ['--no-warnings=ExperimentalWarning'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, (reply: ReceiverReply) => void>();
  let nextId = 1;
  let exited: Error | undefined;
  const origins = await new Promise<Record<string, string>>((resolve, reject) => {
    child.on('message', (reply: ReceiverReply) => {
      if (reply.type === 'ready') resolve(reply.origins);
      else pending.get(reply.id)?.(reply);
    });
    child.on('exit', (code, signal) => {
      exited = new ReceiverProcessError(`receiver process exited (${signal ?? code})`);
      reject(exited);
      for (const settle of pending.values()) settle({ type: 'ack', id: -1 });
    });
  });
  type Question = { type: 'clock'; offsetMs: number } | { type: 'done'; target: string; keys: string[] } | { type: 'ledger' };
  const ask = <R extends ReceiverReply>(request: Question): Promise<R> => {
    if (exited) return Promise.reject(exited);
    const id = nextId++;
    return new Promise<R>((resolve, reject) => {
      pending.set(id, (reply) => {
        pending.delete(id);
        if (reply.type === 'ack' && reply.id === -1) reject(exited);
        else resolve(reply as R);
      });
      child.send({ ...request, id } as ReceiverRequest);
    });
  };
  return {
    origins,
    setClockOffset: async (offsetMs: number) => void (await ask({ type: 'clock', offsetMs })),
    markDone: async (target: string, keys: string[]) => void (await ask({ type: 'done', target, keys })),
    ledgers: async () => (await ask<Extract<ReceiverReply, { type: 'ledger' }>>({ type: 'ledger' })).ledgers,
    close: async () => {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ type: 'close' } satisfies ReceiverRequest);
      const timer = setTimeout(() => child.kill(), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
};

export { startReceiverProcess };
export type { ReceiverLedger, ReceiverReply, ReceiverRequest };
