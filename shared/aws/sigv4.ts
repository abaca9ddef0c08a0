import type { defaultProvider } from '@aws-sdk/credential-provider-node';

/**
 * SigV4 for Amazon OpenSearch Service (`es`) and Serverless (`aoss`): the default credential
 * chain and the signer load on first use (a lazily loaded chunk in the Lambda bundles, which
 * sign only for a target with `sigv4`).
 */
interface SigV4Signer {
  sign(request: Record<string, unknown>): Promise<{ headers: Record<string, string> }>;
}

const loadSigV4Signer = async (options: { region: string; service: string }): Promise<SigV4Signer> => {
  const [{ Sha256 }, { defaultProvider }, { SignatureV4 }] = await Promise.all([import('@aws-crypto/sha256-js'), import('@aws-sdk/credential-provider-node'), import('@smithy/signature-v4')]);
  // applyChecksum: Serverless (aoss) needs x-amz-content-sha256.
  return new SignatureV4({ credentials: defaultProvider(), region: options.region, service: options.service, sha256: Sha256, applyChecksum: true }) as never;
};

/** The default credential chain (environment, profile, instance or task role), for a client that signs itself. */
const loadDefaultCredentials = async (): Promise<ReturnType<typeof defaultProvider>> => (await import('@aws-sdk/credential-provider-node')).defaultProvider();

export { loadDefaultCredentials, loadSigV4Signer };
export type { SigV4Signer };
