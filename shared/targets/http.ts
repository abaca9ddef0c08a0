import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { DeliveryError, DestinationRefusedError } from '../errors.ts';
import { redactText, redactUrl } from '../redact.ts';

/**
 * The one HTTP client every HTTP target uses: timeouts from the delivery deadline, no
 * redirects, destination checks, status classification (the notifier contract) and
 * redaction of the URL and secrets in every error it raises.
 */
interface HttpRequest {
  target: string;
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Absolute deadline (ms since epoch); the request times out before it. */
  deadline: number;
  /** Private, loopback and link-local destinations (and plain http to them) only with this. */
  allowPrivateNetwork?: boolean;
  /** Values that must never appear in an error (tokens, webhook URLs). */
  secrets?: readonly string[];
  /** Extra statuses to retry besides 408, 429 and 5xx. */
  retryStatuses?: readonly number[];
}

interface HttpResponse {
  status: number;
  headers: Headers;
  body: string;
}

interface HttpClient {
  /** Resolves with any 2xx response; throws DeliveryError for everything else. */
  send(request: HttpRequest): Promise<HttpResponse>;
}

type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

const MIN_TIMEOUT_MS = 50;
const MAX_ERROR_BODY = 300;

const createHttpClient = (options: { fetch?: FetchLike; now?: () => number } = {}): HttpClient => {
  const doFetch: FetchLike = options.fetch ?? ((url, init) => fetch(url, init));
  const now = options.now ?? Date.now;
  return {
    send: async (request) => {
      const secrets = [request.url, ...urlParts(request.url), ...(request.secrets ?? [])];
      await checkDestination(request);
      const timeoutMs = request.deadline - now();
      if (timeoutMs < MIN_TIMEOUT_MS) {
        throw new DeliveryError(request.target, 'no time left for the request', { retryable: true });
      }
      let response: Response;
      try {
        response = await doFetch(request.url, {
          method: request.method ?? 'POST',
          headers: request.headers,
          body: request.body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (cause) {
        throw new DeliveryError(request.target, `request failed: ${describeNetworkError(cause, secrets)}`, { retryable: true });
      }
      let body: string;
      try {
        body = await response.text();
      } catch (cause) {
        throw new DeliveryError(request.target, `response body failed: ${describeNetworkError(cause, secrets)}`, {
          retryable: true,
          status: response.status,
        });
      }
      if (response.status >= 200 && response.status < 300) return { status: response.status, headers: response.headers, body };
      const retryable = isRetryableStatus(response.status, request.retryStatuses);
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now());
      const snippet = redactText(body.slice(0, MAX_ERROR_BODY), secrets).replace(/\s+/g, ' ').trim();
      const what = response.status >= 300 && response.status < 400 ? 'redirect refused' : 'rejected';
      throw new DeliveryError(
        request.target,
        `HTTP ${response.status} ${what}${snippet ? `: ${snippet}` : ''}`,
        { retryable, status: response.status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
      );
    },
  };
};

/** Path and query on their own (webhook tokens live there): error pages echo them ("Cannot POST /path"). */
const urlParts = (url: string): string[] => {
  try {
    const { pathname, search } = new URL(url);
    return [`${pathname}${search}`, pathname, search];
  } catch {
    return [];
  }
};

/** 408, 429 and every 5xx are worth another attempt; the rest are the payload's fault. */
const isRetryableStatus = (status: number, extra: readonly number[] = []): boolean =>
  status === 408 || status === 429 || (status >= 500 && status <= 599) || extra.includes(status);

/** IMF-fixdate, RFC 850 and asctime (RFC 9110 §5.6.7); Date.parse alone accepts '-1' or '1.5'. */
const HTTP_DATE =
  /^(?:[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT|[A-Za-z]{6,9}, \d{2}-[A-Za-z]{3}-\d{2} \d{2}:\d{2}:\d{2} GMT|[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})$/;

/** `Retry-After` as delay-seconds or an HTTP date; undefined when absent or unparseable. */
const parseRetryAfter = (value: string | null, now: number): number | undefined => {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  if (!HTTP_DATE.test(trimmed)) return undefined;
  const date = Date.parse(trimmed.endsWith(' GMT') ? trimmed : `${trimmed} GMT`); // asctime has no zone: it is GMT
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
};

const describeNetworkError = (cause: unknown, secrets: readonly string[]): string => {
  const error = cause as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (error?.name === 'TimeoutError' || error?.name === 'AbortError') return 'timed out';
  const code = error?.cause?.code;
  const message = error?.cause?.message ?? error?.message ?? String(cause);
  return redactText(code ? `${code} ${message}` : message, secrets);
};

/** Refuses non-https, and private/loopback/link-local addresses (after DNS) unless allowed. */
const checkDestination = async (request: HttpRequest): Promise<void> => {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    throw new DestinationRefusedError(request.target, 'invalid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new DestinationRefusedError(request.target, `scheme ${url.protocol} refused`);
  }
  if (request.allowPrivateNetwork) return;
  if (url.protocol !== 'https:') {
    throw new DestinationRefusedError(request.target, `plain http refused for ${redactUrl(request.url)} (https only)`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((entry) => entry.address);
  } catch (cause) {
    throw new DeliveryError(request.target, `DNS lookup failed for ${url.host}: ${(cause as { code?: string }).code ?? 'error'}`, {
      retryable: true,
    });
  }
  const privateAddress = addresses.find(isPrivateAddress);
  if (privateAddress !== undefined) {
    throw new DestinationRefusedError(
      request.target,
      `${url.host} resolves to a private, loopback or link-local address (set allowPrivateNetwork: true to allow)`,
    );
  }
};

const isPrivateAddress = (address: string): boolean => {
  if (isIP(address) === 4) {
    const [a = 0, b = 0] = address.split('.').map(Number);
    return (
      a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || a >= 224
    );
  }
  const lower = address.toLowerCase();
  if (lower.startsWith('::ffff:')) return isPrivateAddress(mappedIpv4(lower.slice(7)));
  return lower === '::' || lower === '::1' || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower) || lower.startsWith('ff');
};

/** `a00:1` (how URL and some resolvers write ::ffff:10.0.0.1) → `10.0.0.1`; dotted input unchanged. */
const mappedIpv4 = (tail: string): string => {
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(tail);
  if (hex === null) return tail;
  const [high, low] = [Number.parseInt(hex[1]!, 16), Number.parseInt(hex[2]!, 16)];
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
};

export { createHttpClient, isRetryableStatus, parseRetryAfter, isPrivateAddress, checkDestination };
export type { HttpClient, HttpRequest, HttpResponse, FetchLike };
