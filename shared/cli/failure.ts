import { ConfigError } from '../errors.ts';
import { redactText } from '../redact.ts';
import { UsageError } from './usage.ts';

/**
 * What a command's failure says to the user: one line and an exit code. Ordinary mistakes
 * (a missing file, no AWS region or credentials, a bad flag) are named in words; only an
 * unexpected error suggests `--debug`, which prints the stack trace instead.
 *
 * Exit codes: 1 configuration or runtime error (AWS, network, a crash); 2 usage error.
 */
interface Failure {
  message: string;
  exitCode: 1 | 2;
}

const FS_CODES: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
};

const describeFailure = (error: unknown, command: string): Failure => {
  const prefix = `findings-router${command ? ` ${command}` : ''}`;
  if (error instanceof ConfigError) return { message: error.message, exitCode: 1 };
  if (error instanceof UsageError) return { message: `${prefix}: ${error.message}`, exitCode: 2 };
  const e = error as { code?: string; name?: string; message?: string; path?: string; syscall?: string };
  if (e.code?.startsWith('ERR_PARSE_ARGS')) return { message: `${prefix}: ${e.message} (see ${prefix} --help)`, exitCode: 2 };
  if (e.code !== undefined && FS_CODES[e.code] !== undefined && e.path !== undefined) {
    return { message: `${prefix}: ${e.path}: ${FS_CODES[e.code]}`, exitCode: 1 };
  }
  const text = redactText(`${e.message ?? error}`);
  if (text === 'Region is missing' || e.name === 'RegionMissingError') {
    return { message: `${prefix}: no AWS region: pass --region (e.g. --region us-east-1) or set AWS_REGION`, exitCode: 1 };
  }
  if (e.name === 'CredentialsProviderError' || /Could not load credentials/i.test(text)) {
    return { message: `${prefix}: no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (${oneLine(text)})`, exitCode: 1 };
  }
  return { message: `${prefix}: ${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${oneLine(text)} (run with --debug for the stack trace)`, exitCode: 1 };
};

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

export { describeFailure };
