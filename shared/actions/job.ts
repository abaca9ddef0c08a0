import * as z from 'zod/mini';
import { ACTION_NAMES, type ActionName, type ActionRequest } from './model.ts';

/**
 * What the endpoint puts on the actions queue after a request is verified: the request, and
 * where to answer (the Slack `response_url` and the message's blocks, which the update keeps).
 * The worker checks it again on the way out: a queue message is input like any other.
 */
const ActionJobSchema = z.object({
  v: z.literal(1),
  request: z.object({
    action: z.enum(ACTION_NAMES as [ActionName, ...ActionName[]]),
    finding: z.object({ id: z.string(), accountId: z.string(), region: z.string(), type: z.optional(z.string()) }),
    actor: z.object({ platform: z.enum(['slack', 'teams', 'pagerduty', 'opsgenie', 'jira', 'simulate']), id: z.string(), name: z.optional(z.string()) }),
    days: z.optional(z.int()),
    reason: z.optional(z.string()),
    receivedAt: z.number(),
  }),
  reply: z.optional(z.object({ kind: z.literal('slack'), responseUrl: z.string(), blocks: z.array(z.record(z.string(), z.unknown())) })),
});

interface ActionJob {
  v: 1;
  request: ActionRequest;
  reply?: { kind: 'slack'; responseUrl: string; blocks: Record<string, unknown>[] };
}

type ParsedActionJob = { ok: true; job: ActionJob } | { ok: false; reason: string };

const parseActionJob = (body: string): ParsedActionJob => {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'action job: not JSON' };
  }
  const parsed = z.safeParse(ActionJobSchema, value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `action job: $.${(issue?.path ?? []).join('.')}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, job: parsed.data as ActionJob };
};

/** Where a verified job goes: SQS in Lambda, a list in simulate. */
interface ActionQueue {
  enqueue(job: ActionJob): Promise<void>;
}

export { parseActionJob };
export type { ActionJob, ActionQueue };
