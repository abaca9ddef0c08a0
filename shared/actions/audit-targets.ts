import { createHash } from 'node:crypto';
import type { RouterConfig } from '../config/compile.ts';
import { jsonLine } from '../targets/siem-json.ts';
import type { FindingSendJob, RenderedPayload, Target } from '../targets/types.ts';
import type { ActionAuditRecord, AuditSink } from './audit.ts';
import type { ActionLog } from './worker.ts';

/**
 * Delivers action audit records to the routes' audit targets (`audit: true`) through each
 * target's own `send` (its secrets, address policy, rate limit and error classification).
 * Targets render findings, not records, so the record's body is built here for the types that
 * carry arbitrary JSON events; the others are named in the log once per record and still
 * have the structured log line (shared/actions/worker.ts) to read from.
 */
const SEND_BUDGET_MS = 10_000;

const renderers: Record<string, (record: ActionAuditRecord) => RenderedPayload> = {
  webhook: (record) => ({ body: jsonLine(record), contentType: 'application/json', extension: 'json' }),
  file: (record) => ({ body: `${jsonLine(record)}\n`, contentType: 'application/x-ndjson', extension: 'ndjson' }),
  console: (record) => ({ body: `[action] ${jsonLine(record)}\n`, contentType: 'text/plain; charset=utf-8', extension: 'txt' }),
  splunk: (record) => ({
    body: jsonLine({ time: Date.parse(record.at) / 1000, sourcetype: 'findings-router:action', source: 'findings-router', event: record }),
    contentType: 'application/json',
    extension: 'json',
  }),
};

/** Types whose audit targets get the record as an event of its own. */
const AUDIT_RECORD_TYPES = Object.keys(renderers);

const auditTargetSink = (config: RouterConfig, targets: ReadonlyMap<string, Target>, log: ActionLog, now: () => number = Date.now): AuditSink => ({
  record: async (record) => {
    log.info('action audit', { audit: record });
    const audit = [...config.targets.values()].filter((t) => t.common.audit === true);
    const key = `action#${createHash('sha256').update(JSON.stringify(record)).digest('hex').slice(0, 32)}`;
    await Promise.all(
      audit.map(async ({ name, type }) => {
        const render = renderers[type];
        const target = targets.get(name);
        if (render === undefined || target === undefined) {
          log.info('audit target takes no action records', { target: name, type });
          return;
        }
        try {
          // The four types above read only the payload and the delivery context, never the job's finding.
          const job = { payload: render(record), idempotencyKey: key, attempt: 1, deadline: now() + SEND_BUDGET_MS };
          await target.send(job as unknown as FindingSendJob);
        } catch (error) {
          log.error('action audit not delivered', { target: name, reason: (error as Error).message });
        }
      }),
    );
  },
});

export { auditTargetSink };
