import { escapeTeamsMarkdown } from '../targets/teams.ts';
import { encodeButtonValue } from './button-value.ts';
import type { ActionName, ActionOutcome } from './model.ts';
import { TEAMS_EXECUTE_CARD_VERSION, teamsButtons, teamsCardWithOutcome } from './teams-card-actions.ts';

/**
 * What the bot answers to an `adaptiveCard/action` invoke: HTTP 200 with an invoke response
 * whose value is the card that replaces the pressed one (Universal Actions). The invoke does
 * not carry the original card, so the refreshed card is rebuilt from what the button carried
 * (the finding reference) plus the outcome: who did what, when, with what result, and the same
 * buttons again, so another analyst can still act. A caller that has the original card (for
 * instance re-rendered from the finding the engine re-read) passes it and keeps its body.
 */
interface TeamsInvokeResponse {
  status: 200;
  headers: { 'content-type': 'application/json' };
  body: string;
}

/** The card when the original is not at hand: the finding's reference, escaped, and the buttons. */
const compactCard = (outcome: ActionOutcome, actions: readonly ActionName[]) => {
  const { finding } = outcome.request;
  return {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: TEAMS_EXECUTE_CARD_VERSION,
    body: [
      { type: 'TextBlock', text: '**GuardDuty finding**', weight: 'Bolder', wrap: true },
      {
        type: 'FactSet',
        facts: [
          ...(finding.type ? [{ title: 'Type', value: escapeTeamsMarkdown(finding.type) }] : []),
          { title: 'Account', value: escapeTeamsMarkdown(finding.accountId) },
          { title: 'Region', value: escapeTeamsMarkdown(finding.region) },
          { title: 'Finding', value: escapeTeamsMarkdown(finding.id) },
        ],
      },
    ],
    actions: teamsButtons(encodeButtonValue(finding), actions),
  };
};

const teamsInvokeResponse = (
  outcome: ActionOutcome,
  options: { at: Date; actions: readonly ActionName[]; card?: { body?: unknown; actions?: unknown; [key: string]: unknown } },
): TeamsInvokeResponse => {
  const base = options.card ?? compactCard(outcome, options.actions);
  const card = teamsCardWithOutcome(base, outcome, options.at, escapeTeamsMarkdown);
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: card }),
  };
};

export { teamsInvokeResponse };
