import * as z from 'zod/mini';
import { describe, expect, it } from 'vitest';
import type { EnrichedFinding } from '../../../schemas/enriched.ts';
import { decodeButtonValue } from '../../../shared/actions/button-value.ts';
import type { ActionOutcome } from '../../../shared/actions/model.ts';
import { parseSlackActionId, SLACK_LIMITS, slackActionId, slackBlocksWithOutcome } from '../../../shared/actions/slack-buttons.ts';
import { buildSlackMessage, SlackConfigSchema, slackTarget } from '../../../shared/targets/slack.ts';
import { enrichedFrom, hostileAccount, hostileFinding, loadFinding } from '../../helpers/findings.ts';
import { targetContext } from '../../helpers/target-contract.ts';

const ALL = ['acknowledge', 'archive', 'false-positive', 'useful', 'suppress'] as const;
const sshBruteforce = () =>
  enrichedFrom(loadFinding('targets/ssh-bruteforce.sample.eventbridge.json'), { name: 'security-sandbox', email: 'secops@example.com', tags: { owner: 'secops' } });

type Block = { type: string; block_id?: string; elements?: Record<string, unknown>[] };
type Button = {
  type: string;
  action_id: string;
  value: string;
  style?: string;
  text: { type: string; text: string };
  confirm?: { title: { text: string }; text: { type: string; text: string }; confirm: { text: string }; deny: { text: string } };
};

/** What the target sends, through its public render (the config parsed as routes.yml would be). */
const rendered = (enriched: EnrichedFinding, settings: Record<string, unknown> = {}) => {
  const config = z.parse(SlackConfigSchema, { type: 'slack', webhookUrl: { env: 'SLACK_URL' }, ...settings });
  const target = slackTarget.create('chat', config, targetContext());
  return JSON.parse(target.render(enriched).body) as { text: string; blocks: Block[] };
};
const buttonsOf = (message: { blocks: Block[] }): Button[] => (message.blocks.find((b) => b.type === 'actions')?.elements ?? []) as unknown as Button[];

describe('Slack buttons', () => {
  describe('opt-in', () => {
    it('without an actions setting the message is byte for byte the built one (existing goldens hold)', async () => {
      // Prepare
      const enriched = await sshBruteforce();

      // Act
      const config = z.parse(SlackConfigSchema, { type: 'slack', webhookUrl: { env: 'SLACK_URL' } });
      const body = slackTarget.create('chat', config, targetContext()).render(enriched).body;

      // Assess
      expect(body).toBe(JSON.stringify(buildSlackMessage(enriched)));
      expect(body).not.toContain('"actions"');
    });

    it('with every action: one actions block after the message, as in test/golden/slack-buttons', async () => {
      // Prepare
      const enriched = await sshBruteforce();

      // Act
      const message = rendered(enriched, { actions: [...ALL] });

      // Assess
      await expect(`${JSON.stringify(message, null, 2)}\n`).toMatchFileSnapshot('../../golden/slack-buttons/ssh-bruteforce.json');
      expect(message.blocks.at(-1)?.type).toBe('actions');
      expect(buttonsOf(message).map((b) => b.action_id)).toEqual([
        'findings-router.acknowledge',
        'findings-router.archive',
        'findings-router.false-positive',
        'findings-router.useful',
        'findings-router.suppress-7d',
      ]);
    });

    it('shows only the configured buttons, in the configured order', async () => {
      // Act
      const message = rendered(await sshBruteforce(), { actions: ['suppress', 'acknowledge'] });

      // Assess
      expect(buttonsOf(message).map((b) => b.text.text)).toEqual(['Suppress similar 7 days', 'Acknowledge']);
    });

    it.each([
      ['an unknown action', ['archive', 'delete']],
      ['an empty list', []],
      ['a repeated action', ['archive', 'archive']],
      ['a single string', 'archive'],
    ])('the setting refuses %s', (_name, actions) => {
      // Act
      const result = z.safeParse(SlackConfigSchema, { type: 'slack', webhookUrl: { env: 'SLACK_URL' }, actions });

      // Assess
      expect(result.success).toBe(false);
    });
  });

  describe('what each button carries', () => {
    it('every value decodes to the finding, within Block Kit limits', async () => {
      // Prepare
      const enriched = await sshBruteforce();

      // Act
      const message = rendered(enriched, { actions: [...ALL] });

      // Assess
      const buttons = buttonsOf(message);
      expect(buttons).toHaveLength(5);
      expect(buttons.length).toBeLessThanOrEqual(SLACK_LIMITS.elements);
      expect(message.blocks.length).toBeLessThanOrEqual(50);
      for (const button of buttons) {
        const { finding } = enriched;
        expect(decodeButtonValue(button.value)).toEqual({ id: finding.id, accountId: finding.accountId, region: finding.region, type: finding.type });
        expect(button.value.length).toBeLessThanOrEqual(SLACK_LIMITS.value);
        expect(button.action_id.length).toBeLessThanOrEqual(SLACK_LIMITS.actionId);
        expect(button.text.type).toBe('plain_text');
        expect(button.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.buttonText);
        if (button.confirm) {
          expect(button.confirm.title.text.length).toBeLessThanOrEqual(SLACK_LIMITS.confirmTitle);
          expect(button.confirm.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.confirmText);
          expect(button.confirm.confirm.text.length).toBeLessThanOrEqual(SLACK_LIMITS.confirmButton);
          expect(button.confirm.deny.text.length).toBeLessThanOrEqual(SLACK_LIMITS.confirmButton);
        }
      }
    });

    it('archive and suppress ask first; the others do not', async () => {
      // Act
      const buttons = buttonsOf(rendered(await sshBruteforce(), { actions: [...ALL] }));

      // Assess
      expect(buttons.filter((b) => b.confirm).map((b) => b.action_id)).toEqual(['findings-router.archive', 'findings-router.suppress-7d']);
    });

    it('action ids read back to the action (and 7 days for suppress); foreign ids are refused', () => {
      // Act
      const back = ALL.map((action) => parseSlackActionId(slackActionId(action)));

      // Assess
      expect(back).toEqual([{ action: 'acknowledge' }, { action: 'archive' }, { action: 'false-positive' }, { action: 'useful' }, { action: 'suppress', days: 7 }]);
      for (const foreign of ['archive', 'findings-router.delete', 'findings-router.suppress', 'other.archive', 'findings-router.archive-7d']) {
        expect(parseSlackActionId(foreign), foreign).toBeUndefined();
      }
    });
  });

  describe('hostile findings', () => {
    it('a finding whose id or region would not survive the endpoint gets no buttons, and the rest of the message is unchanged', async () => {
      // Prepare
      const enriched = await enrichedFrom(hostileFinding(), hostileAccount());

      // Act
      const message = rendered(enriched, { actions: [...ALL] });

      // Assess
      expect(buttonsOf(message)).toEqual([]);
      expect(JSON.stringify(message)).toBe(JSON.stringify(buildSlackMessage(enriched)));
    });

    it('the finding type in a confirm dialog is escaped (an & that would start an entity)', async () => {
      // Prepare
      const enriched = await sshBruteforce();
      // The only characters of a finding type the button value accepts that mrkdwn reads: `&` (and `!`).
      enriched.finding.type = 'Recon:EC2/Probe&B!x';

      // Act
      const archive = buttonsOf(rendered(enriched, { actions: ['archive'] }))[0]!;

      // Assess
      expect(archive.confirm!.text.type).toBe('mrkdwn');
      expect(archive.confirm!.text.text).toContain('Recon:EC2/Probe&amp;B!x');
      expect(archive.confirm!.text.text).not.toMatch(/&(?!amp;|lt;|gt;)/);
    });
  });

  describe('outcome line (message update)', () => {
    const outcome = (actor: ActionOutcome['request']['actor'], message: string): ActionOutcome => ({
      request: { action: 'archive', finding: { id: 'f1', accountId: '111122223333', region: 'eu-west-1' }, actor, receivedAt: 0 },
      status: 'done',
      message,
    });
    const AT = new Date('2026-12-05T08:30:00Z');

    it('mentions a Slack user by id, escapes the engine message, keeps the buttons, newest line first', () => {
      // Prepare
      const blocks = [{ type: 'section' }, { type: 'actions', block_id: 'findings-router.actions', elements: [] }];

      // Act
      const once = slackBlocksWithOutcome(blocks, outcome({ platform: 'slack', id: 'U0123ABC', name: 'Ann' }, 'archived <!channel> & done'), AT);
      const twice = slackBlocksWithOutcome(once, outcome({ platform: 'slack', id: 'U0999XYZ' }, 'again'), AT);

      // Assess
      const lines = (twice.at(-1)!.elements as { text: string }[]).map((e) => e.text);
      expect(twice.filter((b) => b.type === 'actions')).toHaveLength(1);
      expect(lines).toHaveLength(2);
      expect(lines[0]).toContain('<@U0999XYZ>');
      expect(lines[1]).toBe(':white_check_mark: Archived in GuardDuty by <@U0123ABC> at 2026-12-05 08:30 UTC — archived &lt;!channel&gt; &amp; done');
    });

    it('a name that is not a Slack user id is escaped, never a mention', () => {
      // Act
      const blocks = slackBlocksWithOutcome([], outcome({ platform: 'teams', id: '<!here>', name: '<@U1> *x*' }, 'ok'), AT);

      // Assess
      const text = (blocks[0]!.elements as { text: string }[])[0]!.text;
      expect(text).toContain('&lt;@U1&gt;');
      expect(text).not.toMatch(/<[@!]/);
    });
  });
});
