import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeClient, ListRulesCommand, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { GetParameterCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { md5OfMessageAttributes, startAwsLoopback } from '../helpers/aws-loopback.ts';
import type { AwsLoopback } from '../helpers/aws-loopback.ts';

/** Run `fn`, expecting it to reject; returns the rejection for assertions. */
async function rejectionOf(fn: () => Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await fn();
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to reject');
}

const finding = (id: string, severity = 8): string =>
  JSON.stringify({ schemaVersion: '2.0', id, type: 'Recon:EC2/PortProbeUnprotectedPort', severity });

describe('aws-loopback (real SDK v3 clients against a wire-protocol loopback)', () => {
  let loopback: AwsLoopback;

  beforeEach(async () => {
    loopback = await startAwsLoopback({
      queues: ['findings', { name: 'findings-dlq' }],
      parameters: {
        '/router/slack-channel': '#sec-alerts',
        '/router/webhook-token': { Value: 'tok-123', Type: 'SecureString' },
      },
      secrets: { 'router/pagerduty': '{"routingKey":"pd-key"}' },
    });
  });

  afterEach(async () => {
    await loopback.close();
  });

  describe('EventBridge PutEvents', () => {
    it('accepts valid entries, returns EventIds and records the parsed events', async () => {
      // Prepare
      const client = new EventBridgeClient(loopback.clientConfig);
      const time = new Date('2024-05-01T12:00:00Z');

      // Act
      const result = await client.send(
        new PutEventsCommand({
          Entries: [
            { Source: 'router', DetailType: 'Finding Routed', Detail: finding('f-1'), EventBusName: 'sec-bus', Time: time },
            { Source: 'router', DetailType: 'Finding Routed', Detail: finding('f-2'), Resources: ['arn:aws:ec2:x'] },
          ],
        }),
      );

      // Assess
      expect(result.FailedEntryCount).toBe(0);
      expect(result.Entries).toHaveLength(2);
      expect(result.Entries?.every((e) => typeof e.EventId === 'string' && e.ErrorCode === undefined)).toBe(true);
      expect(loopback.events.map((e) => e.EventId)).toEqual(result.Entries?.map((e) => e.EventId));
      expect(loopback.events[0]).toMatchObject({ EventBusName: 'sec-bus', Source: 'router', detail: { id: 'f-1' } });
      expect(loopback.events[0]?.Time?.toISOString()).toBe(time.toISOString());
      expect(loopback.events[1]).toMatchObject({ EventBusName: 'default', Resources: ['arn:aws:ec2:x'] });
      const call = loopback.calls[0];
      expect(call).toMatchObject({ service: 'events', operation: 'PutEvents', status: 200 });
      expect(call?.headers['x-amz-target']).toBe('AWSEvents.PutEvents');
      expect(call?.headers['content-type']).toBe('application/x-amz-json-1.1');
      expect(call?.headers['authorization']).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDLOOPBACK\/\d{8}\/us-east-1\/events\/aws4_request/);
    });

    it('reports partial failures per entry, in request order, like the real service', async () => {
      // Prepare
      const client = new EventBridgeClient(loopback.clientConfig);
      loopback.rejectEntries((entry) => String(entry.Detail).includes('"f-throttled"'), {
        ErrorCode: 'ThrottlingException',
        ErrorMessage: 'Rate exceeded',
      });

      // Act
      const result = await client.send(
        new PutEventsCommand({
          Entries: [
            { Source: 'router', DetailType: 'Finding Routed', Detail: finding('f-ok') },
            { Source: 'router', DetailType: 'Finding Routed', Detail: finding('f-throttled') },
            { Source: 'router', DetailType: 'Finding Routed', Detail: 'not-json' },
            { Source: 'router', DetailType: 'Finding Routed', Detail: '[1,2]' },
            { DetailType: 'Finding Routed', Detail: finding('f-nosource') },
          ],
        }),
      );

      // Assess
      expect(result.FailedEntryCount).toBe(4);
      expect(result.Entries?.[0]?.EventId).toBeDefined();
      expect(result.Entries?.slice(1)).toEqual([
        { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' },
        { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
        { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
        {
          ErrorCode: 'InvalidArgument',
          ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.',
        },
      ]);
      expect(loopback.events.map((e) => e.detail['id'])).toEqual(['f-ok']);
    });

    it('rejects more than 10 entries and requests over 256 KB with ValidationException', async () => {
      // Prepare
      const client = new EventBridgeClient(loopback.clientConfig);
      const eleven = Array.from({ length: 11 }, (_, i) => ({ Source: 's', DetailType: 'd', Detail: finding(`f-${i}`) }));
      const big = JSON.stringify({ blob: 'x'.repeat(90 * 1024) });
      const tooBig = Array.from({ length: 3 }, () => ({ Source: 's', DetailType: 'd', Detail: big }));

      // Act
      const tooMany = await rejectionOf(() => client.send(new PutEventsCommand({ Entries: eleven })));
      const tooLarge = await rejectionOf(() => client.send(new PutEventsCommand({ Entries: tooBig })));

      // Assess
      expect(tooMany.name).toBe('ValidationException');
      expect(tooMany.message).toContain('Member must have length less than or equal to 10');
      expect(tooLarge.name).toBe('ValidationException');
      expect(tooLarge.message).toBe('Total size of the entries in the request is over the limit.');
      expect(loopback.events).toHaveLength(0);
    });

    it('surfaces an injected ThrottlingException as an error named ThrottlingException', async () => {
      // Prepare
      const client = new EventBridgeClient(loopback.clientConfig);
      loopback.failNext('PutEvents', { status: 400, code: 'ThrottlingException', message: 'Rate exceeded' });
      const entries = [{ Source: 'router', DetailType: 'Finding Routed', Detail: finding('f-1') }];

      // Act
      const error = await rejectionOf(() => client.send(new PutEventsCommand({ Entries: entries })));
      const retry = await client.send(new PutEventsCommand({ Entries: entries }));

      // Assess
      expect(error.name).toBe('ThrottlingException');
      expect(error.message).toBe('Rate exceeded');
      expect((error.$metadata as { httpStatusCode?: number }).httpStatusCode).toBe(400);
      expect(retry.FailedEntryCount).toBe(0);
      expect(loopback.calls.map((c) => c.status)).toEqual([400, 200]);
    });
  });

  describe('SQS', () => {
    it('SendMessage returns MD5s the SDK accepts, including MD5OfMessageAttributes', async () => {
      // Prepare
      const client = new SQSClient(loopback.clientConfig);
      const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: 'findings' }));

      // Act
      const sent = await client.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: 'derp',
          MessageAttributes: { timestamp: { DataType: 'Number', StringValue: '1493147359900' } },
        }),
      );

      // Assess: values pinned against what AWS returns for this message
      expect(QueueUrl).toBe(`${loopback.endpoint}/000000000000/findings`);
      expect(sent.MD5OfMessageBody).toBe('58fd9edd83341c29f1aebba81c31e257');
      expect(sent.MD5OfMessageAttributes).toBe('235c5c510d26fb653d073faed50ae77c');
      expect(loopback.calls.at(-1)?.headers['x-amz-target']).toBe('AmazonSQS.SendMessage');
      expect(loopback.calls.at(-1)?.headers['content-type']).toBe('application/x-amz-json-1.0');
    });

    it('SendMessageBatch succeeds and stores every message with its attributes', async () => {
      // Prepare
      const client = new SQSClient(loopback.clientConfig);
      const QueueUrl = loopback.queueUrl('findings');

      // Act
      const result = await client.send(
        new SendMessageBatchCommand({
          QueueUrl,
          Entries: [
            {
              Id: 'a',
              MessageBody: finding('f-a'),
              MessageAttributes: {
                severity: { DataType: 'Number', StringValue: '8' },
                raw: { DataType: 'Binary', BinaryValue: new Uint8Array([2, 3, 4]) },
              },
            },
            { Id: 'b', MessageBody: finding('f-b'), DelaySeconds: 5 },
          ],
        }),
      );

      // Assess
      expect(result.Failed ?? []).toEqual([]);
      expect(result.Successful?.map((s) => s.Id)).toEqual(['a', 'b']);
      const stored = loopback.queue('findings').messages;
      expect(stored.map((m) => m.Body)).toEqual([finding('f-a'), finding('f-b')]);
      expect(stored[0]?.MessageAttributes['raw']).toEqual({ DataType: 'Binary', BinaryValue: 'AgME' });
      expect(result.Successful?.[0]?.MD5OfMessageAttributes).toBe(md5OfMessageAttributes(stored[0]?.MessageAttributes ?? {}));
      expect(stored[1]?.DelaySeconds).toBe(5);
    });

    it('SendMessageBatch reports partial failures in Failed[] with Id, SenderFault, Code, Message', async () => {
      // Prepare
      const client = new SQSClient(loopback.clientConfig);
      loopback.rejectBatchEntries((entry) => entry.Id === 'poison', {
        Code: 'InternalError',
        Message: 'We encountered an internal error. Please try again.',
        SenderFault: false,
      });

      // Act
      const result = await client.send(
        new SendMessageBatchCommand({
          QueueUrl: loopback.queueUrl('findings'),
          Entries: [
            { Id: 'ok', MessageBody: finding('f-ok') },
            { Id: 'poison', MessageBody: finding('f-poison') },
            { Id: 'bad-chars', MessageBody: 'bell\u0007' },
          ],
        }),
      );

      // Assess
      expect(result.Successful?.map((s) => s.Id)).toEqual(['ok']);
      expect(result.Failed).toEqual([
        { Id: 'poison', SenderFault: false, Code: 'InternalError', Message: 'We encountered an internal error. Please try again.' },
        expect.objectContaining({ Id: 'bad-chars', SenderFault: true, Code: 'InvalidMessageContents' }),
      ]);
      expect(loopback.queue('findings').messages).toHaveLength(1);
    });

    it('SendMessageBatch with 11 entries, duplicate Ids or > 256 KiB fails with the real error codes', async () => {
      // Prepare
      const client = new SQSClient(loopback.clientConfig);
      const QueueUrl = loopback.queueUrl('findings');
      const eleven = Array.from({ length: 11 }, (_, i) => ({ Id: `m${i}`, MessageBody: finding(`f-${i}`) }));
      const dupes = [
        { Id: 'same', MessageBody: '1' },
        { Id: 'same', MessageBody: '2' },
      ];
      const large = Array.from({ length: 3 }, (_, i) => ({ Id: `big${i}`, MessageBody: 'x'.repeat(100 * 1024) }));

      // Act
      const tooMany = await rejectionOf(() => client.send(new SendMessageBatchCommand({ QueueUrl, Entries: eleven })));
      const notDistinct = await rejectionOf(() => client.send(new SendMessageBatchCommand({ QueueUrl, Entries: dupes })));
      const tooLong = await rejectionOf(() => client.send(new SendMessageBatchCommand({ QueueUrl, Entries: large })));

      // Assess
      expect(tooMany.name).toBe('TooManyEntriesInBatchRequest');
      expect(tooMany['Code']).toBe('AWS.SimpleQueueService.TooManyEntriesInBatchRequest');
      expect(tooMany.message).toBe('Maximum number of entries per request are 10. You have sent 11.');
      expect(notDistinct.name).toBe('BatchEntryIdsNotDistinct');
      expect(tooLong.name).toBe('BatchRequestTooLong');
      expect(loopback.calls.at(-1)?.status).toBe(400);
      expect(loopback.queue('findings').messages).toHaveLength(0);
    });

    it('honours DelaySeconds and visibility across receive / change visibility / delete', async () => {
      // Prepare
      const client = new SQSClient(loopback.clientConfig);
      const QueueUrl = loopback.queueUrl('findings');
      await client.send(new SendMessageCommand({ QueueUrl, MessageBody: finding('f-now') }));
      await client.send(new SendMessageCommand({ QueueUrl, MessageBody: finding('f-later'), DelaySeconds: 30 }));
      const receive = () =>
        client.send(
          new ReceiveMessageCommand({
            QueueUrl,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: 60,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
            MessageAttributeNames: ['All'],
          }),
        );
      const depth = async () =>
        (await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] })))
          .Attributes?.['ApproximateNumberOfMessages'];

      // Act + Assess: only the undelayed message is visible
      const first = await receive();
      expect(first.Messages?.map((m) => m.Body)).toEqual([finding('f-now')]);
      expect(first.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('1');
      expect(await depth()).toBe('0');
      expect(await receive()).not.toHaveProperty('Messages');

      // Act + Assess: after the delay the second one appears; the first is still in flight
      loopback.advanceTime(31_000);
      const second = await receive();
      expect(second.Messages?.map((m) => m.Body)).toEqual([finding('f-later')]);

      // Act + Assess: making the first visible again redelivers it with a new receipt handle
      await client.send(
        new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: first.Messages?.[0]?.ReceiptHandle, VisibilityTimeout: 0 }),
      );
      expect(await depth()).toBe('1');
      const again = await receive();
      expect(again.Messages?.[0]?.Body).toBe(finding('f-now'));
      expect(again.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
      expect(again.Messages?.[0]?.ReceiptHandle).not.toBe(first.Messages?.[0]?.ReceiptHandle);

      // Act + Assess: delete both; the queue is empty and the deletions are recorded
      await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: again.Messages?.[0]?.ReceiptHandle }));
      const batch = await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl,
          Entries: [
            { Id: 'later', ReceiptHandle: second.Messages?.[0]?.ReceiptHandle },
            { Id: 'bogus', ReceiptHandle: 'not-a-handle' },
          ],
        }),
      );
      expect(batch.Successful?.map((s) => s.Id)).toEqual(['later']);
      expect(batch.Failed).toEqual([expect.objectContaining({ Id: 'bogus', Code: 'ReceiptHandleIsInvalid', SenderFault: true })]);
      expect(loopback.queue('findings').messages).toHaveLength(0);
      expect(loopback.queue('findings').deleted.map((m) => m.Body)).toEqual([finding('f-now'), finding('f-later')]);
      loopback.advanceTime(120_000);
      expect(await depth()).toBe('0');
    });

    it('returns message attributes with a matching MD5OfMessageAttributes on receive', async () => {
      // Prepare
      const client = new SQSClient(loopback.clientConfig);
      const QueueUrl = loopback.queueUrl('findings');
      await client.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: 'this is a test message',
          MessageAttributes: {
            timestamp: { DataType: 'Number', StringValue: '1493147359900' },
            other: { DataType: 'String', StringValue: 'ignored' },
          },
        }),
      );

      // Act
      const received = await client.send(
        new ReceiveMessageCommand({ QueueUrl, MessageAttributeNames: ['timestamp'] }),
      );

      // Assess
      const message = received.Messages?.[0];
      expect(message?.MessageAttributes).toEqual({ timestamp: { DataType: 'Number', StringValue: '1493147359900' } });
      expect(message?.MD5OfMessageAttributes).toBe('235c5c510d26fb653d073faed50ae77c');
    });

    it('answers QueueDoesNotExist for unknown queues', async () => {
      // Prepare
      const client = new SQSClient(loopback.clientConfig);

      // Act
      const error = await rejectionOf(() => client.send(new GetQueueUrlCommand({ QueueName: 'nope' })));

      // Assess
      expect(error.name).toBe('QueueDoesNotExist');
      expect(error['Code']).toBe('AWS.SimpleQueueService.NonExistentQueue');
    });
  });

  describe('SSM', () => {
    it('GetParameter returns the value, decrypting SecureString only WithDecryption', async () => {
      // Prepare
      const client = new SSMClient(loopback.clientConfig);

      // Act
      const plain = await client.send(new GetParameterCommand({ Name: '/router/slack-channel' }));
      const encrypted = await client.send(new GetParameterCommand({ Name: '/router/webhook-token' }));
      const decrypted = await client.send(new GetParameterCommand({ Name: '/router/webhook-token', WithDecryption: true }));
      const many = await client.send(new GetParametersCommand({ Names: ['/router/slack-channel', '/router/missing'] }));

      // Assess
      expect(plain.Parameter).toMatchObject({ Name: '/router/slack-channel', Type: 'String', Value: '#sec-alerts', Version: 1 });
      expect(plain.Parameter?.LastModifiedDate).toBeInstanceOf(Date);
      expect(encrypted.Parameter?.Type).toBe('SecureString');
      expect(encrypted.Parameter?.Value).not.toBe('tok-123');
      expect(decrypted.Parameter?.Value).toBe('tok-123');
      expect(many.Parameters?.map((p) => p.Name)).toEqual(['/router/slack-channel']);
      expect(many.InvalidParameters).toEqual(['/router/missing']);
      expect(loopback.calls[0]?.headers['x-amz-target']).toBe('AmazonSSM.GetParameter');
    });

    it('GetParameter on a missing name fails with ParameterNotFound', async () => {
      // Prepare
      const client = new SSMClient(loopback.clientConfig);

      // Act
      const error = await rejectionOf(() => client.send(new GetParameterCommand({ Name: '/router/missing' })));

      // Assess
      expect(error.name).toBe('ParameterNotFound');
      expect(loopback.calls[0]).toMatchObject({ status: 400, errorCode: 'ParameterNotFound' });
    });
  });

  describe('Secrets Manager', () => {
    it('GetSecretValue returns the SecretString by name and by ARN', async () => {
      // Prepare
      const client = new SecretsManagerClient(loopback.clientConfig);

      // Act
      const byName = await client.send(new GetSecretValueCommand({ SecretId: 'router/pagerduty' }));
      const byArn = await client.send(new GetSecretValueCommand({ SecretId: byName.ARN }));

      // Assess
      expect(byName.SecretString).toBe('{"routingKey":"pd-key"}');
      expect(byName.Name).toBe('router/pagerduty');
      expect(byName.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:router\/pagerduty-[A-Za-z0-9]{6}$/);
      expect(byName.VersionStages).toEqual(['AWSCURRENT']);
      expect(byArn.SecretString).toBe(byName.SecretString);
      expect(loopback.calls[0]?.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    });

    it('GetSecretValue on a missing secret fails with ResourceNotFoundException', async () => {
      // Prepare
      const client = new SecretsManagerClient(loopback.clientConfig);

      // Act
      const error = await rejectionOf(() => client.send(new GetSecretValueCommand({ SecretId: 'router/missing' })));

      // Assess
      expect(error.name).toBe('ResourceNotFoundException');
      expect(error.message).toBe("Secrets Manager can't find the specified secret.");
    });
  });

  describe('authentication and unexpected calls', () => {
    it('rejects a request without SigV4 authorization', async () => {
      // Prepare
      const body = JSON.stringify({ Entries: [{ Source: 's', DetailType: 'd', Detail: '{}' }] });

      // Act
      const response = await fetch(`${loopback.endpoint}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
        body,
      });

      // Assess
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({
        __type: 'MissingAuthenticationTokenException',
        message: 'Missing Authentication Token',
      });
      expect(loopback.events).toHaveLength(0);
      expect(loopback.calls[0]).toMatchObject({ operation: 'PutEvents', status: 403 });
    });

    it('rejects a request signed with the wrong secret key', async () => {
      // Prepare
      const client = new SSMClient({
        ...loopback.clientConfig,
        credentials: { accessKeyId: 'AKIDLOOPBACK', secretAccessKey: 'wrong-secret' },
      });

      // Act
      const error = await rejectionOf(() => client.send(new GetParameterCommand({ Name: '/router/slack-channel' })));

      // Assess
      expect(error.name).toBe('InvalidSignatureException');
    });

    it('answers operations it does not implement with UnknownOperationException', async () => {
      // Prepare
      const client = new EventBridgeClient(loopback.clientConfig);

      // Act
      const error = await rejectionOf(() => client.send(new ListRulesCommand({})));

      // Assess
      expect(error.name).toBe('UnknownOperationException');
      expect(loopback.calls[0]).toMatchObject({ service: 'events', operation: 'ListRules', status: 400 });
    });
  });
});
