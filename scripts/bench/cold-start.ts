import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error: plain .mjs modules of the build, no type declarations
import { buildBundles, FUNCTIONS } from '../build.mjs';
// @ts-expect-error: see above
import { judgeBundle, readBundleBudget } from '../bundle-budget.mjs';
import { coldStartBytes, type Metafile } from '../cold-start-bytes.ts';
import { ROOT } from './child.ts';
import { atMost, show, type Judged } from './stats.ts';

/** The deployed functions' environment (serverless.yml): source maps on, as Lambda runs them. */
const deployedEnv = (dir: string) => ({
  ...process.env,
  NODE_OPTIONS: '--enable-source-maps',
  LAMBDA_TASK_ROOT: dir, ROUTES_FILE: 'routes.json', ACCOUNTS_FILE: 'accounts.json',
  ACCOUNT_SOURCES: 'organizations,guardduty', EXPECTED_ACCOUNTS: 'accounts', EVENT_BUS_NAME: 'b', QUARANTINE_QUEUE_URL: 'q',
  DELIVERY_QUEUE_URL: 'q', DELIVERY_DLQ_URL: 'q', STATE_TABLE: 's', IDEMPOTENCY_TABLE: 'i', ACTIONS_QUEUE_URL: 'q', AWS_REGION: 'us-east-1',
});

/** Wall time of one ES-module `node -e` (as the Lambda runtime imports a handler); a failed import fails the bench. */
const spawnMs = (code: string, cwd: string, env: NodeJS.ProcessEnv): number => {
  const started = performance.now();
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd, env });
  const ms = performance.now() - started;
  if (child.status !== 0) throw new Error(`cold start: ${code} failed: ${child.stderr.toString().slice(0, 2_000)}`);
  return ms;
};

interface BundleFigure {
  function: string;
  bytes: number;
  bytesGoal: number;
  bytesMet: boolean;
  bytesOverGoal: number;
  importMsOverBare: Judged;
}

/**
 * Figure 3: builds every function with the example configuration into `work` (the bench needs
 * no dist/), then per function its cold-start bytes (as the build's budget counts them) and the
 * import time over a bare `node -e 0`, paired: each round runs bare, then each bundle, and the
 * figure is the spread of the per-round differences.
 */
const coldStartFigure = async (work: string, rounds: number, log: (line: string) => void): Promise<BundleFigure[]> => {
  const outDir = join(work, 'dist');
  await buildBundles({ routesFile: join(ROOT, 'routes.example.yml'), accountsFile: join(ROOT, 'accounts.example.yml'), outDir, checkBudget: false, log: () => {} });
  const budget = readBundleBudget();
  const differences = new Map<string, number[]>(FUNCTIONS.map((fn: string) => [fn, []]));
  for (let round = 0; round < rounds; round++) {
    const bare = spawnMs('0', ROOT, { ...process.env, NODE_OPTIONS: '' });
    for (const fn of FUNCTIONS as string[]) {
      const dir = join(outDir, fn);
      differences.get(fn)!.push(spawnMs(`await import(${JSON.stringify(join(dir, 'index.mjs'))})`, dir, deployedEnv(dir)) - bare);
    }
  }
  return (FUNCTIONS as string[]).map((fn) => {
    const dir = join(outDir, fn);
    const bytes = coldStartBytes(JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Metafile, join(dir, 'index.mjs'), ROOT);
    const judged = judgeBundle(budget, fn, bytes);
    const importMsOverBare = atMost(differences.get(fn)!, 40);
    log(`3. Cold start ${fn}: ${bytes} B (goal ≤ ${judged.goalBytes}: ${judged.goalMet ? 'met' : `NOT met, ${judged.overGoalBytes} B over`}${judged.hasCeiling ? `; build ceiling ${judged.limitBytes}` : ''}), import over bare node ${show(importMsOverBare, ' ms')}`);
    return { function: fn, bytes, bytesGoal: judged.goalBytes, bytesMet: judged.goalMet, bytesOverGoal: judged.overGoalBytes, importMsOverBare };
  });
};

export { coldStartFigure };
