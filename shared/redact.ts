import { truncate } from './text.ts';

/**
 * The one redaction for anything that may reach a log, an error message, a report or a
 * dead letter. URLs keep their scheme and host (useful for an operator) and lose
 * credentials, path and query (where webhook tokens live); auth-looking `key=value` pairs
 * lose the value; and each known secret is masked in every form a receiver may echo it in
 * (raw, URL-encoded, JSON-escaped, base64 at any alignment) — and so is any piece of it of
 * MIN_FRAGMENT characters or more, so a secret cut short (by a receiver, a byte bound or
 * a snippet limit) is masked as well as a whole one.
 *
 * Redaction runs on the whole text and only then is the result cut (maxLength): cutting
 * first is how a secret that straddles the cut used to escape.
 */
const REDACTED = '[REDACTED]';

/** Pieces of a secret shorter than this are not masked on their own (too many false hits). */
const MIN_FRAGMENT = 8;
/** A whole secret shorter than this is not masked at all: it would mask ordinary words. */
const MIN_SECRET = 4;

const redactUrl = (url: string): string => {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}/${REDACTED}`;
  } catch {
    return REDACTED;
  }
};

const URL_PATTERN = /\bhttps?:\/\/[^\s"'<>]+/gi;
const AUTH_PATTERN = /\b(authorization|x-api-key|api[-_]?key|token|password|secret|signature|sig)(["']?\s*[:=]\s*["']?)((?:basic|bearer|geniekey|splunk|apikey)\s+)?([^\s"',}]+)/gi;
const REDACTED_ATOM = /\[REDACTED\]/;

interface RedactOptions {
  /** Cut the redacted text to this many characters (marker included). */
  maxLength?: number;
  /** Collapse whitespace runs (newlines included) to one space and trim: for one-line messages. */
  oneLine?: boolean;
}

/**
 * Masks every URL's path and credentials, every auth-looking pair and each secret (every
 * form, every piece of MIN_FRAGMENT+ characters); then, if asked, makes it one line and cuts
 * it to `maxLength`.
 */
const redactText = (text: string, secrets: readonly string[] = [], options: RedactOptions = {}): string => {
  // URLs first: a secret masked inside a URL would leave a URL that no longer parses (host lost too).
  const generic = text
    .replace(URL_PATTERN, (url) => redactUrl(url))
    .replace(AUTH_PATTERN, (_match, key: string, separator: string, scheme: string | undefined) => `${key}${separator}${scheme ?? ''}${REDACTED}`);
  let out = maskSecrets(generic, secrets);
  if (options.oneLine) out = out.replace(/\s+/g, ' ').trim();
  return options.maxLength === undefined ? out : truncate(out, options.maxLength, REDACTED_ATOM);
};

/**
 * Secrets split by how they are matched. A token (an API key, a password, the token-like
 * parts of a webhook URL) is masked whole and by every MIN_FRAGMENT-character piece. The
 * rest of a URL's path and query (`/workflows/.../triggers/manual/paths/invoke`) is masked
 * whole, and by pieces only where the text is cut through it (at its start or end): its
 * ordinary words would otherwise mask the same words in a receiver's error ("Workflow...").
 */
interface SecretSet {
  tokens: string[];
  wholes: string[];
}

const maskSecrets = (text: string, secrets: readonly string[]): string => {
  const set: SecretSet = { tokens: [], wholes: [] };
  for (const secret of secrets) addSecret(set, secret);
  const tokens = formsOf(set.tokens);
  const wholes = formsOf(set.wholes);
  if (tokens.length === 0 && wholes.length === 0) return text;
  const haystack = text;
  const covered = new Uint8Array(text.length);
  const cover = (from: number, to: number) => covered.fill(1, from, to);
  const grams = new Set<string>();
  for (const form of tokens) {
    if (form.length < MIN_FRAGMENT) coverAll(haystack, form, cover);
    else for (let i = 0; i + MIN_FRAGMENT <= form.length; i++) grams.add(form.slice(i, i + MIN_FRAGMENT));
  }
  if (grams.size > 0) {
    for (let i = 0; i + MIN_FRAGMENT <= haystack.length; i++) {
      if (grams.has(haystack.slice(i, i + MIN_FRAGMENT))) cover(i, i + MIN_FRAGMENT);
    }
  }
  for (const form of wholes) {
    coverAll(haystack, form, cover);
    coverCutEdges(haystack, form, cover);
  }
  let out = '';
  for (let i = 0; i < text.length; ) {
    const start = i;
    const masked = covered[i] === 1;
    while (i < text.length && (covered[i] === 1) === masked) i++;
    out += masked ? REDACTED : text.slice(start, i);
  }
  return out;
};

const formsOf = (secrets: readonly string[]): string[] =>
  [...new Set(secrets.flatMap(secretForms))].filter((form) => form.length >= MIN_SECRET);

const coverAll = (haystack: string, form: string, cover: (from: number, to: number) => void): void => {
  for (let at = haystack.indexOf(form); at !== -1; at = haystack.indexOf(form, at + 1)) cover(at, at + form.length);
};

/** A text that ends with the start of `form`, or starts with its end (MIN_FRAGMENT+ characters). */
const coverCutEdges = (haystack: string, form: string, cover: (from: number, to: number) => void): void => {
  for (let length = Math.min(form.length, haystack.length); length >= MIN_FRAGMENT; length--) {
    if (haystack.endsWith(form.slice(0, length))) {
      cover(haystack.length - length, haystack.length);
      break;
    }
  }
  for (let length = Math.min(form.length, haystack.length); length >= MIN_FRAGMENT; length--) {
    if (haystack.startsWith(form.slice(form.length - length))) {
      cover(0, length);
      break;
    }
  }
};

/**
 * A URL-shaped secret (a webhook URL) is secret in its credentials, path and query, not in
 * its scheme and host (masking `https://hooks.slack.com` would hide every URL's host). Its
 * credentials (and the user:password pair a Basic header encodes) and its token-like path
 * segments and query values are tokens; its path and query as a whole are wholes.
 */
const addSecret = (set: SecretSet, secret: string): void => {
  const url = /^https?:\/\//i.test(secret) ? parseUrl(secret) : undefined;
  if (url === undefined) {
    set.tokens.push(secret);
    return;
  }
  const user = safeDecode(url.username);
  const password = safeDecode(url.password);
  if (user !== '') set.tokens.push(user);
  // The pair as a Basic header encodes it (node:http sends URL credentials that way); the raw
  // pair is not a token of its own: its user part would mask the user name everywhere.
  if (password !== '') set.tokens.push(password, Buffer.from(`${user}:${password}`, 'utf8').toString('base64'));
  const segments = url.pathname.split('/').map(safeDecode);
  const values = [...url.searchParams.values(), safeDecode(url.hash.slice(1))];
  set.tokens.push(...[...segments, ...values].filter(isTokenLike));
  set.wholes.push(...[`${url.pathname}${url.search}${url.hash}`, url.pathname, url.search, url.hash].filter((piece) => piece.length > 1));
};

/** Random-looking: MIN_FRAGMENT+ characters, no `/` (a path, not a key), and a digit or 20+ characters. */
const isTokenLike = (text: string): boolean =>
  text.length >= MIN_FRAGMENT && !text.includes('/') && (/\d/.test(text) || text.length >= 20);

const parseUrl = (text: string): URL | undefined => {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
};

/** The ways a receiver may echo `secret` back: as is, URL-encoded, JSON-escaped, base64. */
const secretForms = (secret: string): string[] => {
  const escapedJson = JSON.stringify(secret).slice(1, -1);
  const encoded = encodeURIComponent(secret);
  return [
    secret,
    encoded,
    encoded.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()),
    encoded.replace(/%20/g, '+'),
    escapedJson,
    escapedJson.replace(/\//g, '\\/'),
    ...base64Forms(secret),
  ];
};

/**
 * base64 of the secret when it starts at byte offset 0, 1 or 2 of an encoded value (a Basic
 * header encodes `user:` before the password): the characters that depend on the secret's
 * bytes alone, in the standard and the URL-safe alphabet.
 */
const base64Forms = (secret: string): string[] => {
  const bytes = Buffer.from(secret, 'utf8');
  const forms: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const first = Math.ceil((8 * offset) / 6);
    const last = Math.floor((8 * (offset + bytes.length) - 6) / 6);
    const stable = encoded.slice(first, last + 1);
    forms.push(stable, stable.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return forms;
};

const safeDecode = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

export { REDACTED, MIN_FRAGMENT, redactUrl, redactText };
