import type { RouterConfig } from '../config/compile.ts';
import { loadOnce } from '../aws/load-once.ts';
import type { SecretResolver } from '../secrets.ts';
import type { AuditSink } from './audit.ts';
import type { ActionEngine } from './engine.ts';
import type { HttpRequest, HttpResponse } from './http.ts';
import type { ActionQueue } from './job.ts';
import type { ActionLog } from './worker.ts';

/**
 * The actions function's parts that most requests never need, loaded on first use as their
 * own chunks so the cold start stays small: the target registry (only for delivering audit
 * records), the Teams token verifier (jose, only on /teams) and sync-back (only on /sync/*).
 */
type PathHandler = (request: HttpRequest) => Promise<HttpResponse | undefined>;

const lazyAuditSink = (config: RouterConfig, secrets: SecretResolver, log: ActionLog): AuditSink => {
  const sink = loadOnce(async () => {
    const [{ auditTargetSink }, { createTargets }, { createHttpClient }, { memoryLedger }] = await Promise.all([
      import('./audit-targets.ts'),
      import('../targets/create.ts'),
      import('../targets/http.ts'),
      import('../targets/ledger.ts'),
    ]);
    // Audit records go only to types that upsert nothing (audit-targets.ts): no ledger table is needed.
    const targets = createTargets(config, { secrets, http: createHttpClient(), stdout: process.stdout, ledger: memoryLedger() });
    return auditTargetSink(config, targets, log);
  });
  return { record: async (record) => (await sink()).record(record) };
};

const lazyTeamsPath = (appId: string, deps: { engine: ActionEngine; queue: ActionQueue; log: ActionLog; now: () => number }): PathHandler => {
  const handler = loadOnce(async () => {
    const [{ teamsPath }, { createBotFrameworkKeys }, { verifyTeamsRequest }] = await Promise.all([import('./http-teams.ts'), import('./teams-bot-keys.ts'), import('./teams-verify.ts')]);
    const keys = createBotFrameworkKeys();
    return teamsPath({ ...deps, verify: (headers, body) => verifyTeamsRequest(headers, body, { appId, keys }) });
  });
  return async (request) => (request.path === '/teams' ? (await handler())(request) : undefined);
};

const lazySyncPath = (load: () => Promise<PathHandler>): PathHandler => {
  const handler = loadOnce(load);
  return async (request) => (request.path.startsWith('/sync/') ? (await handler())(request) : undefined);
};

export { lazyAuditSink, lazyTeamsPath, lazySyncPath };
