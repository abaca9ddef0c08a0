export * from './envelope.ts';
export * from './finding.ts';
export * from './enriched.ts';
