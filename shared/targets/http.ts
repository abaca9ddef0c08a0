import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { DeliveryError, DestinationRefusedError } from '../errors.ts';
import { redactText, redactUrl } from '../redact.ts';
import { isNonPublicAddress } from './address-policy.ts';

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
  /** At most MAX_RESPONSE_BYTES of the body (decoded as UTF-8). */
  body: string;
  /** True when the body was longer and reading stopped at MAX_RESPONSE_BYTES. */
  truncated?: boolean;
}

interface HttpClient {
  /** Resolves with any 2xx response; throws DeliveryError for everything else. */
  send(request: HttpRequest): Promise<HttpResponse>;
}

type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** What a transport hands back once the status line and headers are in; the body is read on demand. */
interface TransportResponse {
  status: number;
  headers: Headers;
  /** The body, at most `limit` bytes: reading stops there and the connection is dropped (never reused). */
  text(limit: number): Promise<BoundedBody>;
}
interface BoundedBody {
  text: string;
  truncated: boolean;
}
type Transport = (url: URL, request: HttpRequest, signal: AbortSignal) => Promise<TransportResponse>;

const MIN_TIMEOUT_MS = 50;
/** Characters of a response body an error message keeps (after redaction of the whole body read). */
const MAX_ERROR_BODY = 300;
/**
 * Bytes of any response body read: every target needs a few hundred (an ack, an id, an error),
 * and a receiver answering 1 GiB must not take the deliver Lambda's 256 MB with it.
 */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * Without `fetch`, requests go through node:http(s) with keep-alive agents: about a third of
 * fetch's CPU per request (no WHATWG streams), and the destination check runs where it cannot
 * be raced: on the addresses each new connection actually connects to (see publicOnlyLookup).
 * An injected `fetch` (tests, chaos) gets the check up front, one DNS lookup per send.
 */
const createHttpClient = (options: { fetch?: FetchLike; now?: () => number } = {}): HttpClient => {
  const transport = options.fetch ? fetchTransport(options.fetch) : nodeTransport();
  const now = options.now ?? Date.now;
  const send = async (request: HttpRequest): Promise<HttpResponse> => {
      // The URL is secret in its credentials, path and query; redactText masks those pieces.
      const secrets = [request.url, ...(request.secrets ?? [])];
      const url = options.fetch ? (await checkDestination(request), new URL(request.url)) : checkUrl(request);
      const timeoutMs = request.deadline - now();
      if (timeoutMs < MIN_TIMEOUT_MS) {
        throw new DeliveryError(request.target, 'no time left for the request', { retryable: true });
      }
      const signal = AbortSignal.timeout(timeoutMs);
      let response: TransportResponse;
      try {
        response = await transport(url, request, signal);
      } catch (cause) {
        throw refusal(cause, request, url) ??
          new DeliveryError(request.target, `request failed: ${describeNetworkError(signal.aborted ? signal.reason : cause, secrets)}`, { retryable: true });
      }
      let body: BoundedBody;
      try {
        body = await response.text(MAX_RESPONSE_BYTES);
      } catch (cause) {
        throw new DeliveryError(request.target, `response body failed: ${describeNetworkError(signal.aborted ? signal.reason : cause, secrets)}`, {
          retryable: true,
          status: response.status,
        });
      }
      if (response.status >= 200 && response.status < 300) {
        return { status: response.status, headers: response.headers, body: body.text, truncated: body.truncated };
      }
      const retryable = isRetryableStatus(response.status, request.retryStatuses);
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now());
      const snippet = redactText(body.text, secrets, { oneLine: true, maxLength: MAX_ERROR_BODY });
      const what = response.status >= 300 && response.status < 400 ? 'redirect refused' : 'rejected';
      throw new DeliveryError(
        request.target,
        `HTTP ${response.status} ${what}${snippet ? `: ${snippet}` : ''}`,
        { retryable, status: response.status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
      );
  };
  return {
    // Whatever a transport or a parser throws (a bug, an exotic socket error) leaves as a
    // classified DeliveryError: callers decide retry versus dead letter on that type alone.
    send: (request) =>
      send(request).catch((cause: unknown) => {
        if (cause instanceof DeliveryError) throw cause;
        throw new DeliveryError(request.target, `request failed: ${describeNetworkError(cause, [request.url, ...(request.secrets ?? [])])}`, { retryable: true }, { cause });
      }),
  };
};

const fetchTransport = (doFetch: FetchLike): Transport => async (url, request, signal) => {
  const response = await doFetch(url.href, { method: request.method ?? 'POST', headers: request.headers, body: request.body, redirect: 'manual', signal });
  return { status: response.status, headers: response.headers, text: (limit) => readFetchBody(response, limit) };
};

/** Reads a fetch body up to `limit` bytes, then cancels the stream (the connection is not reused). */
const readFetchBody = async (response: Response, limit: number): Promise<BoundedBody> => {
  if (response.body === null) return { text: '', truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: Buffer.concat(chunks).toString('utf8'), truncated: false };
    chunks.push(value.subarray(0, limit - size));
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return { text: Buffer.concat(chunks).toString('utf8'), truncated: true };
    }
  }
};

/** A name that resolved to a private address, or did not resolve, on a checked connection. */
class LookupRefused extends Error {
  readonly reason: 'private' | 'dns';
  readonly code: string | undefined;
  constructor(reason: 'private' | 'dns', code?: string) {
    super(reason);
    this.reason = reason;
    this.code = code;
  }
}

type Resolve = (hostname: string, options: { all: true }, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/**
 * `lookup` for agents that must not reach non-public networks: the connection is refused when
 * any address of the name is not public unicast (address-policy.ts), so a keep-alive
 * connection (reused without a new lookup) was checked when it opened. IP literals never
 * reach a lookup: checkUrl refuses them first. `resolve` is the DNS resolver (tests give
 * their own, so the table is checked without a packet).
 */
const publicOnlyLookupWith = (resolve: Resolve): LookupFunction => (hostname, options, callback) => {
  resolve(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(new LookupRefused('dns', error.code), '', 4);
    if (addresses.length === 0 || addresses.some((entry) => isNonPublicAddress(entry.address))) return callback(new LookupRefused('private'), '', 4);
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    return callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

// Annotated pure: a bundle that reaches this file only through a target's spec (route) leaves it and address-policy's checks out.
const publicOnlyLookup = /* @__PURE__ */ publicOnlyLookupWith(dnsLookup as Resolve);

const nodeTransport = (): Transport => {
  // Separate pools: a connection opened without the check is never reused for a checked request.
  const agents = new Map<string, HttpAgent>();
  const agentFor = (url: URL, checked: boolean): HttpAgent => {
    const key = `${url.protocol}${checked}`;
    let agent = agents.get(key);
    if (agent === undefined) {
      const settings = { keepAlive: true, ...(checked ? { lookup: publicOnlyLookup } : {}) };
      agent = url.protocol === 'https:' ? new HttpsAgent(settings) : new HttpAgent(settings);
      agents.set(key, agent);
    }
    return agent;
  };
  return (url, request, signal) =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...request.headers };
      if (request.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
        headers['content-length'] = Buffer.byteLength(request.body);
      }
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      // node:http never follows redirects: a 3xx reaches the classifier, as with redirect: 'manual'.
      const outgoing = send(url, { method: request.method ?? 'POST', headers, agent: agentFor(url, request.allowPrivateNetwork !== true), signal }, (incoming) => {
        // Network errors where fetch has them, so either transport classifies alike: a 1xx as the
        // final answer (a 101 nobody asked for), and 407 (fetch has no window to ask for proxy
        // credentials).
        const status = incoming.statusCode ?? 0;
        if (status < 200 || status === 407) {
          incoming.destroy();
          reject(new Error(status === 407 ? 'proxy authentication required' : `unexpected final status ${status}`));
          return;
        }
        // A throw in this listener would be uncaught (it runs from the socket's events): reject instead.
        try {
          const headers = toHeaders(incoming.rawHeaders);
          // Reading starts now so that an error on the body stream always has a listener.
          const body = readBody(incoming, MAX_RESPONSE_BYTES);
          body.catch(() => undefined);
          resolve({ status, headers, text: () => body });
        } catch (error) {
          incoming.destroy();
          reject(error);
        }
      });
      outgoing.on('error', reject);
      outgoing.end(request.body);
    });
};

/**
 * Reads at most `limit` bytes of the body; past that, the response (and its socket, so the
 * agent never reuses a connection with unread bytes) is destroyed. Listeners never throw:
 * whatever goes wrong rejects the promise.
 */
const readBody = (incoming: IncomingMessage, limit: number): Promise<BoundedBody> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const guarded = <A extends unknown[]>(listener: (...args: A) => void) => (...args: A): void => {
      try {
        listener(...args);
      } catch (error) {
        reject(error);
      }
    };
    incoming.on('data', guarded((chunk: Buffer) => {
      if (size > limit) return; // already answered; the stream is being destroyed
      chunks.push(chunk.byteLength > limit - size ? chunk.subarray(0, limit - size) : chunk);
      size += chunk.byteLength;
      if (size > limit) {
        resolve({ text: Buffer.concat(chunks).toString('utf8'), truncated: true });
        incoming.destroy();
      }
    }));
    incoming.on('end', guarded(() => resolve({ text: Buffer.concat(chunks).toString('utf8'), truncated: false })));
    incoming.on('error', reject);
    incoming.on('close', () => {
      if (!incoming.complete) reject(Object.assign(new Error('connection closed before the body ended'), { code: 'ECONNRESET' }));
    });
  });

const toHeaders = (raw: readonly string[]): Headers => {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i]!, raw[i + 1]!);
    } catch {
      // A header fetch would not accept either (invalid name or value): dropped.
    }
  }
  return headers;
};

/** A destination the connection-time check refused, as the error checkDestination would raise. */
const refusal = (cause: unknown, request: HttpRequest, url: URL): DeliveryError | undefined => {
  if (!(cause instanceof LookupRefused)) return undefined;
  if (cause.reason === 'dns') {
    return new DeliveryError(request.target, `DNS lookup failed for ${url.host}: ${cause.code ?? 'error'}`, { retryable: true });
  }
  return privateRefusal(request, url);
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
  const error = cause as { name?: string; message?: string; code?: string; cause?: { code?: string; message?: string } };
  if (error?.name === 'TimeoutError' || error?.name === 'AbortError') return 'timed out';
  // fetch wraps the socket's error in `cause`; node:http raises it as is.
  const code = error?.cause?.code ?? error?.code;
  const message = error?.cause?.message ?? error?.message ?? String(cause);
  return redactText(code ? `${code} ${message}` : message, secrets, { oneLine: true, maxLength: MAX_ERROR_BODY });
};

/**
 * What can be checked without DNS: a valid http(s) URL; without allowPrivateNetwork, https only
 * and no private, loopback or link-local IP literal.
 */
const checkUrl = (request: HttpRequest): URL => {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    throw new DestinationRefusedError(request.target, 'invalid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new DestinationRefusedError(request.target, `scheme ${url.protocol} refused`);
  }
  if (request.allowPrivateNetwork) return url;
  if (url.protocol !== 'https:') {
    throw new DestinationRefusedError(request.target, `plain http refused for ${redactUrl(request.url)} (https only)`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && isNonPublicAddress(host)) throw privateRefusal(request, url);
  return url;
};

const privateRefusal = (request: HttpRequest, url: URL): DestinationRefusedError =>
  new DestinationRefusedError(
    request.target,
    `${url.host} resolves to a private, loopback or link-local address (set allowPrivateNetwork: true to allow)`,
  );

/** Refuses non-https, and private/loopback/link-local addresses (after DNS) unless allowed. */
const checkDestination = async (request: HttpRequest): Promise<void> => {
  const url = checkUrl(request);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (request.allowPrivateNetwork || isIP(host)) return;
  let addresses: string[];
  try {
    addresses = (await lookup(host, { all: true })).map((entry) => entry.address);
  } catch (cause) {
    throw new DeliveryError(request.target, `DNS lookup failed for ${url.host}: ${(cause as { code?: string }).code ?? 'error'}`, {
      retryable: true,
    });
  }
  if (addresses.some(isNonPublicAddress)) throw privateRefusal(request, url);
};

/** Kept for callers that predate address-policy.ts: true for every address that is not public unicast. */
const isPrivateAddress = isNonPublicAddress;

export { createHttpClient, parseRetryAfter, isPrivateAddress, checkDestination, publicOnlyLookupWith, LookupRefused, MAX_RESPONSE_BYTES };
export type { HttpClient, HttpRequest, HttpResponse };
