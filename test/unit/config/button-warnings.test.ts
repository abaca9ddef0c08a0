import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config/load.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';

const routes = (targets: string, actions = ''): string =>
  `targets:\n${targets}default:\n  targets: [chat]\n${actions}`;

const warningsOf = async (text: string): Promise<string[]> =>
  (await loadConfig(ROUTES_CONFIG, { text, file: 'routes.yml' })).warnings.map((w) => `${w.line}:${w.column}: ${w.message}`);

describe('Config warnings for buttons nobody can press', () => {
  it('warns at the actions setting when routes.yml has no actions: block', async () => {
    // Act
    const warnings = await warningsOf(routes('  chat: { type: slack, webhookUrl: { env: SLACK_URL }, actions: [archive] }\n'));
    // Assess
    expect(warnings).toEqual([expect.stringMatching(/^2:\d+: target 'chat': shows action buttons but routes\.yml has no actions: block/)]);
  });

  it('warns when Slack buttons have no signing secret to verify presses with', async () => {
    // Act
    const warnings = await warningsOf(routes('  chat: { type: slack, webhookUrl: { env: SLACK_URL }, actions: [archive] }\n', 'actions:\n  archive: { slackUsers: [U0123ABC] }\n'));
    // Assess
    expect(warnings).toEqual([expect.stringContaining("actions.slack.signingSecret is not set")]);
  });

  it('is quiet for Slack buttons with a signing secret, and for targets without buttons', async () => {
    // Act
    const warnings = await warningsOf(
      routes(
        '  chat: { type: slack, webhookUrl: { env: SLACK_URL }, actions: [archive] }\n  plain: { type: slack, webhookUrl: { env: SLACK_URL } }\n',
        'actions:\n  slack: { signingSecret: { env: SLACK_SIGNING } }\n  archive: { slackUsers: [U0123ABC] }\n',
      ),
    );
    // Assess
    expect(warnings).toEqual([]);
  });

  it('says Teams buttons need cards posted by the bot, and the bot app id', async () => {
    // Act
    const warnings = await warningsOf(
      routes('  chat: { type: teams, webhookUrl: { env: TEAMS_URL }, actions: [archive] }\n', 'actions:\n  archive: { teamsUsers: [0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d] }\n'),
    );
    // Assess
    expect(warnings).toEqual([expect.stringContaining("posted by the router's bot"), expect.stringContaining('actions.teams.appId is not set')]);
  });
});
