/**
 * A routes file's text with its secrets masked, for the `routes diff` page (which shows the
 * YAML change itself). Secrets are references in a routes file; the exception is the inline
 * `{ value: "..." }` form for local experiments, so every `value:` entry is masked (with a
 * block scalar's following lines), as is every literal the loaded configuration resolved as
 * an inline secret (whatever quoting the YAML used for it), and URLs lose credentials and
 * query strings (a webhook URL may carry a token there).
 */
const MASK = '«redacted»';

const redactRoutesYaml = (text: string, inlineSecrets: readonly string[] = []): string => {
  const out: string[] = [];
  let blockIndent: number | undefined;
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    const indent = line.length - line.trimStart().length;
    if (blockIndent !== undefined) {
      if (line.trim() === '' || indent > blockIndent) {
        out.push(line.trim() === '' ? line : `${' '.repeat(indent)}${MASK}`);
        continue;
      }
      blockIndent = undefined;
    }
    let masked = line.replace(/(\bvalue\s*:\s*)("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^,}#\s][^,}#]*)/g, `$1${MASK}`);
    if (/(^|[\s{,-])value\s*:\s*[|>][-+0-9]*\s*(#.*)?$/.test(line)) blockIndent = indent;
    masked = masked.replace(/\b(https?:\/\/)[^\s/@"'?#]+@/gi, `$1${MASK}@`).replace(/\b(https?:\/\/[^\s"'?#}]*)\?[^\s"'#},]*/gi, `$1?${MASK}`);
    for (const secret of inlineSecrets) if (secret.length >= 4) masked = masked.split(secret).join(MASK);
    out.push(masked);
  }
  return out.join('\n');
};

export { redactRoutesYaml };
