import type { PutEventsResponse } from '@aws-sdk/client-eventbridge';
import { DeliveryError } from '../errors.ts';
import { redactText } from '../redact.ts';

/**
 * How EventBridge (PutEvents) and STS (AssumeRole) failures become DeliveryErrors.
 *
 * PutEvents answers 200 even when the entry failed: `FailedEntryCount` and the entry's
 * `ErrorCode` say so. The PutEventsResultEntry reference lists InternalFailure and
 * ThrottlingException as retryable (InternalException is the whole-call name of the
 * former); every other code (AccessDeniedException, InvalidArgument, MalformedDetail,
 * NotAuthorizedForSourceException, NotAuthorizedForDetailTypeException, ...) is permanent,
 * and its code is in the message, so it is in the dead letter.
 */
const RETRYABLE_ENTRY_CODES = new Set(['ThrottlingException', 'InternalException', 'InternalFailure']);

/** Whole-call error names worth another attempt besides server faults, 408, 429 and 5xx. */
const RETRYABLE_CALL_CODES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'InternalException',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'ExpiredToken',
  'ExpiredTokenException',
  'IDPCommunicationError',
]);

const oneLine = (text: string, secrets: readonly string[], limit: number): string =>
  redactText(text.slice(0, limit), secrets).replace(/\s+/g, ' ').trim();

/** Throws unless EventBridge took the one entry sent (it answered an EventId for it). */
const checkPutEventsOutput = (target: string, bus: string, output: PutEventsResponse, secrets: readonly string[] = []): void => {
  const entries = output.Entries ?? [];
  const failed = entries.find((entry) => entry.ErrorCode !== undefined && entry.ErrorCode !== '');
  if (failed === undefined && (output.FailedEntryCount ?? 0) === 0) {
    if (entries.length === 1 && entries[0]?.EventId) return;
    throw new DeliveryError(target, `PutEvents to ${bus} answered ${entries.length} result(s) and no event id for 1 entry: the delivery is unconfirmed`, {
      retryable: true,
    });
  }
  const code = failed?.ErrorCode ?? 'unknown';
  const message = oneLine(failed?.ErrorMessage ?? '', secrets, 300);
  throw new DeliveryError(target, `PutEvents to ${bus} rejected the entry: ${code}${message ? ` ${message}` : ''}`, {
    // FailedEntryCount without an error code: nothing says the entry is bad, so try again.
    retryable: failed === undefined || RETRYABLE_ENTRY_CODES.has(code),
  });
};

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

/**
 * An SDK or transport failure of `operation` as a DeliveryError. Only the error's name,
 * code, status and (redacted) message are kept, never the SDK error itself: it holds the
 * raw response and the request.
 */
const awsCallError = (target: string, operation: string, cause: unknown, secrets: readonly string[], timedOut = false): DeliveryError => {
  if (cause instanceof DeliveryError) return cause;
  const error = (cause ?? {}) as SdkError;
  const name = error.name ?? 'Error';
  if (timedOut || name === 'AbortError' || name === 'TimeoutError') {
    return new DeliveryError(target, `${operation} failed: timed out`, { retryable: true });
  }
  const message = oneLine(String(error.message ?? ''), secrets, 300);
  if (name === 'CredentialsProviderError') {
    return new DeliveryError(target, `${operation} failed: no AWS credentials (${message})`, { retryable: false });
  }
  const status = error.$metadata?.httpStatusCode;
  if (status === undefined) {
    // No answer at all: a connection refused, reset or a DNS failure.
    return new DeliveryError(target, `${operation} failed: ${[error.code, name, message].filter(Boolean).join(' ')}`, { retryable: true });
  }
  const retryable = error.$fault === 'server' || status === 408 || status === 429 || status >= 500 || RETRYABLE_CALL_CODES.has(name);
  return new DeliveryError(target, `${operation} failed: HTTP ${status} ${name}${message ? `: ${message}` : ''}`, { retryable, status });
};

export { checkPutEventsOutput, awsCallError };
