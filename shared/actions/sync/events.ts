import * as z from 'zod/mini';
import type { ActionActor } from '../model.ts';
import type { SyncPlatform } from './config.ts';

/**
 * What a verified webhook body says, reduced to the one thing sync-back acts on: "this remote
 * record was resolved by this person". Everything else is `ignore` with a reason, answered 200
 * so the service does not retry it. Schemas are loose: the services add fields freely.
 */
type SyncEvent =
  | { kind: 'resolved'; platform: SyncPlatform; remoteId: string; actor: ActionActor }
  | { kind: 'ignore'; reason: string };

const ignore = (reason: string): SyncEvent => ({ kind: 'ignore', reason });
const shortId = z.string().check(z.minLength(1), z.maxLength(255));
const name = z.optional(z.string());

/** A display name for the audit record only: one line, bounded. */
const displayName = (value: string | undefined): string | undefined => {
  const line = value?.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim().slice(0, 200);
  return line ? line : undefined;
};
const actorOf = (platform: SyncPlatform, id: string, label: string | undefined): ActionActor => {
  const shown = displayName(label);
  return { platform, id, ...(shown === undefined ? {} : { name: shown }) };
};

// ── PagerDuty Webhooks v3 ───────────────────────────────────────────────────
// https://github.com/PagerDuty/developer-docs/blob/main/docs/webhooks/01-Overview.md (event envelope)
const PagerDutyEnvelopeSchema = z.object({
  event: z.object({
    event_type: z.string(),
    resource_type: z.optional(z.string()),
    agent: z.optional(z.nullable(z.object({ id: shortId, type: z.string(), summary: name }))),
    data: z.optional(z.object({ incident_key: z.optional(z.nullable(z.string())) })),
  }),
});

const pagerDutyEvent = (body: unknown): SyncEvent => {
  const parsed = z.safeParse(PagerDutyEnvelopeSchema, body);
  if (!parsed.success) return ignore('not a PagerDuty v3 webhook event');
  const { event_type, agent, data } = parsed.data.event;
  if (event_type !== 'incident.resolved') return ignore(`event type ${event_type.slice(0, 60)} is not incident.resolved`);
  // Resolved by an integration (the router's own resolve-on-archive, another monitor) or by
  // auto-resolve: no person judged the finding, so nothing is archived.
  if (agent == null || agent.type !== 'user_reference') return ignore('resolved by an integration or automatically, not by a person');
  const key = data?.incident_key;
  if (key == null || key === '') return ignore('the incident has no incident key');
  return { kind: 'resolved', platform: 'pagerduty', remoteId: key, actor: actorOf('pagerduty', agent.id, agent.summary) };
};

// ── Opsgenie outgoing webhook ───────────────────────────────────────────────
// https://docs.opsgenie.com/docs/webhook-integration (action + a subset of alert fields: alertId, alias, username, userId)
const OpsgenieSchema = z.object({
  action: z.string(),
  alert: z.object({ alias: z.optional(z.string()), userId: z.optional(z.string()), username: name }),
});

const opsgenieEvent = (body: unknown): SyncEvent => {
  const parsed = z.safeParse(OpsgenieSchema, body);
  if (!parsed.success) return ignore('not an Opsgenie webhook event');
  const { action, alert } = parsed.data;
  if (action !== 'Close') return ignore(`action ${action.slice(0, 60)} is not Close`);
  if (alert.alias === undefined || alert.alias === '') return ignore('the alert has no alias');
  const who = alert.userId || alert.username;
  if (who === undefined || who === '' || who.length > 255) return ignore('the alert was closed without a user');
  return { kind: 'resolved', platform: 'opsgenie', remoteId: alert.alias, actor: actorOf('opsgenie', who, alert.username) };
};

// ── Jira Cloud webhook ──────────────────────────────────────────────────────
// https://developer.atlassian.com/cloud/jira/platform/webhooks/ (jira:issue_updated with changelog)
const JiraSchema = z.object({
  webhookEvent: z.string(),
  user: z.optional(z.object({ accountId: z.optional(z.string()), displayName: name })),
  issue: z.optional(
    z.object({
      key: z.string(),
      fields: z.optional(z.object({ status: z.optional(z.object({ statusCategory: z.optional(z.object({ key: z.optional(z.string()) })) })) })),
    }),
  ),
  changelog: z.optional(z.object({ items: z.optional(z.array(z.object({ field: z.optional(z.string()), fieldId: z.optional(z.string()) }))) })),
});

const jiraEvent = (body: unknown): SyncEvent => {
  const parsed = z.safeParse(JiraSchema, body);
  if (!parsed.success) return ignore('not a Jira webhook event');
  const { webhookEvent, user, issue, changelog } = parsed.data;
  if (webhookEvent !== 'jira:issue_updated') return ignore(`event ${webhookEvent.slice(0, 60)} is not jira:issue_updated`);
  if (issue === undefined) return ignore('the event carries no issue');
  // Only the transition itself counts: later edits of an issue already in Done are not a new decision.
  const statusChanged = (changelog?.items ?? []).some((item) => item.fieldId === 'status' || item.field === 'status');
  if (!statusChanged) return ignore('the status did not change');
  if (issue.fields?.status?.statusCategory?.key !== 'done') return ignore('the new status is not in the Done category');
  const accountId = user?.accountId;
  if (accountId === undefined || accountId === '' || accountId.length > 255) return ignore('the change was made without a user');
  return { kind: 'resolved', platform: 'jira', remoteId: issue.key, actor: actorOf('jira', accountId, user?.displayName) };
};

const readSyncEvent = (platform: SyncPlatform, body: unknown): SyncEvent =>
  platform === 'pagerduty' ? pagerDutyEvent(body) : platform === 'opsgenie' ? opsgenieEvent(body) : jiraEvent(body);

export { readSyncEvent };
