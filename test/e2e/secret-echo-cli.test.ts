import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenLoopback, readBody } from '../helpers/receiver-kit.ts';
import { runBin } from '../helpers/run-bin.ts';

/**
 * `replay --send --json --report` against a receiver that echoes the webhook's secrets (URL
 * password, path token, the Basic header node:http builds from the URL) across the 300-character
 * snippet cut, one form per finding: no piece of eight characters of any of them reaches the
 * --json records, stderr or the report page.
 */
const PUBLISHED = join(import.meta.dirname, '../events/published');
const PASSWORD = 'cli-hook-p4ss-7d3e9a1c';
const PATH_TOKEN = 'cliTk8Qm3Lw2Zp6Xv9Rn4Bs1';
const BASIC = Buffer.from(`hook-user:${PASSWORD}`, 'utf8').toString('base64');
const SECRETS = [PASSWORD, PATH_TOKEN, BASIC];

/** Each secret in each form, then padded so that the cut lands inside one of the repeats. */
const BODIES = SECRETS.flatMap((secret) => [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')]).flatMap((form) =>
  [0, 5, 11].map((pad) => `${'x'.repeat(pad)}${`${form} `.repeat(Math.ceil(420 / (form.length + 1)))}`),
);

const pieces = (secret: string): string[] => Array.from({ length: secret.length - 7 }, (_, i) => secret.slice(i, i + 8));
const leaks = (text: string): string[] => SECRETS.flatMap(pieces).filter((piece) => text.includes(piece));

const run = (args: string[], cwd: string) => runBin(args, { cwd, env: process.env });

let origin = '';
let close: () => Promise<void> = async () => undefined;
let served = 0;
beforeAll(async () => {
  const server = await listenLoopback(
    createServer(async (req, res) => {
      await readBody(req);
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(BODIES[served++ % BODIES.length]);
    }),
  );
  origin = server.origin;
  close = server.close;
});
afterAll(() => close());

describe('CLI: secrets echoed by a receiver', () => {
  it('replay --send --json --report: no piece of a secret in the records, stderr or the report', async () => {
    // Prepare: one finding per echoed body (distinct ids), a webhook with credentials and a token in its URL
    const cwd = mkdtempSync(join(tmpdir(), 'secret-echo-'));
    const event = JSON.parse(readFileSync(join(PUBLISHED, 'ssh-bruteforce.sample.eventbridge.json'), 'utf8'));
    const events = BODIES.map((_, i) => JSON.stringify({ ...event, detail: { ...event.detail, id: `echo-${i}` } }));
    writeFileSync(join(cwd, 'events.jsonl'), `${events.join('\n')}\n`);
    const url = `${origin.replace('http://', `http://hook-user:${PASSWORD}@`)}/hooks/${PATH_TOKEN}`;
    writeFileSync(join(cwd, 'routes.yml'), `targets:\n  hook: { type: webhook, url: "${url}", allowPrivateNetwork: true }\ndefault: { targets: [hook] }\nroutes: []\n`);

    // Act
    const { stdout, stderr } = await run(['replay', '--send', '--json', '--report', 'report.html', '--routes', 'routes.yml', 'events.jsonl'], cwd);

    // Assess
    const records = stdout.trim().split('\n').map((line) => JSON.parse(line) as { outcome: string; reason: string | null });
    expect(records.map((r) => r.outcome)).toEqual(BODIES.map(() => 'failed'));
    expect(records.every((r) => r.reason?.includes('HTTP 400 rejected') && r.reason.includes('[REDACTED]'))).toBe(true);
    expect(leaks(stdout)).toEqual([]);
    expect(leaks(stderr)).toEqual([]);
    const report = readFileSync(join(cwd, 'report.html'), 'utf8');
    expect(report).toContain('HTTP 400 rejected');
    expect(leaks(report)).toEqual([]);
  });
});
