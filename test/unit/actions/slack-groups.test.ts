import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackGroupDirectory } from '../../../shared/actions/slack-groups.ts';

/** A loopback answering like Slack's usergroups.users.list (the token checked, the group read from the query). */
const requests: { url: string; authorization?: string }[] = [];
let answer: (group: string) => { status: number; body: string } = () => ({ status: 200, body: '{"ok":true,"users":[]}' });
const server = createServer((req, res) => {
  requests.push({ url: req.url ?? '', authorization: req.headers.authorization });
  const group = new URL(req.url ?? '/', 'http://x').searchParams.get('usergroup') ?? '';
  const { status, body } = req.headers.authorization === 'Bearer xoxb-test' ? answer(group) : { status: 200, body: '{"ok":false,"error":"invalid_auth"}' };
  res.writeHead(status, { 'content-type': 'application/json' }).end(body);
});
let apiBase = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('Slack user groups', () => {
  it('reads the members of a group with the bot token and caches them for five minutes', async () => {
    answer = (group) => ({ status: 200, body: JSON.stringify({ ok: true, users: group === 'S0SOC' ? ['U0ALICE', 'U0BOB'] : [] }) });
    let now = 0;
    const directory = slackGroupDirectory(async () => 'xoxb-test', { apiBase, now: () => now });
    requests.length = 0;
    expect([...(await directory.members('S0SOC'))]).toEqual(['U0ALICE', 'U0BOB']);
    now += 4 * 60_000;
    await directory.members('S0SOC');
    expect(requests).toHaveLength(1);
    expect(requests[0]).toEqual({ url: '/api/usergroups.users.list?usergroup=S0SOC', authorization: 'Bearer xoxb-test' });
    now += 2 * 60_000;
    await directory.members('S0SOC');
    expect(requests).toHaveLength(2);
  });

  it('throws on a Slack error (the engine then denies), naming the error word only', async () => {
    const directory = slackGroupDirectory(async () => 'xoxb-wrong', { apiBase });
    await expect(directory.members('S0SOC')).rejects.toThrow(/usergroups.users.list failed: invalid_auth/);
  });

  it('refuses an answer over 1 MiB rather than read it whole', async () => {
    answer = () => ({ status: 200, body: JSON.stringify({ ok: true, users: Array.from({ length: 120_000 }, (_, i) => `U${String(i).padStart(8, '0')}`) }) });
    const directory = slackGroupDirectory(async () => 'xoxb-test', { apiBase });
    await expect(directory.members('S0BIG')).rejects.toThrow(/over 1048576 bytes/);
  });
});
