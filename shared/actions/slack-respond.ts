import { escapeMrkdwn } from '../targets/slack-mrkdwn.ts';
import type { ActionOutcome } from './model.ts';
import { slackBlocksWithOutcome } from './slack-buttons.ts';

/**
 * Updates the message a button was pressed on, through the request's `response_url`
 * (`replace_original`): the original blocks with the outcome line under the buttons. Slack
 * answers with a short `ok` or an error word; more than a few KiB is not read.
 */
const MAX_RESPONSE_BYTES = 4096;
const TIMEOUT_MS = 5_000;

interface SlackUpdate {
  replace_original: true;
  text: string;
  blocks: Record<string, unknown>[];
}

const slackUpdateOf = (blocks: readonly Record<string, unknown>[], outcome: ActionOutcome, at: Date): SlackUpdate => ({
  replace_original: true,
  // The notification and screen-reader text: escaped like every other mrkdwn string.
  text: escapeMrkdwn(`${outcome.request.action}: ${outcome.status} — ${outcome.message}`),
  blocks: slackBlocksWithOutcome(blocks, outcome, at),
});

/** At most `max` bytes of the answer; the rest is not read. */
const readBounded = async (response: Response, max = MAX_RESPONSE_BYTES): Promise<string> => {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < max) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => undefined);
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
};

/** Posts the update; returns Slack's status and answer (bounded). Never throws for an HTTP error status. */
const postSlackUpdate = async (responseUrl: string, update: SlackUpdate): Promise<{ status: number; answer: string }> => {
  const response = await fetch(responseUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(update),
    redirect: 'error',
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  return { status: response.status, answer: await readBounded(response) };
};

export { slackUpdateOf, postSlackUpdate, readBounded };
export type { SlackUpdate };
