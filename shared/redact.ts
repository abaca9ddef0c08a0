/**
 * Redaction for anything that may reach a log, an error message or a dead letter.
 * URLs keep their scheme and host (useful for an operator) and lose path, query and
 * credentials (where webhook tokens live); known secret values are masked wherever
 * they appear.
 */
const REDACTED = '[REDACTED]';

const redactUrl = (url: string): string => {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}/${REDACTED}`;
  } catch {
    return REDACTED;
  }
};

const URL_PATTERN = /\bhttps?:\/\/[^\s"'<>]+/gi;
const AUTH_PATTERN = /\b(authorization|x-api-key|api[-_]?key|token|password|secret|signature|sig)(["']?\s*[:=]\s*["']?)([^\s"',}]+)/gi;

/** Masks every URL path, auth-looking pair and each known secret value in `text`. */
const redactText = (text: string, secrets: readonly string[] = []): string => {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  return out.replace(URL_PATTERN, (url) => redactUrl(url)).replace(AUTH_PATTERN, `$1$2${REDACTED}`);
};

export { REDACTED, redactUrl, redactText };
