import { spawn } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '../../bin/findings-router.mjs');

interface BinResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `findings-router` as users do (the bin, its own process) with exactly `env`, and collects its output. */
const runBin = (args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string }): Promise<BinResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { ...(options.cwd ? { cwd: options.cwd } : {}), env: options.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

/**
 * The bin with the DynamoDB SDK pointed at a loopback (dynalite): no real credentials, no
 * retries, no instance metadata lookups.
 */
const runBinAgainstDynamo = (args: string[], options: { endpoint: string; home: string; cwd?: string }): Promise<BinResult> =>
  runBin(args, {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: options.home,
      AWS_ENDPOINT_URL_DYNAMODB: options.endpoint,
      AWS_ACCESS_KEY_ID: 'fake',
      AWS_SECRET_ACCESS_KEY: 'fake',
      AWS_REGION: 'us-east-1',
      AWS_MAX_ATTEMPTS: '1',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
  });

export { runBin, runBinAgainstDynamo };
