/**
 * Shell-style globs: `*` any run of characters, `?` one character, `[abc]`, `[a-z]`,
 * `[!abc]` a class. Everything else is literal. Matching is case-sensitive and anchored.
 */
class GlobSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GlobSyntaxError';
  }
}

const compileGlob = (glob: string): RegExp => {
  if (glob.length === 0) throw new GlobSyntaxError('empty glob');
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === '*') {
      source += '.*';
      while (glob[i + 1] === '*') i++;
    } else if (char === '?') {
      source += '.';
    } else if (char === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) throw new GlobSyntaxError(`unclosed '[' at position ${i + 1} in glob '${glob}'`);
      let body = glob.slice(i + 1, end);
      const negated = body.startsWith('!');
      if (negated) body = body.slice(1);
      if (body.length === 0) throw new GlobSyntaxError(`empty character class in glob '${glob}'`);
      source += `[${negated ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else if (char === ']') {
      throw new GlobSyntaxError(`unmatched ']' at position ${i + 1} in glob '${glob}'`);
    } else {
      source += char.replace(/[.+^${}()|\\/]/g, '\\$&');
    }
  }
  try {
    return new RegExp(`^${source}$`, 's');
  } catch (cause) {
    throw new GlobSyntaxError(`invalid glob '${glob}': ${(cause as Error).message}`);
  }
};

export { compileGlob, GlobSyntaxError };
