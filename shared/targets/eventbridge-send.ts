import type { EventBridgeClient, PutEventsRequestEntry, PutEventsResponse } from '@aws-sdk/client-eventbridge';
import { DeliveryError } from '../errors.ts';
import type { buildEntry, busRegion, EventBridgeConfig } from './eventbridge.ts';
import { assumedRoleProvider, sessionNameFor, type AssumedRoleProvider } from './eventbridge-credentials.ts';
import { awsCallError, checkPutEventsOutput } from './eventbridge-errors.ts';
import type { checkDestination } from './http.ts';
import type { DeliveryContext, FindingSendJob } from './types.ts';

/**
 * The eventbridge target's send: one PutEvents of the finding's entry to the configured bus,
 * in the bus's region, signed with the function's credentials or the role's (assumed first,
 * within the delivery's deadline). Loaded on first send (eventbridge.ts).
 */

const MIN_TIMEOUT_MS = 50;

const timeLeft = (name: string, delivery: DeliveryContext): number => {
  const timeoutMs = delivery.deadline - Date.now();
  if (timeoutMs < MIN_TIMEOUT_MS) throw new DeliveryError(name, 'no time left for the request', { retryable: true });
  return timeoutMs;
};

/**
 * What send shares with render and with other targets, handed over by eventbridge.ts instead of
 * imported here: esbuild makes this file a lazily loaded chunk of every bundle that imports
 * eventbridge.ts, even one that only reads its spec (route), and code this chunk imports from a
 * file that bundle also imports lands in a chunk that bundle loads at cold start.
 */
interface SenderParts {
  buildEntry: typeof buildEntry;
  busRegion: typeof busRegion;
  checkDestination: typeof checkDestination;
}

const eventBridgeSender = (name: string, config: EventBridgeConfig, { buildEntry, busRegion, checkDestination }: SenderParts) => {
  const role: AssumedRoleProvider | undefined =
    config.roleArn === undefined
      ? undefined
      : assumedRoleProvider({
          roleArn: config.roleArn,
          ...(config.externalId === undefined ? {} : { externalId: config.externalId }),
          sessionName: sessionNameFor(name),
          region: process.env.AWS_REGION || busRegion(config) || 'us-east-1',
        });
  let sdk: Promise<typeof import('../aws/lazy/eventbridge.ts')> | undefined;
  let client: EventBridgeClient | undefined;
  const clientFor = async (region: string): Promise<EventBridgeClient> => {
    const { EventBridgeClient } = await (sdk ??= import('../aws/lazy/eventbridge.ts'));
    // One attempt per delivery: the router's retry policy owns backoff, as for every target.
    client ??= new EventBridgeClient({
      region,
      maxAttempts: 1,
      ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
      // `send` renews the role's credentials before each call; the SDK, whose own refresh
      // window would assume the role a second time, signs with what is held.
      ...(role === undefined ? {} : { credentials: async () => role.current() ?? role.get() }),
    });
    return client;
  };
  /** The secret parts of the credentials in use, to mask in error messages (never sent anywhere). */
  const secretsOf = async (eventBridge: EventBridgeClient): Promise<string[]> => {
    if (role !== undefined) return role.secrets();
    try {
      const identity = await eventBridge.config.credentials();
      return [identity.secretAccessKey, identity.sessionToken ?? ''].filter((secret) => secret.length > 0);
    } catch {
      return [];
    }
  };

  return async (delivery: FindingSendJob): Promise<void> => {
    const region = busRegion(config);
    if (region === undefined) throw new DeliveryError(name, 'no region: give the bus as an ARN, set region, or set AWS_REGION', { retryable: false });
    if (config.endpoint !== undefined) {
      await checkDestination({ target: name, url: config.endpoint, deadline: delivery.deadline, allowPrivateNetwork: config.allowPrivateNetwork === true });
    }
    // The entry render showed, built again from the finding (send never parses what render wrote).
    const { Time: time, ...entry } = buildEntry(delivery.finding, config);
    if (role !== undefined) {
      const timeoutMs = timeLeft(name, delivery);
      try {
        await role.get(timeoutMs);
      } catch (cause) {
        throw awsCallError(name, `AssumeRole ${config.roleArn}`, cause, role.secrets());
      }
    }
    const eventBridge = await clientFor(region);
    const { PutEventsCommand } = await sdk!;
    const wireEntry: PutEventsRequestEntry = {
      ...entry,
      ...(time === undefined ? {} : { Time: new Date(time) }),
    };
    const signal = AbortSignal.timeout(timeLeft(name, delivery));
    let output: PutEventsResponse;
    try {
      output = await eventBridge.send(new PutEventsCommand({ Entries: [wireEntry] }), { abortSignal: signal });
    } catch (cause) {
      throw awsCallError(name, 'PutEvents', cause, await secretsOf(eventBridge), signal.aborted);
    }
    const confirmed = (output.FailedEntryCount ?? 0) === 0 && output.Entries?.length === 1 && Boolean(output.Entries[0]?.EventId);
    if (!confirmed) checkPutEventsOutput(name, config.eventBus, output, await secretsOf(eventBridge));
  };
};

export { eventBridgeSender };
