/**
 * Shell-style globs: `*` any run of characters, `?` one character, `[abc]`, `[a-z]`,
 * `[!abc]` a class. Everything else is literal. Matching is case-sensitive and anchored.
 *
 * Globs come from the routes file and run on finding-derived text, so they never go through
 * the backtracking RegExp engine (`*a*a*a*a*a*b` took seconds per finding there): the matcher
 * below keeps a single backtrack point, O(text × glob) in the worst case.
 */
class GlobSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GlobSyntaxError';
  }
}

/** One position of a glob: `*`, or a test for exactly one character (UTF-16 code unit). */
type GlobToken = 'star' | ((code: number) => boolean);

interface Glob {
  readonly glob: string;
  test(text: string): boolean;
}

const compileGlob = (glob: string): Glob => {
  if (glob.length === 0) throw new GlobSyntaxError('empty glob');
  const tokens = parseGlob(glob);
  // Most globs in a routes file are plain names (account ids, regions, tag values).
  if (!/[*?[]/.test(glob)) return { glob, test: (text) => text === glob };
  return { glob, test: (text) => matchTokens(tokens, text) };
};

const anyChar = (): boolean => true;

const parseGlob = (glob: string): GlobToken[] => {
  const tokens: GlobToken[] = [];
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === '*') {
      if (tokens.at(-1) !== 'star') tokens.push('star');
    } else if (char === '?') {
      tokens.push(anyChar);
    } else if (char === '[') {
      // A ']' right after '[' (or '[!') is a member, as in the shell.
      const end = glob.indexOf(']', i + 2);
      if (end < 0) throw new GlobSyntaxError(`unclosed '[' at position ${i + 1} in glob '${glob}'`);
      let body = glob.slice(i + 1, end);
      const negated = body.startsWith('!');
      if (negated) body = body.slice(1);
      if (body.length === 0) throw new GlobSyntaxError(`empty character class in glob '${glob}'`);
      const inClass = characterClass(body, glob);
      tokens.push(negated ? (code) => !inClass(code) : inClass);
      i = end;
    } else if (char === ']') {
      throw new GlobSyntaxError(`unmatched ']' at position ${i + 1} in glob '${glob}'`);
    } else {
      const code = glob.charCodeAt(i);
      tokens.push((c) => c === code);
    }
  }
  return tokens;
};

/** `abc`, `a-z`, `a-zA-Z_`; a `-` first or last is literal. */
const characterClass = (body: string, glob: string): ((code: number) => boolean) => {
  const ranges: [number, number][] = [];
  for (let i = 0; i < body.length; i++) {
    const from = body.charCodeAt(i);
    if (body[i + 1] === '-' && i + 2 < body.length) {
      const to = body.charCodeAt(i + 2);
      if (to < from) throw new GlobSyntaxError(`range out of order '${body.slice(i, i + 3)}' in glob '${glob}'`);
      ranges.push([from, to]);
      i += 2;
    } else {
      ranges.push([from, from]);
    }
  }
  return (code) => ranges.some(([from, to]) => code >= from && code <= to);
};

/**
 * Wildcard matching with one backtrack point: on a mismatch, only the most recent `*` takes
 * one more character. Earlier stars never need revisiting (whatever they could absorb, the
 * later star can too), so no input makes this exponential.
 */
const matchTokens = (tokens: readonly GlobToken[], text: string): boolean => {
  let t = 0;
  let p = 0;
  let starAt = -1;
  let starText = 0;
  while (t < text.length) {
    const token = tokens[p];
    if (token === 'star') {
      starAt = p++;
      starText = t;
    } else if (token !== undefined && token(text.charCodeAt(t))) {
      p++;
      t++;
    } else if (starAt >= 0) {
      p = starAt + 1;
      t = ++starText;
    } else {
      return false;
    }
  }
  while (tokens[p] === 'star') p++;
  return p === tokens.length;
};

export { compileGlob, GlobSyntaxError };
export type { Glob };
