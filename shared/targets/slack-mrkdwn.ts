import { stripInvisible } from '../text.ts';

/**
 * Slack mrkdwn escaping. Slack reads `<...>` as links and mentions (`<!channel>`,
 * `<https://x|y>`, `<@U123>`) and `&` starts an entity; escaping these three makes any
 * finding-derived string inert. Control and bidirectional characters are removed (as the
 * Teams and SNS renderers do). mrkdwn has no escape for its markers, so the two that can
 * break the message's own formatting are swapped for look-alikes: a backtick (a value
 * could open or close a code span) and `*` (a value inside the bold title would end it).
 */
const escapeMrkdwn = (text: string): string =>
  stripInvisible(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/`/g, 'ˋ').replace(/\*/g, '∗');

/** Entities produced by escapeMrkdwn; truncation must not cut through one. */
const MRKDWN_ENTITY = /&(?:amp|lt|gt);/;

export { escapeMrkdwn, MRKDWN_ENTITY };
