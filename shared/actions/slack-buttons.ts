import * as z from 'zod/mini';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { escapeMrkdwn, MRKDWN_ENTITY } from '../targets/slack-mrkdwn.ts';
import { truncate } from '../text.ts';
import { decodeButtonValue, encodeButtonValue } from './button-value.ts';
import { ACTION_NAMES, type ActionName, type ActionOutcome, type FindingRef } from './model.ts';

/**
 * The buttons a chat target puts under a finding, when its settings opt in with
 * `actions: [acknowledge, archive, false-positive, useful, suppress]`. Without the setting the
 * message is byte for byte what it was: the buttons call back into an endpoint that must be
 * deployed and allow-listed first (docs/actions.md).
 */
const TargetActionsSchema = z
  .array(z.enum(ACTION_NAMES as [ActionName, ...ActionName[]]))
  .check(
    z.minLength(1, 'actions: name at least one of acknowledge, archive, false-positive, useful, suppress (or leave the setting out)'),
    z.refine((names) => new Set(names).size === names.length, 'actions: each action once'),
  );
type TargetActions = z.infer<typeof TargetActionsSchema>;

/** "Suppress similar" on a button is always this long; a longer one is a routes.yml change. */
const BUTTON_SUPPRESS_DAYS = 7;

/** `action_id` = prefix + action (+ `-<n>d` for suppress): the inbound endpoint reads it back with parseSlackActionId. */
const SLACK_ACTION_ID_PREFIX = 'findings-router.';
const SLACK_ACTIONS_BLOCK_ID = 'findings-router.actions';
const SLACK_OUTCOME_BLOCK_ID = 'findings-router.outcome';

/** Block Kit limits (docs.slack.dev/reference/block-kit): what each builder below stays within. */
const SLACK_LIMITS = { buttonText: 75, actionId: 255, value: 2000, confirmTitle: 100, confirmText: 300, confirmButton: 30, elements: 25, contextText: 3000 };

interface ButtonLook {
  label: string;
  /** Slack: `primary` green, `danger` red; absent: the default grey. */
  style?: 'primary' | 'danger';
  /** Archive and suppress ask before acting: they change what GuardDuty and the router do next. */
  confirm?: (ref: FindingRef) => { title: string; text: string; confirm: string };
}

const what = (ref: FindingRef): string => `${ref.type ? `${ref.type} finding` : 'finding'} (account ${ref.accountId}, ${ref.region})`;

const BUTTONS: Record<ActionName, ButtonLook> = {
  acknowledge: { label: 'Acknowledge', style: 'primary' },
  archive: {
    label: 'Archive in GuardDuty',
    style: 'danger',
    confirm: (ref) => ({
      title: 'Archive this finding?',
      text: `Archives this ${what(ref)} in GuardDuty, through its administrator account. It leaves the current findings list; new occurrences still arrive.`,
      confirm: 'Archive',
    }),
  },
  'false-positive': { label: 'False positive' },
  useful: { label: 'Useful' },
  suppress: {
    label: `Suppress similar ${BUTTON_SUPPRESS_DAYS} days`,
    style: 'danger',
    confirm: (ref) => ({
      title: `Suppress for ${BUTTON_SUPPRESS_DAYS} days?`,
      text: `Stops notifications for findings like this ${what(ref)} on the same resource for ${BUTTON_SUPPRESS_DAYS} days. Audit targets still receive them.`,
      confirm: 'Suppress',
    }),
  },
};

/**
 * The finding reference a button carries, or undefined when the finding's own fields would not
 * survive the endpoint's checks (an id or type outside GuardDuty's alphabet, a value over
 * 2,000 characters): a button that cannot work is left off rather than shown.
 */
const buttonValueFor = (enriched: EnrichedFinding): string | undefined => {
  const { finding } = enriched;
  try {
    const value = encodeButtonValue({ id: finding.id, accountId: finding.accountId, region: finding.region, type: finding.type });
    decodeButtonValue(value);
    return value;
  } catch {
    return undefined;
  }
};

const slackActionId = (action: ActionName): string =>
  `${SLACK_ACTION_ID_PREFIX}${action}${action === 'suppress' ? `-${BUTTON_SUPPRESS_DAYS}d` : ''}`;

/** Reads back an `action_id` this file wrote; anything else is undefined (the endpoint refuses it). */
const parseSlackActionId = (actionId: string): { action: ActionName; days?: number } | undefined => {
  if (!actionId.startsWith(SLACK_ACTION_ID_PREFIX)) return undefined;
  const rest = actionId.slice(SLACK_ACTION_ID_PREFIX.length);
  const suppress = /^suppress-(\d{1,3})d$/.exec(rest);
  if (suppress) return { action: 'suppress', days: Number(suppress[1]) };
  return (ACTION_NAMES as readonly string[]).includes(rest) && rest !== 'suppress' ? { action: rest as ActionName } : undefined;
};

const plain = (text: string, limit: number) => ({ type: 'plain_text', text: truncate(text, limit), emoji: false });

/** One Block Kit `actions` block, or undefined when the finding cannot carry a working button. */
const slackActionsBlock = (enriched: EnrichedFinding, actions: TargetActions) => {
  const value = buttonValueFor(enriched);
  if (value === undefined) return undefined;
  const ref = decodeButtonValue(value);
  return {
    type: 'actions',
    block_id: SLACK_ACTIONS_BLOCK_ID,
    elements: actions.slice(0, SLACK_LIMITS.elements).map((action) => {
      const look = BUTTONS[action];
      const confirm = look.confirm?.(ref);
      return {
        type: 'button',
        action_id: slackActionId(action),
        text: plain(look.label, SLACK_LIMITS.buttonText),
        value,
        ...(look.style ? { style: look.style } : {}),
        ...(confirm
          ? {
              confirm: {
                title: plain(confirm.title, SLACK_LIMITS.confirmTitle),
                // mrkdwn so the finding type's characters are escaped the one way Slack reads them.
                text: { type: 'mrkdwn', text: truncate(escapeMrkdwn(confirm.text), SLACK_LIMITS.confirmText, MRKDWN_ENTITY) },
                confirm: plain(confirm.confirm, SLACK_LIMITS.confirmButton),
                deny: plain('Cancel', SLACK_LIMITS.confirmButton),
                style: 'danger',
              },
            }
          : {}),
      };
    }),
  };
};

interface SlackMessageLike {
  text: string;
  blocks: object[];
}

/** The message with the buttons under it; unchanged when the target has no `actions` setting. */
const withSlackButtons = <M extends SlackMessageLike>(message: M, enriched: EnrichedFinding, actions: TargetActions | undefined): M => {
  if (actions === undefined) return message;
  const block = slackActionsBlock(enriched, actions);
  return block === undefined ? message : { ...message, blocks: [...message.blocks, block] };
};

const PAST: Record<ActionName, string> = {
  acknowledge: 'Acknowledged',
  archive: 'Archived in GuardDuty',
  'false-positive': 'Marked as a false positive',
  useful: 'Marked as useful',
  suppress: 'Suppressed similar findings',
};
const STATUS_MARK = { pending: ':hourglass_flowing_sand:', done: ':white_check_mark:', refused: ':no_entry:', failed: ':warning:' } as const;

/**
 * The line that says who did what, for the message update (Slack `response_url` with
 * `replace_original`): `<@U…>` is the one mention written on purpose, from a user id Slack
 * signed; the engine's message and the display name are escaped.
 */
const slackOutcomeLine = (outcome: ActionOutcome, at: Date): string => {
  const { request } = outcome;
  const who = request.actor.platform === 'slack' && /^[UW][A-Z0-9]{2,}$/.test(request.actor.id) ? `<@${request.actor.id}>` : escapeMrkdwn(request.actor.name ?? request.actor.id);
  const what = outcome.status === 'done' ? PAST[request.action] : `${BUTTONS[request.action].label}: ${outcome.status}`;
  return `${STATUS_MARK[outcome.status]} ${what} by ${who} at ${at.toISOString().slice(0, 16).replace('T', ' ')} UTC — ${escapeMrkdwn(outcome.message)}`;
};

/**
 * The original blocks with the outcome shown under the buttons: the newest line first, earlier
 * ones kept (one message can be acknowledged, then archived). Buttons stay, so another
 * analyst can still act; the engine's idempotency answers a repeat.
 */
const slackBlocksWithOutcome = (blocks: readonly Record<string, unknown>[], outcome: ActionOutcome, at: Date): Record<string, unknown>[] => {
  const previous = blocks.find((b) => b.block_id === SLACK_OUTCOME_BLOCK_ID);
  const earlier = Array.isArray(previous?.elements) ? (previous.elements as { text?: unknown }[]).map((e) => String(e.text ?? '')) : [];
  const lines = [slackOutcomeLine(outcome, at), ...earlier].slice(0, 10);
  const outcomeBlock = { type: 'context', block_id: SLACK_OUTCOME_BLOCK_ID, elements: lines.map((text) => ({ type: 'mrkdwn', text: truncate(text, SLACK_LIMITS.contextText, MRKDWN_ENTITY) })) };
  return [...blocks.filter((b) => b.block_id !== SLACK_OUTCOME_BLOCK_ID), outcomeBlock];
};

// ── Report preview (shared/cli/report/html.ts) ──────────────────────────────────

/** The look of the buttons in the replay report; Slack's own colours. */
const BUTTON_PREVIEW_CSS = `
.sl-actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 8px; }
.sl-button { display: inline-block; padding: 3px 12px; border: 1px solid #c7c7c7; border-radius: 4px; font-size: 13px; font-weight: 700; color: #1d1c1d; background: #fff; cursor: default; }
.sl-button.sl-primary { background: #007a5a; border-color: #007a5a; color: #fff; } .sl-button.sl-danger { color: #e01e5a; border-color: #e01e5a; }
.sl-confirm { font-weight: 400; font-size: 11px; opacity: .8; margin-left: 4px; }
.sl-actions-note { color: #616061; font-size: 12px; flex-basis: 100%; }
`;

const decodeSlackEntities = (text: string): string => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const textIn = (value: unknown): string =>
  typeof value === 'object' && value !== null && typeof (value as { text?: unknown }).text === 'string' ? (value as { text: string }).text : '';

/**
 * A Block Kit `actions` block as inert HTML for the replay report: every label and confirm text
 * through the report's `escapeHtml` (passed in, so there is one escaper), spans rather than
 * controls, and a note that they act only in Slack.
 */
const slackActionsPreview = (block: Record<string, unknown>, escapeHtml: (text: unknown) => string): string => {
  const elements = Array.isArray(block.elements) ? (block.elements as Record<string, unknown>[]) : [];
  const buttons = elements.map((element) => {
    const style = element.style === 'primary' || element.style === 'danger' ? ` sl-${element.style}` : '';
    const confirm = element.confirm as Record<string, unknown> | undefined;
    const asks = confirm === undefined ? '' : `${textIn(confirm.title)} ${decodeSlackEntities(textIn(confirm.text))}`;
    const label = decodeSlackEntities(textIn(element.text));
    return `<span class="sl-button${style}" data-action-id="${escapeHtml(element.action_id)}"${asks ? ` title="${escapeHtml(asks)}"` : ''}>${escapeHtml(label)}${asks ? '<span class="sl-confirm">(asks first)</span>' : ''}</span>`;
  });
  return `<div class="sl-block sl-actions" role="group" aria-label="Buttons">${buttons.join('')}<span class="sl-actions-note">Buttons: they act only in Slack, through the actions endpoint (docs/actions.md).</span></div>`;
};

export {
  TargetActionsSchema,
  BUTTON_PREVIEW_CSS,
  slackActionsPreview,
  BUTTON_SUPPRESS_DAYS,
  BUTTONS,
  PAST as ACTION_PAST_TENSE,
  SLACK_LIMITS,
  buttonValueFor,
  parseSlackActionId,
  slackActionId,
  withSlackButtons,
  slackBlocksWithOutcome,
};
export type { TargetActions };
