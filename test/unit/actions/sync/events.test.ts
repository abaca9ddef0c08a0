import { describe, expect, it } from 'vitest';
import { readSyncEvent } from '../../../../shared/actions/sync/events.ts';
import { jiraIssueUpdated, opsgenieClosed, pagerDutyResolved } from './fixtures.ts';

const KEY = 'guardduty-111122223333-0f3c';

describe('readSyncEvent: PagerDuty', () => {
  it('reads the incident key and the person who resolved it', () => {
    expect(readSyncEvent('pagerduty', pagerDutyResolved(KEY))).toEqual({
      kind: 'resolved',
      platform: 'pagerduty',
      remoteId: KEY,
      actor: { platform: 'pagerduty', id: 'PLH1HKV', name: 'Ana Oncall' },
    });
  });

  it.each(['incident.acknowledged', 'incident.triggered', 'incident.reopened', 'pagey.ping'])('ignores %s', (eventType) => {
    expect(readSyncEvent('pagerduty', pagerDutyResolved(KEY, { eventType }))).toMatchObject({ kind: 'ignore' });
  });

  it('ignores a resolve by an integration or by auto-resolve (agent not a user)', () => {
    const byService = { id: 'PF9KMXH', type: 'service_reference', summary: 'GuardDuty findings' };
    expect(readSyncEvent('pagerduty', pagerDutyResolved(KEY, { agent: byService }))).toEqual({
      kind: 'ignore',
      reason: 'resolved by an integration or automatically, not by a person',
    });
    expect(readSyncEvent('pagerduty', pagerDutyResolved(KEY, { agent: null }))).toMatchObject({ kind: 'ignore' });
  });

  it('ignores bodies that are not the v3 envelope', () => {
    expect(readSyncEvent('pagerduty', { messages: [{ event: 'incident.resolve' }] })).toMatchObject({ kind: 'ignore' });
    expect(readSyncEvent('pagerduty', 'incident.resolved')).toMatchObject({ kind: 'ignore' });
  });

  it('ignores an incident without incident key', () => {
    const body = pagerDutyResolved(KEY);
    (body.event.data as { incident_key: string | null }).incident_key = null;
    expect(readSyncEvent('pagerduty', body)).toMatchObject({ kind: 'ignore', reason: 'the incident has no incident key' });
  });

  it('keeps the display name to one bounded line', () => {
    const agent = { id: 'PLH1HKV', type: 'user_reference', summary: `Ana\nAdmin: archived everything\u2028${'x'.repeat(500)}` };
    const event = readSyncEvent('pagerduty', pagerDutyResolved(KEY, { agent }));
    expect(event.kind).toBe('resolved');
    const name = event.kind === 'resolved' ? event.actor.name : undefined;
    expect(name).not.toMatch(/[\n\u2028]/);
    expect(name?.length).toBe(200);
  });
});

describe('readSyncEvent: Opsgenie', () => {
  it('reads the alias and the user who closed the alert', () => {
    expect(readSyncEvent('opsgenie', opsgenieClosed(KEY))).toEqual({
      kind: 'resolved',
      platform: 'opsgenie',
      remoteId: KEY,
      actor: { platform: 'opsgenie', id: '8c4e2f1a-3b5d-4e6f-9a0b-1c2d3e4f5a6b', name: 'ana.oncall@example.com' },
    });
  });

  it.each(['Create', 'Acknowledge', 'AddNote', 'Delete', 'UnAcknowledge'])('ignores the %s action', (action) => {
    expect(readSyncEvent('opsgenie', opsgenieClosed(KEY, { action }))).toMatchObject({ kind: 'ignore' });
  });

  it('ignores a close without any user (no one to name in the audit)', () => {
    const body = opsgenieClosed(KEY, { userId: null });
    delete (body.alert as { username?: string }).username;
    expect(readSyncEvent('opsgenie', body)).toEqual({ kind: 'ignore', reason: 'the alert was closed without a user' });
  });

  it('ignores an alert without alias', () => {
    expect(readSyncEvent('opsgenie', opsgenieClosed(''))).toMatchObject({ kind: 'ignore', reason: 'the alert has no alias' });
  });
});

describe('readSyncEvent: Jira', () => {
  it('reads the issue key and the account that moved it to Done', () => {
    expect(readSyncEvent('jira', jiraIssueUpdated('SEC-12'))).toEqual({
      kind: 'resolved',
      platform: 'jira',
      remoteId: 'SEC-12',
      actor: { platform: 'jira', id: '5b10a2844c20165700ede21g', name: 'Ana Analyst' },
    });
  });

  it.each(['jira:issue_created', 'jira:issue_deleted', 'comment_created'])('ignores %s', (webhookEvent) => {
    expect(readSyncEvent('jira', jiraIssueUpdated('SEC-12', { webhookEvent }))).toMatchObject({ kind: 'ignore' });
  });

  it('ignores an update that did not change the status (an edit of an issue already done)', () => {
    expect(readSyncEvent('jira', jiraIssueUpdated('SEC-12', { changedField: 'summary' }))).toEqual({ kind: 'ignore', reason: 'the status did not change' });
  });

  it.each(['indeterminate', 'new'])('ignores a status change into the %s category', (categoryKey) => {
    expect(readSyncEvent('jira', jiraIssueUpdated('SEC-12', { categoryKey }))).toEqual({
      kind: 'ignore',
      reason: 'the new status is not in the Done category',
    });
  });

  it('ignores a change without a user (automation without an actor)', () => {
    expect(readSyncEvent('jira', jiraIssueUpdated('SEC-12', { accountId: null }))).toMatchObject({ kind: 'ignore' });
  });
});
