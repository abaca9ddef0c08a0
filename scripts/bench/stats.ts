/** min/median/max of a figure's rounds, and whether its median meets the goal. */
interface Spread {
  min: number;
  median: number;
  max: number;
  rounds: number;
}
interface Judged extends Spread {
  goal: string;
  met: boolean;
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const spread = (xs: number[]): Spread => {
  if (xs.length === 0) throw new Error('a figure without rounds');
  return { min: round2(Math.min(...xs)), median: round2(median(xs)), max: round2(Math.max(...xs)), rounds: xs.length };
};
const atMost = (xs: number[], goal: number): Judged => ({ ...spread(xs), goal: `≤ ${goal}`, met: median(xs) <= goal });
const atLeast = (xs: number[], goal: number): Judged => ({ ...spread(xs), goal: `≥ ${goal}`, met: median(xs) >= goal });
const show = (j: Judged, unit = '') => `${j.median}${unit} (min ${j.min}, max ${j.max}, ${j.rounds} rounds; goal ${j.goal}${unit}: ${j.met ? 'met' : 'NOT met'})`;

export { atLeast, atMost, median, round2, show };
export type { Judged };
