import * as z from 'zod/mini';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { compileActionsPolicy, directlyAllowed } from '../../../../shared/actions/config.ts';
import { archivesOn, SYNC_BACK_KNOWN_KEYS, SyncBackConfigSchema, type SyncBackConfig } from '../../../../shared/actions/sync/config.ts';
import { formatProblem } from '../../../../shared/errors.ts';
import { zodProblems } from '../../../../shared/config/problems.ts';
import { parseYamlSource } from '../../../../shared/config/yaml-source.ts';

/** The lines `config check` prints for this block, written as YAML (path relative to syncBack). */
const problems = (value: unknown): string[] => {
  const source = parseYamlSource(stringify(value), 'routes.yml');
  const parsed = z.safeParse(SyncBackConfigSchema, source.value);
  return parsed.success ? [] : zodProblems(parsed.error, source, SYNC_BACK_KNOWN_KEYS).map((problem) => formatProblem(problem).replace(/^routes\.yml:\d+:\d+: /, ''));
};

describe('actions.syncBack schema', () => {
  it('accepts each service with a secret reference', () => {
    expect(
      problems({
        pagerduty: { archiveOnResolve: true, signingSecret: { ssm: '/router/pagerduty-webhook' } },
        opsgenie: { archiveOnClose: true, secret: { secretsManager: 'router/opsgenie-webhook' }, header: 'X-Sync-Token' },
        jira: { archiveOnDone: false, secret: { env: 'JIRA_WEBHOOK_SECRET' } },
      }),
    ).toEqual([]);
    expect(problems({})).toEqual([]);
  });

  it('refuses a misspelt key, naming it', () => {
    expect(problems({ pagerduty: { archiveOnResolved: true, archiveOnResolve: true, signingSecret: { env: 'X' } } })).toEqual([
      "unknown key 'archiveOnResolved' (did you mean 'archiveOnResolve'?)",
    ]);
    expect(problems({ servicenow: {} })).toEqual(["unknown key 'servicenow'"]);
  });

  it('refuses a service without its secret, and a secret written in clear as a string', () => {
    expect(problems({ jira: { archiveOnDone: true } })).toEqual([
      'jira.secret: missing: the webhook secret as a reference ({ env: NAME }, { ssm: /parameter/name } or { secretsManager: secret-id })',
    ]);
    const inClear = problems({ pagerduty: { archiveOnResolve: true, signingSecret: 'whsec-in-clear' } });
    expect(inClear).toEqual([expect.stringMatching(/^pagerduty\.signingSecret: a secret is never written in the file: give a reference /)]);
    expect(inClear.join('\n')).not.toContain('whsec-in-clear');
  });

  it('requires the switch to be spelled out (no silent default)', () => {
    expect(problems({ opsgenie: { secret: { env: 'X' } } })).toEqual(['opsgenie.archiveOnClose: missing: archiveOnClose: true or false']);
    expect(problems({ opsgenie: { archiveOnClose: 'yes', secret: { env: 'X' } } })).toEqual(['opsgenie.archiveOnClose: archiveOnClose is true or false']);
  });

  it.each(['Authorization', 'x-forwarded-for', 'X-Amzn-Trace-Id', 'Host', 'has space', ''])('refuses %j as the Opsgenie header', (header) => {
    expect(problems({ opsgenie: { archiveOnClose: true, secret: { env: 'X' }, header } })).toEqual([expect.stringMatching(/^opsgenie\.header: /)]);
  });
});

describe('archivesOn', () => {
  const config: SyncBackConfig = {
    pagerduty: { archiveOnResolve: true, signingSecret: { env: 'A' } },
    opsgenie: { archiveOnClose: false, secret: { env: 'B' } },
  };

  it('is on only for a listed service switched on', () => {
    expect(archivesOn(config, 'pagerduty')).toBe(true);
    expect(archivesOn(config, 'opsgenie')).toBe(false);
    expect(archivesOn(config, 'jira')).toBe(false);
    expect(archivesOn(undefined, 'pagerduty')).toBe(false);
  });
});

describe('the engine authorisation of sync-back requests (directlyAllowed)', () => {
  const policy = compileActionsPolicy({
    archive: { slackUsers: ['U0123ABC'] },
    syncBack: {
      pagerduty: { archiveOnResolve: true, signingSecret: { env: 'A' } },
      jira: { archiveOnDone: false, secret: { env: 'B' } },
    },
  });

  it('allows archive from a platform switched on, whoever resolved it there', () => {
    expect(directlyAllowed(policy, 'archive', { platform: 'pagerduty', id: 'PLH1HKV' })).toBe(true);
  });

  it('refuses every other action from that platform, and every platform not switched on', () => {
    for (const action of ['acknowledge', 'false-positive', 'useful', 'suppress'] as const) {
      expect(directlyAllowed(policy, action, { platform: 'pagerduty', id: 'PLH1HKV' })).toBe(false);
    }
    expect(directlyAllowed(policy, 'archive', { platform: 'jira', id: '5b10a2844c20165700ede21g' })).toBe(false);
    expect(directlyAllowed(policy, 'archive', { platform: 'opsgenie', id: 'someone' })).toBe(false);
    expect(directlyAllowed(compileActionsPolicy(undefined), 'archive', { platform: 'pagerduty', id: 'PLH1HKV' })).toBe(false);
  });

  it('does not let a sync-back actor id pass as a Slack user on the allow-list', () => {
    expect(directlyAllowed(compileActionsPolicy({ archive: { slackUsers: ['U0123ABC'] } }), 'archive', { platform: 'jira', id: 'U0123ABC' })).toBe(false);
  });
});
