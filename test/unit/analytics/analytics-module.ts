import { createRequire } from 'node:module';

/**
 * deploy/analytics.cjs (CommonJS, resolved by osls) as the tests see it: the template it builds,
 * the S3 layout, the named queries. Typed here because TypeScript does not read .cjs files.
 */
type Json = any;

interface AnalyticsSettings {
  prefix: string;
  retentionDays: number;
  infrequentAccessDays: number;
  scanLimitGb: number;
}

interface NamedQuery {
  name: string;
  description: string;
  sql: string;
}

interface AnalyticsModule {
  resources: (context: { resolveVariable: (expression: string) => Promise<unknown> }) => Promise<{ Resources?: Record<string, Json>; Outputs?: Json }>;
  build: (settings: AnalyticsSettings) => { Resources: Record<string, Json>; Outputs: Json };
  hiveType: (type: unknown) => string;
  namedQueries: () => NamedQuery[];
  DATA_PREFIX: string;
  ERROR_PREFIX: string;
  RESULTS_PREFIX: string;
  DEFAULTS: { retentionDays: number; infrequentAccessDays: number; scanLimitGb: number; resultsDays: number };
}

const analytics = createRequire(import.meta.url)('../../../deploy/analytics.cjs') as AnalyticsModule;

export { analytics };
export type { Json };
