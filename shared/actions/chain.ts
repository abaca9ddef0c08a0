import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { logger } from '../observability.ts';
import { createActionsHandler, type HandlerDeps } from './handler.ts';

/**
 * The middy chain of the actions function, built from its dependencies: the Lambda builds it
 * over AWS (functions/actions.ts), `actions simulate` and the tests over loopbacks, so all
 * three run the same chain.
 */
const actionsChain = (deps: HandlerDeps) => middy(createActionsHandler(deps)).use(injectLambdaContext(logger, { resetKeys: true }));

export { actionsChain };
