/**
 * Slack mrkdwn escaping. Slack reads `<...>` as links and mentions (`<!channel>`,
 * `<https://x|y>`, `<@U123>`) and `&` starts an entity; escaping these three makes any
 * finding-derived string inert. Backticks are swapped for a look-alike so a value can
 * never open or close a code span.
 */
const escapeMrkdwn = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/`/g, 'ˋ');

/** Entities produced by escapeMrkdwn; truncation must not cut through one. */
const MRKDWN_ENTITY = /&(?:amp|lt|gt);/;

export { escapeMrkdwn, MRKDWN_ENTITY };
