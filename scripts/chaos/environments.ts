import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Mutation, MutationContext } from './mutations.ts';

/**
 * Execution environments of the deliver Lambda, each a process of its own that handles one
 * event at a time (module state such as the batch processor is per environment, as in
 * Lambda). An invocation that times out is ended as Lambda ends it: the environment is
 * killed (nothing it had in flight happens later) and a fresh one starts.
 */
type EnvironmentRequest = { id: number; event: SQSEvent; timeoutMs: number };
type EnvironmentReply =
  | { type: 'ready' }
  | { type: 'result'; id: number; response: SQSBatchResponse }
  | { type: 'error'; id: number; name: string; message: string };

type Invocation = { ok: true; response: SQSBatchResponse } | { ok: false; timedOut: boolean; error: string };

interface EnvironmentOptions {
  mutation?: Mutation;
  mutationContext: MutationContext;
}

const startEnvironment = async (options: EnvironmentOptions) => {
  let child: ChildProcess;
  let nextId = 1;
  let settle: ((reply: EnvironmentReply | undefined) => void) | undefined;
  const boot = async (): Promise<void> => {
    const argument = JSON.stringify({
      ...(options.mutation ? { mutation: options.mutation } : {}),
      context: { ...options.mutationContext, receiverPorts: [...options.mutationContext.receiverPorts] },
    });
    child = fork(join(import.meta.dirname, 'deliver-environment.ts'), [argument], {
      execArgv: ['--no-warnings=ExperimentalWarning'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      child.on('message', (reply: EnvironmentReply) => {
        if (reply.type === 'ready') resolve();
        else settle?.(reply);
      });
      child.on('exit', (code, signal) => {
        reject(new Error(`deliver environment exited before it was ready (${signal ?? code})`));
        settle?.(undefined);
      });
    });
  };
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await gone;
  };
  await boot();
  return {
    invoke: async (event: SQSEvent, timeoutMs: number): Promise<Invocation> => {
      const id = nextId++;
      const reply = await new Promise<EnvironmentReply | undefined>((resolve) => {
        settle = resolve;
        child.send({ id, event, timeoutMs } satisfies EnvironmentRequest);
      });
      settle = undefined;
      if (reply?.type === 'result') return { ok: true, response: reply.response };
      const timedOut = reply?.type === 'error' && reply.name === 'TimeoutError';
      if (reply === undefined || timedOut) {
        // Lambda ends a timed-out invocation with its environment.
        await kill();
        await boot();
      }
      return { ok: false, timedOut, error: reply?.type === 'error' ? `${reply.name}: ${reply.message}` : 'environment exited' };
    },
    close: kill,
  };
};

type Environment = Awaited<ReturnType<typeof startEnvironment>>;

export { startEnvironment };
export type { Environment, EnvironmentReply, EnvironmentRequest };
