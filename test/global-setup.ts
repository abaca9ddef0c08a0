// @ts-expect-error: a plain .mjs module of the launcher, no type declarations
import { cliEntry } from '../bin/cli-bundle.mjs';

/**
 * Builds the CLI bundle once before the test files start (bin/cli-bundle.mjs): without it, the
 * first tests that spawn the CLI in parallel workers would each build their own.
 */
export default async function buildCliBundle(): Promise<void> {
  await cliEntry();
}
