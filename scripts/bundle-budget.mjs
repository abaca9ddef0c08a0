// Reads scripts/bundle-budget.json (the 250 KB goal and, per function that cannot reach it, a
// ceiling) and judges a bundle's cold-start bytes against it. The build and the bench share this.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUDGET_FILE = join(dirname(fileURLToPath(import.meta.url)), 'bundle-budget.json');

/** @returns {{ goalBytes: number, functions: Record<string, { ceilingBytes?: number }> }} */
const readBundleBudget = (file = BUDGET_FILE) => {
  if (!existsSync(file)) return { goalBytes: Number.POSITIVE_INFINITY, functions: {} };
  const budget = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof budget.goalBytes !== 'number' || budget.goalBytes <= 0) throw new Error(`${file}: goalBytes must be a positive number`);
  return { goalBytes: budget.goalBytes, functions: budget.functions ?? {} };
};

/**
 * The limit the build enforces is the function's ceiling where it has one, else the goal.
 * `overGoalBytes` is how far the bundle misses the goal (0 when it meets it).
 */
const judgeBundle = (budget, fn, bytes) => {
  const ceiling = budget.functions[fn]?.ceilingBytes;
  const limitBytes = ceiling ?? budget.goalBytes;
  return { limitBytes, overLimit: bytes > limitBytes, goalBytes: budget.goalBytes, goalMet: bytes <= budget.goalBytes, overGoalBytes: Math.max(0, bytes - budget.goalBytes), hasCeiling: ceiling !== undefined };
};

const describeJudgement = (j) =>
  `${j.overLimit ? 'OVER ' : ''}${j.hasCeiling ? `ceiling ${j.limitBytes}` : `budget ${j.limitBytes}`}; goal ${j.goalBytes} ${j.goalMet ? 'met' : `missed by ${j.overGoalBytes} B`}`;

export { describeJudgement, judgeBundle, readBundleBudget };
