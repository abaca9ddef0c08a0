import { createRequire, syncBuiltinESMExports } from 'node:module';
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { uniform } from './plan.ts';

/**
 * Known bugs the reconciliation must catch (`npm run chaos -- --self-test`). Each is put in
 * at a seam the production code already has, never by editing it: the SQS client's send
 * (route stage), the deliver function's receive budget (its MAX_RECEIVES setting), node:http
 * as the transport imports it, and Powertools' own switch for idempotency. Applied before
 * the handlers are imported, in a process that runs nothing else.
 */
const MUTATIONS = {
  'drop-job': 'the route stage silently drops 7% of the delivery jobs it sends',
  'dead-letter-transients': 'deliver dead-letters a transient failure instead of handing it back (receive budget 1)',
  'break-transport': 'the node:http transport reads every target status as 200',
  'no-idempotency': 'deliver runs without its idempotency records',
} as const;
type Mutation = keyof typeof MUTATIONS;

const isMutation = (name: string): name is Mutation => Object.hasOwn(MUTATIONS, name);

interface MutationContext {
  seed: number;
  deliveryQueueUrl: string;
  /** Ports of the receivers: the broken transport misreads only their answers. */
  receiverPorts: ReadonlySet<string>;
}

const DROP_SHARE = 0.07;

const applyMutation = (mutation: Mutation, context: MutationContext): void => {
  switch (mutation) {
    case 'drop-job': {
      const send = SQSClient.prototype.send as (this: SQSClient, command: unknown, ...rest: unknown[]) => Promise<unknown>;
      SQSClient.prototype.send = function (this: SQSClient, command: unknown, ...rest: unknown[]) {
        if (command instanceof SendMessageBatchCommand && command.input.QueueUrl === context.deliveryQueueUrl) {
          const kept = (command.input.Entries ?? []).filter((entry) => uniform(context.seed, 'drop', entry.MessageBody ?? '') >= DROP_SHARE);
          if (kept.length === 0) return Promise.resolve({ Successful: [], Failed: [], $metadata: {} });
          return send.call(this, new SendMessageBatchCommand({ ...command.input, Entries: kept }), ...rest);
        }
        return send.call(this, command, ...rest);
      } as typeof SQSClient.prototype.send;
      return;
    }
    case 'dead-letter-transients':
      process.env.MAX_RECEIVES = '1';
      return;
    case 'break-transport': {
      // node:http's ES module exports follow its CommonJS object once synced: the transport's
      // `import { request } from 'node:http'` then calls this wrapper.
      const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');
      const request = http.request;
      http.request = ((url: URL, options: RequestOptions, callback?: (response: IncomingMessage) => void): ClientRequest => {
        if (!(url instanceof URL) || !context.receiverPorts.has(url.port)) return (request as Function)(url, options, callback);
        return request(url, options, (response) => {
          response.statusCode = 200;
          callback?.(response);
        });
      }) as typeof http.request;
      syncBuiltinESMExports();
      return;
    }
    case 'no-idempotency':
      process.env.POWERTOOLS_IDEMPOTENCY_DISABLED = 'true';
      return;
  }
};

export { MUTATIONS, applyMutation, isMutation };
export type { Mutation, MutationContext };
