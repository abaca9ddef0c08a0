import type { GroupDirectory } from './engine.ts';
import { readBounded } from './slack-respond.ts';

/**
 * Slack user group membership for `slackUserGroups` allow-lists, read with the Web API method
 * `usergroups.users.list` (bot token scope `usergroups:read`) and cached for five minutes: a
 * person removed from a group loses the buttons within that time. A lookup that fails denies
 * (the error is thrown; the engine answers "not permitted" only for a clean "not a member").
 */
const CACHE_MS = 5 * 60_000;
const MAX_RESPONSE_BYTES = 1024 * 1024;
const TIMEOUT_MS = 2_000;

class SlackGroupLookupError extends Error {
  override name = 'SlackGroupLookupError';
}

const slackGroupDirectory = (token: () => Promise<string>, options: { apiBase?: string; now?: () => number } = {}): GroupDirectory => {
  const apiBase = options.apiBase ?? 'https://slack.com/api';
  const now = options.now ?? Date.now;
  const cache = new Map<string, { members: ReadonlySet<string>; until: number }>();
  return {
    members: async (groupId) => {
      const cached = cache.get(groupId);
      if (cached !== undefined && cached.until > now()) return cached.members;
      const response = await fetch(`${apiBase}/usergroups.users.list?usergroup=${encodeURIComponent(groupId)}`, {
        headers: { authorization: `Bearer ${await token()}` },
        redirect: 'error',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      // One byte over the bound: a cut answer fails to parse instead of passing as a shorter list.
      const text = await readBounded(response, MAX_RESPONSE_BYTES + 1);
      if (Buffer.byteLength(text) > MAX_RESPONSE_BYTES) throw new SlackGroupLookupError(`usergroups.users.list answer is over ${MAX_RESPONSE_BYTES} bytes`);
      let body: { ok?: unknown; users?: unknown; error?: unknown };
      try {
        body = JSON.parse(text);
      } catch (cause) {
        throw new SlackGroupLookupError(`usergroups.users.list answered HTTP ${response.status} with no JSON`, { cause });
      }
      if (body.ok !== true || !Array.isArray(body.users)) throw new SlackGroupLookupError(`usergroups.users.list failed: ${String(body.error ?? response.status).slice(0, 60)}`);
      const members = new Set(body.users.filter((u): u is string => typeof u === 'string'));
      cache.set(groupId, { members, until: now() + CACHE_MS });
      return members;
    },
  };
};

export { slackGroupDirectory };
