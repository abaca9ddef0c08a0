import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetFindingsCommand, GuardDutyClient } from '@aws-sdk/client-guardduty';
import { describe, expect, it } from 'vitest';
import { fromApiFinding } from '../../../shared/input/api-finding.ts';
import { validateEvent } from '../../../shared/validate.ts';

/**
 * The same GetFindings response (test/events/api/get-findings.wire.json) as the real clients
 * print or return it (built by test/events/api/build.py against a loopback endpoint).
 * Converted back, each finding must equal the wire finding, field by field.
 */
const API_DIR = new URL('../../events/api/', import.meta.url);
const readJson = (name: string): Record<string, unknown[]> => JSON.parse(readFileSync(new URL(name, API_DIR), 'utf8'));
const wire = readJson('get-findings.wire.json').findings as Record<string, unknown>[];

/** Every leaf of a JSON value by its path, so a difference names the field. */
const leaves = (value: unknown, path = '$', out = new Map<string, unknown>()): Map<string, unknown> => {
  if (Array.isArray(value)) value.forEach((item, index) => leaves(item, `${path}[${index}]`, out));
  else if (typeof value === 'object' && value !== null) for (const [key, item] of Object.entries(value)) leaves(item, `${path}.${key}`, out);
  else out.set(path, value);
  return out;
};

const expectSameFields = (converted: unknown, expected: unknown) => {
  const got = leaves(converted);
  const want = leaves(expected);
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [path, value] of want) expect({ path, value: got.get(path) }).toEqual({ path, value });
};

describe('GetFindings output of the real clients → wire form', () => {
  it('the fixtures hold ten findings in wire form, every one a valid finding with timestamp members as epoch seconds', () => {
    expect(wire).toHaveLength(10);
    for (const finding of wire) expect(validateEvent(finding).kind).toBe('finding');
    const timestampMembers = [...leaves(wire)].filter(([path]) => /(s3BucketDetails\[\d+\]|eksClusterDetails|lambdaDetails|process|signals\[\d+\])\.(createdAt|startTime|lastModifiedAt)$/.test(path));
    expect(timestampMembers.length).toBeGreaterThan(3);
    for (const [path, value] of timestampMembers) expect({ path, type: typeof value }).toEqual({ path, type: 'number' });
  });

  it.each(['get-findings.cli-v1.json', 'get-findings.cli-iso8601.json', 'get-findings.boto3.json', 'get-findings.sdk-js.json'])(
    '%s: each finding converts to the wire finding, field by field',
    (file) => {
      // Prepare
      const output = readJson(file);
      // Act
      const converted = output.Findings!.map(fromApiFinding);
      // Assess
      expect(converted).toHaveLength(wire.length);
      converted.forEach((finding, index) => expectSameFields(finding, wire[index]));
      expect(leaves(converted).size).toBeGreaterThan(700);
    },
  );

  it('the SDK for JavaScript v3 in memory (Date objects): converts to the wire finding, field by field', async () => {
    // Prepare: a loopback endpoint answering GetFindings with the wire body, as GuardDuty would
    const body = readFileSync(new URL('get-findings.wire.json', API_DIR));
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const ok = request.method === 'POST' && request.url === '/detector/d1/findings/get';
        response.writeHead(ok ? 200 : 404, { 'content-type': 'application/json', 'x-amzn-requestid': 'r1' });
        response.end(ok ? body : '{"message":"not found"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new GuardDutyClient({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDLOOPBACK', secretAccessKey: 'loopback-secret' },
      maxAttempts: 1,
    });
    try {
      // Act
      const output = await client.send(new GetFindingsCommand({ DetectorId: 'd1', FindingIds: wire.map((f) => String(f.id)) }));
      // Assess
      expect(output.Findings!.some((f) => f.Resource?.S3BucketDetails?.[0]?.CreatedAt instanceof Date)).toBe(true);
      output.Findings!.forEach((finding, index) => expectSameFields(fromApiFinding(finding), wire[index]));
    } finally {
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
