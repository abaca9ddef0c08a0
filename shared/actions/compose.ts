import { createActionEngine, type ActionEngine, type EngineDeps } from './engine.ts';
import type { HandlerDeps } from './handler.ts';
import type { HttpDeps } from './http.ts';
import type { WorkerDeps } from './worker.ts';

/**
 * The actions function's parts wired together once: the Lambda (over AWS), `actions simulate`
 * and the tests (over loopbacks) differ only in what they pass here.
 */
type ComposeOptions = EngineDeps &
  Pick<HttpDeps, 'slackSecret' | 'queue' | 'log' | 'allowedResponseUrl'> &
  Pick<WorkerDeps, 'post' | 'onUpdate'> & {
    /** Handlers of other paths (Teams, sync-back); given the engine, for those that act at once. */
    paths?: (engine: ActionEngine) => NonNullable<HttpDeps['paths']>;
  };

const composeActions = (options: ComposeOptions): HandlerDeps => {
  const engine = createActionEngine(options);
  const { log, now } = options;
  return {
    log,
    http: {
      slackSecret: options.slackSecret,
      store: options.store,
      queue: options.queue,
      log,
      now,
      ...(options.allowedResponseUrl ? { allowedResponseUrl: options.allowedResponseUrl } : {}),
      ...(options.paths ? { paths: options.paths(engine) } : {}),
    },
    worker: { engine, log, now, ...(options.post ? { post: options.post } : {}), ...(options.onUpdate ? { onUpdate: options.onUpdate } : {}) },
  };
};

export { composeActions };
