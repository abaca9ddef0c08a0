/**
 * Named errors. Each keeps its `cause`, and none ever carries a secret value in its
 * message: callers redact URLs and tokens before building one (see redact.ts).
 */
class FindingsRouterError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FindingsRouterError';
  }
}

/** A configuration problem, located at `file:line:column`. */
class ConfigError extends FindingsRouterError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[], options?: ErrorOptions) {
    super(problems.map(formatProblem).join('\n'), options);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

interface ConfigProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

const formatProblem = (p: ConfigProblem): string => `${p.file}:${p.line}:${p.column}: ${p.message}`;

/** A secret reference that could not be resolved. Names the reference, never the value. */
class SecretResolutionError extends FindingsRouterError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SecretResolutionError';
  }
}

/**
 * A failed delivery to one target. `retryable` is the notifier contract: true for
 * throttling, 5xx, timeouts and connection errors; false for payload rejections.
 */
class DeliveryError extends FindingsRouterError {
  readonly target: string;
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(
    target: string,
    message: string,
    details: { retryable: boolean; status?: number; retryAfterMs?: number },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'DeliveryError';
    this.target = target;
    this.retryable = details.retryable;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** A delivery the router refuses to make (for example a private address without opt-in). */
class DestinationRefusedError extends DeliveryError {
  constructor(target: string, message: string) {
    super(target, message, { retryable: false });
    this.name = 'DestinationRefusedError';
  }
}

export {
  FindingsRouterError,
  ConfigError,
  SecretResolutionError,
  DeliveryError,
  DestinationRefusedError,
  formatProblem,
};
export type { ConfigProblem };
