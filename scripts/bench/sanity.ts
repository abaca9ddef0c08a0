/**
 * Names every figure that cannot be true, so a broken measurement fails the run instead of
 * reading as a result: a ratio or rate that is not a positive finite number, a CPU ratio
 * below 1 (replay parses every event, so it cannot cost less than the parse), an import
 * faster than bare node (by its median: on a loaded machine one paired round can come out
 * below zero, which is noise, shown in the spread), a bundle or a peak RSS of zero, a min
 * above its median.
 */
const impossibleFigures = (result: Record<string, unknown>): string[] => {
  const problems: string[] = [];
  const positive = (path: string, value: unknown) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) problems.push(`${path} = ${String(value)} (expected a positive number)`);
  };
  /** `noisyMin`: a paired difference whose single rounds may come out below zero under load (the median may not). */
  const spread = (path: string, figure: unknown, floor = 0, noisyMin = false) => {
    const { min, median, max } = (figure ?? {}) as { min?: number; median?: number; max?: number };
    for (const [key, value] of Object.entries(noisyMin ? { median, max } : { min, median, max })) positive(`${path}.${key}`, value);
    if (noisyMin && (typeof min !== 'number' || !Number.isFinite(min))) problems.push(`${path}.min = ${String(min)} (expected a number)`);
    if (typeof min === 'number' && typeof max === 'number' && typeof median === 'number' && !(min <= median && median <= max)) problems.push(`${path}: min ${min}, median ${median}, max ${max} out of order`);
    if (typeof median === 'number' && median < floor) problems.push(`${path}.median = ${median} (cannot be below ${floor})`);
  };
  if ('cpuRatio' in result) {
    spread('cpuRatio', result.cpuRatio, 1);
    for (const [n, figure] of Object.entries(result.cpuRatioByN as Record<string, unknown>)) spread(`cpuRatioByN.${n}`, figure, 1);
  }
  if ('throughputRatio' in result) spread('throughputRatio', result.throughputRatio);
  for (const bundle of (result.bundles ?? []) as { function: string; bytes: number; importMsOverBare: unknown }[]) {
    positive(`bundles.${bundle.function}.bytes`, bundle.bytes);
    spread(`bundles.${bundle.function}.importMsOverBare`, bundle.importMsOverBare, 0, true);
  }
  if ('replay200k' in result) {
    const { peakRssMb, findingsPerSec } = result.replay200k as { peakRssMb: number; findingsPerSec: number };
    positive('replay200k.peakRssMb', peakRssMb);
    positive('replay200k.findingsPerSec', findingsPerSec);
  }
  return problems;
};

export { impossibleFigures };
