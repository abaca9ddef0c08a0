import { SecretResolutionError } from '../errors.ts';
import { describeSecretRef, localSecretResolver, type SecretResolver } from '../secrets.ts';

/**
 * Resolves secret references in Lambda with Powertools Parameters, cached for a bounded
 * time so a rotated secret is picked up within minutes. Errors name the reference only.
 */
const SECRET_MAX_AGE_SECONDS = 300;

const awsSecretResolver = (): SecretResolver => {
  const local = localSecretResolver();
  return {
    resolve: async (ref) => {
      try {
        // The SSM and Secrets Manager clients load on first use (lazily loaded chunks in the bundles).
        if ('ssm' in ref) {
          const { getParameter } = await import('@aws-lambda-powertools/parameters/ssm');
          const value = await getParameter(ref.ssm, { decrypt: true, maxAge: SECRET_MAX_AGE_SECONDS });
          if (typeof value !== 'string') throw new Error('parameter not found');
          return value;
        }
        if ('secretsManager' in ref) {
          const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
          const value = await getSecret(ref.secretsManager, { maxAge: SECRET_MAX_AGE_SECONDS });
          if (typeof value !== 'string') throw new Error('secret not found or not a string');
          return value;
        }
        return await local.resolve(ref);
      } catch (cause) {
        if (cause instanceof SecretResolutionError) throw cause;
        throw new SecretResolutionError(`cannot resolve secret ${describeSecretRef(ref)}: ${(cause as Error).name}`);
      }
    },
  };
};

export { awsSecretResolver };
