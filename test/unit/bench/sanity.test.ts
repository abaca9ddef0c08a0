import { describe, expect, it } from 'vitest';
import { impossibleFigures } from '../../../scripts/bench/sanity.ts';

/** The bench fails on a figure that cannot be true, not on noise a loaded machine adds. */
const judged = (min: number, median: number, max: number) => ({ min, median, max, rounds: 3, goal: '≤ 40', met: false });
const bundle = (importMsOverBare: unknown) => ({ bundles: [{ function: 'route', bytes: 500_000, importMsOverBare }] });

describe('impossibleFigures', () => {
  it('accepts an import figure whose fastest paired round came out below bare node, the median above it', () => {
    expect(impossibleFigures(bundle(judged(-3, 290, 750)))).toEqual([]);
  });

  it('names an import faster than bare node by its median, and a spread out of order', () => {
    expect(impossibleFigures(bundle(judged(-9, -2, 5)))).toContainEqual(expect.stringContaining('bundles.route.importMsOverBare.median = -2'));
    expect(impossibleFigures(bundle(judged(10, 5, 20)))).toEqual([expect.stringContaining('out of order')]);
    expect(impossibleFigures(bundle({ median: 5, max: 9 }))).toEqual([expect.stringContaining('bundles.route.importMsOverBare.min = undefined')]);
  });

  it('names a CPU ratio below 1 and any non-positive ratio, min included', () => {
    const problems = impossibleFigures({ cpuRatio: judged(0.5, 0.9, 2), cpuRatioByN: { '5000': judged(0, 2, 3) } });
    expect(problems).toEqual([expect.stringContaining('cpuRatio.median = 0.9 (cannot be below 1)'), expect.stringContaining('cpuRatioByN.5000.min = 0')]);
  });
});
