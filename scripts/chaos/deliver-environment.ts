import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { lambdaContext } from '../../test/helpers/lambda-context.ts';
import { applyMutation, isMutation, type MutationContext } from './mutations.ts';
import type { EnvironmentReply, EnvironmentRequest } from './environments.ts';

/**
 * One execution environment of the deliver Lambda (forked by environments.ts): the real
 * handler, imported once with the run's environment variables, invoked one event at a time
 * as Lambda does. A mutation under test is applied here too, before the import.
 */
const { mutation, context } = JSON.parse(process.argv[2] ?? '{}') as { mutation?: string; context: Omit<MutationContext, 'receiverPorts'> & { receiverPorts: string[] } };
if (mutation !== undefined && isMutation(mutation)) applyMutation(mutation, { ...context, receiverPorts: new Set(context.receiverPorts) });

// Powertools Metrics warns on stderr after every invocation that added no metric: noise here.
const write = process.stderr.write.bind(process.stderr) as (chunk: unknown, ...rest: unknown[]) => boolean;
process.stderr.write = ((chunk: unknown, ...rest: unknown[]) =>
  String(chunk).startsWith('No application metrics to publish') ? true : write(chunk, ...rest)) as typeof process.stderr.write;

// Lambda inits the module outside the invocation's time; the SQS chunk deliver loads on first
// use would otherwise land in a first invocation (a cold one times out on a starved machine).
await import('../../shared/aws/lazy/sqs.ts');
const { handler } = (await import('../../functions/deliver.ts')) as unknown as {
  handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
};

const reply = (message: EnvironmentReply): void => {
  process.send?.(message);
};

process.on('message', async (message: EnvironmentRequest) => {
  try {
    const response = await handler(message.event, lambdaContext('findings-router-deliver', message.timeoutMs));
    reply({ type: 'result', id: message.id, response });
  } catch (error) {
    reply({ type: 'error', id: message.id, name: (error as Error).name, message: String((error as Error).message).slice(0, 300) });
  }
});
process.on('disconnect', () => process.exit(0));
reply({ type: 'ready' });
