/**
 * Webhook bodies written for these tests, shaped like each service's documented examples
 * (field names, nesting and types as documented; values of our own).
 */

/**
 * PagerDuty Webhooks v3 `incident.resolved`: the `event` envelope with the incident as `data`.
 * Shape: https://github.com/PagerDuty/developer-docs/blob/main/docs/webhooks/01-Overview.md
 * (event_type, resource_type, occurred_at, agent as a user_reference, data = incident with
 * incident_key, the dedup key of the Events API v2 alert that opened it).
 */
const pagerDutyResolved = (incidentKey: string, overrides: { eventType?: string; agent?: unknown } = {}) => ({
  event: {
    id: '01DEN4HYGRL8JMG0MOUA4SE3T9',
    event_type: overrides.eventType ?? 'incident.resolved',
    resource_type: 'incident',
    occurred_at: '2026-12-05T08:15:02.117Z',
    agent:
      overrides.agent === undefined
        ? {
            html_url: 'https://acme.pagerduty.com/users/PLH1HKV',
            id: 'PLH1HKV',
            self: 'https://api.pagerduty.com/users/PLH1HKV',
            summary: 'Ana Oncall',
            type: 'user_reference',
          }
        : overrides.agent,
    client: null,
    data: {
      id: 'Q2K6ZE8PC1D4X',
      type: 'incident',
      self: 'https://api.pagerduty.com/incidents/Q2K6ZE8PC1D4X',
      html_url: 'https://acme.pagerduty.com/incidents/Q2K6ZE8PC1D4X',
      number: 4711,
      status: 'resolved',
      incident_key: incidentKey,
      created_at: '2026-12-05T07:58:11Z',
      title: '[GuardDuty High 8.0] prod 111122223333 us-east-1: Unusual API calls',
      service: {
        html_url: 'https://acme.pagerduty.com/services/PF9KMXH',
        id: 'PF9KMXH',
        self: 'https://api.pagerduty.com/services/PF9KMXH',
        summary: 'GuardDuty findings',
        type: 'service_reference',
      },
      assignees: [],
      escalation_policy: {
        html_url: 'https://acme.pagerduty.com/escalation_policies/PJ2QV6R',
        id: 'PJ2QV6R',
        self: 'https://api.pagerduty.com/escalation_policies/PJ2QV6R',
        summary: 'Security on-call',
        type: 'escalation_policy_reference',
      },
      teams: [],
      priority: null,
      urgency: 'high',
      conference_bridge: null,
      resolve_reason: null,
    },
  },
});

/**
 * Opsgenie outgoing webhook for the `Close` action: `action`, a subset of alert fields
 * (alertId, message, alias, tinyId, entity, username, userId, …) and `source`.
 * https://docs.opsgenie.com/docs/webhook-integration
 */
const opsgenieClosed = (alias: string, overrides: { action?: string; userId?: string | null } = {}) => ({
  action: overrides.action ?? 'Close',
  alert: {
    alertId: '6f1c8b2e-5d4a-4c3b-9e2f-1a0b9c8d7e6f-1733385302117',
    message: '[High] prod: Unusual API calls',
    tags: ['GuardDuty', 'severity:high'],
    tinyId: '318',
    entity: 'IAMUser analyst',
    alias,
    createdAt: 1733385291000,
    updatedAt: 1733385302117000000,
    username: 'ana.oncall@example.com',
    ...(overrides.userId === null ? {} : { userId: overrides.userId ?? '8c4e2f1a-3b5d-4e6f-9a0b-1c2d3e4f5a6b' }),
    description: '',
    team: '',
    responders: [],
    teams: [],
    actions: [],
    source: 'GuardDuty',
  },
  source: { name: '', type: 'web' },
  integrationName: 'Findings router sync-back',
  integrationId: '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d',
  integrationType: 'Webhook',
});

/**
 * Jira Cloud `jira:issue_updated` with a status change in the changelog; the issue's new
 * status carries its category (`done` for the Done category).
 * https://developer.atlassian.com/cloud/jira/platform/webhooks/ (example callback, changelog items)
 */
const jiraIssueUpdated = (
  issueKey: string,
  overrides: { webhookEvent?: string; categoryKey?: string; changedField?: string; accountId?: string | null } = {},
) => ({
  timestamp: 1733385302117,
  webhookEvent: overrides.webhookEvent ?? 'jira:issue_updated',
  issue_event_type_name: 'issue_generic',
  user: {
    self: 'https://acme.atlassian.net/rest/api/2/user?accountId=5b10a2844c20165700ede21g',
    ...(overrides.accountId === null ? {} : { accountId: overrides.accountId ?? '5b10a2844c20165700ede21g' }),
    displayName: 'Ana Analyst',
    active: true,
    timeZone: 'Europe/Berlin',
    accountType: 'atlassian',
  },
  issue: {
    id: '10421',
    self: 'https://acme.atlassian.net/rest/api/2/10421',
    key: issueKey,
    fields: {
      summary: 'GuardDuty High: Unusual API calls (prod 111122223333)',
      status: {
        self: 'https://acme.atlassian.net/rest/api/2/status/10002',
        description: '',
        name: 'Done',
        id: '10002',
        statusCategory: { self: 'https://acme.atlassian.net/rest/api/2/statuscategory/3', id: 3, key: overrides.categoryKey ?? 'done', colorName: 'green', name: 'Done' },
      },
    },
  },
  changelog: {
    id: '10815',
    items: [
      {
        field: overrides.changedField ?? 'status',
        fieldtype: 'jira',
        fieldId: overrides.changedField ?? 'status',
        from: '10001',
        fromString: 'In Progress',
        to: '10002',
        toString: 'Done',
      },
    ],
  },
});

export { pagerDutyResolved, opsgenieClosed, jiraIssueUpdated };
