import type { EnrichedFinding } from '../../schemas/enriched.ts';
import type { ActionName, ActionOutcome } from './model.ts';
import { ACTION_PAST_TENSE, BUTTON_SUPPRESS_DAYS, BUTTONS, buttonValueFor, type TargetActions } from './slack-buttons.ts';

/**
 * Buttons on a Teams card: `Action.Execute` (Universal Actions). Pressing one makes Teams send
 * an `invoke` activity named `adaptiveCard/action` to the bot that posted the card, and the
 * card the bot answers with replaces it in place. A card posted through a Workflows webhook
 * belongs to the Workflows bot, which does not pass the invoke on: the buttons need the
 * router's own bot registration (docs/actions.md, "Teams").
 *
 * Teams runs Action.Execute only on cards that declare 1.5 or later; the card uses no element
 * newer than 1.4 (the schema test checks its content against the 1.4 schema, where
 * Action.Execute is defined), so 1.5 clients render it the same.
 */
const TEAMS_EXECUTE_CARD_VERSION = '1.5';

/** What a button carries in `data`: the shared button value, plus the length for suppress. */
interface TeamsActionData {
  value: string;
  days?: number;
}

const teamsStyle = (action: ActionName): 'positive' | 'destructive' | undefined =>
  BUTTONS[action].style === 'danger' ? 'destructive' : BUTTONS[action].style === 'primary' ? 'positive' : undefined;

/** What the confirm step says: our own words only (the card above already shows the finding). */
const TEAMS_CONFIRM: Partial<Record<ActionName, { text: string; confirm: string }>> = {
  archive: { text: 'Archives this finding in GuardDuty, through its administrator account. It leaves the current findings list; new occurrences still arrive.', confirm: 'Archive' },
  suppress: { text: `Stops notifications for findings like this one (same type, account and resource) for ${BUTTON_SUPPRESS_DAYS} days. Audit targets still receive them.`, confirm: 'Suppress' },
};

/**
 * The buttons for a button value: `Action.Execute` with verb = the action name; archive and
 * suppress sit behind an `Action.ShowCard` that says what will happen and holds the button that
 * does it (Teams has no confirm dialog; this is its two-step equivalent). Titles and texts are
 * our own words; the only finding-derived text is inside `data.value`, JSON that is never shown.
 */
const teamsButtons = (value: string, actions: readonly ActionName[]) =>
  actions.map((action) => {
    const style = teamsStyle(action);
    const data: TeamsActionData = action === 'suppress' ? { value, days: BUTTON_SUPPRESS_DAYS } : { value };
    const confirm = TEAMS_CONFIRM[action];
    if (confirm === undefined) return { type: 'Action.Execute', title: BUTTONS[action].label, verb: action, data, ...(style ? { style } : {}) };
    return {
      type: 'Action.ShowCard',
      title: BUTTONS[action].label,
      card: {
        type: 'AdaptiveCard',
        body: [{ type: 'TextBlock', text: confirm.text, wrap: true }],
        actions: [{ type: 'Action.Execute', title: confirm.confirm, verb: action, data, style: 'destructive' }],
      },
    };
  });

/** The buttons for a finding, or none when it cannot carry a working button (see buttonValueFor). */
const teamsExecuteActions = (enriched: EnrichedFinding, actions: TargetActions | undefined) => {
  if (actions === undefined) return [];
  const value = buttonValueFor(enriched);
  return value === undefined ? [] : teamsButtons(value, actions);
};

type CardElement = Record<string, unknown>;

/**
 * The card for the invoke response: the original card's body with the outcome appended as a
 * subtle line (who, what, when), the actions kept so others can still act. The text is built
 * from the engine's words and the actor's display name, escaped by `escape` (the Teams
 * renderer's Markdown escaper, passed in to keep this file free of the target).
 */
const teamsCardWithOutcome = (
  card: { body?: unknown; actions?: unknown; [key: string]: unknown },
  outcome: ActionOutcome,
  at: Date,
  escape: (text: string) => string,
): CardElement => {
  const { request } = outcome;
  const who = escape(request.actor.name ?? request.actor.id);
  const what = outcome.status === 'done' ? ACTION_PAST_TENSE[request.action] : `${BUTTONS[request.action].label}: ${outcome.status}`;
  const line = {
    type: 'TextBlock',
    id: 'findings-router-outcome',
    text: `${what} by ${who} at ${at.toISOString().slice(0, 16).replace('T', ' ')} UTC — ${escape(outcome.message)}`,
    wrap: true,
    size: 'Small',
    color: outcome.status === 'done' ? 'Good' : outcome.status === 'pending' ? 'Default' : 'Attention',
  };
  const body = Array.isArray(card.body) ? (card.body as CardElement[]).filter((e) => e.id !== 'findings-router-outcome') : [];
  return { ...card, body: [...body, line] };
};

export { TEAMS_EXECUTE_CARD_VERSION, teamsButtons, teamsExecuteActions, teamsCardWithOutcome };
