import * as z from 'zod/mini';
import { SecretResolutionError } from './errors.ts';

/**
 * A secret is never written in the config, only a reference to where it lives.
 * `{ value }` exists for local experiments and is warned about at load time.
 */
const SecretRefSchema = z.union([
  z.strictObject({ env: z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')) }),
  z.strictObject({ ssm: z.string().check(z.regex(/^\/[\w.\-/]+$/, 'expected an SSM parameter name starting with /')) }),
  z.strictObject({ secretsManager: z.string().check(z.minLength(1)) }),
  z.strictObject({ value: z.string() }),
]);
type SecretRef = z.infer<typeof SecretRefSchema>;

/** Resolves references at run time; implementations cache with a bounded TTL. */
interface SecretResolver {
  resolve(ref: SecretRef): Promise<string>;
}

const describeSecretRef = (ref: SecretRef): string => {
  if ('env' in ref) return `env:${ref.env}`;
  if ('ssm' in ref) return `ssm:${ref.ssm}`;
  if ('secretsManager' in ref) return `secretsManager:${ref.secretsManager}`;
  return 'inline value';
};

/**
 * The local resolver: environment variables and inline values. SSM and Secrets Manager
 * need AWS; the Lambda resolver (aws-secrets.ts) handles those.
 */
const localSecretResolver = (env: NodeJS.ProcessEnv = process.env): SecretResolver => ({
  resolve: async (ref) => {
    if ('value' in ref) return ref.value;
    if ('env' in ref) {
      const value = env[ref.env];
      if (value === undefined || value === '') {
        throw new SecretResolutionError(`secret ${describeSecretRef(ref)} is not set`);
      }
      return value;
    }
    throw new SecretResolutionError(`secret ${describeSecretRef(ref)} needs AWS; it cannot be resolved locally`);
  },
});

/**
 * Where `settings` holds an inline `{ value }` secret, at any depth (elasticsearch `basic`
 * nests them), as key paths. Target schemas are strict, so an object whose only key is a
 * string `value` can only be the inline form of SecretRefSchema.
 */
const inlineSecretPaths = (settings: unknown, path: (string | number)[] = []): (string | number)[][] => {
  if (Array.isArray(settings)) return settings.flatMap((item, index) => inlineSecretPaths(item, [...path, index]));
  if (settings === null || typeof settings !== 'object') return [];
  const keys = Object.keys(settings);
  if (keys.length === 1 && keys[0] === 'value' && typeof (settings as { value: unknown }).value === 'string') return [path];
  return keys.flatMap((key) => inlineSecretPaths((settings as Record<string, unknown>)[key], [...path, key]));
};

export { SecretRefSchema, describeSecretRef, localSecretResolver, inlineSecretPaths };
export type { SecretRef, SecretResolver };
