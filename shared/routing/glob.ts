/**
 * Shell-style globs: `*` any run of characters, `?` one character, `[abc]`, `[a-z]`,
 * `[!abc]` a class. Everything else is literal. Matching is case-sensitive and anchored.
 *
 * Globs come from the routes file and run on finding-derived text, so they never go through
 * the backtracking RegExp engine (`*a*a*a*a*a*b` took seconds per finding there). The glob is
 * cut at its stars into segments; the first must match at the start, the last at the end, and
 * each one between at its leftmost place after the previous one. Nothing is ever retried, so
 * the worst case is O(text × glob), and literal segments use the string builtins.
 */
class GlobSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GlobSyntaxError';
  }
}

interface Glob {
  readonly glob: string;
  test(text: string): boolean;
}

/** A run of the glob between stars: one test per character (UTF-16 code unit). */
interface Segment {
  length: number;
  /** Set when every character is literal: matched with startsWith/indexOf/endsWith. */
  literal: string | undefined;
  chars: readonly ((code: number) => boolean)[];
}

const compileGlob = (glob: string): Glob => {
  if (glob.length === 0) throw new GlobSyntaxError('empty glob');
  const segments = parseSegments(glob);
  const first = segments[0]!;
  if (segments.length === 1) {
    // No star: most globs in a routes file are plain names (account ids, regions, tag values).
    return { glob, test: first.literal === undefined ? (text) => text.length === first.length && matchesAt(first, text, 0) : (text) => text === first.literal };
  }
  const last = segments.at(-1)!;
  const middle = segments.slice(1, -1).filter((segment) => segment.length > 0);
  return {
    glob,
    test: (text) => {
      const end = text.length - last.length;
      if (end < first.length || !matchesAt(first, text, 0) || !matchesAt(last, text, end)) return false;
      let from = first.length;
      for (const segment of middle) {
        const at = indexOf(segment, text, from, end);
        if (at < 0) return false;
        from = at + segment.length;
      }
      return true;
    },
  };
};

const matchesAt = (segment: Segment, text: string, at: number): boolean => {
  if (segment.literal !== undefined) return text.startsWith(segment.literal, at);
  for (let i = 0; i < segment.length; i++) if (!segment.chars[i]!(text.charCodeAt(at + i))) return false;
  return true;
};

/** Leftmost place at or after `from` where the segment matches and ends by `end`; -1 if none. */
const indexOf = (segment: Segment, text: string, from: number, end: number): number => {
  if (segment.literal !== undefined) {
    const at = text.indexOf(segment.literal, from);
    return at >= 0 && at + segment.length <= end ? at : -1;
  }
  for (let at = from; at + segment.length <= end; at++) if (matchesAt(segment, text, at)) return at;
  return -1;
};

const anyChar = (): boolean => true;

/** The segments between stars (consecutive stars are one; a leading or trailing star leaves an empty segment). */
const parseSegments = (glob: string): Segment[] => {
  const segments: Segment[] = [];
  let chars: ((code: number) => boolean)[] = [];
  let literal: string | undefined = '';
  const close = () => {
    segments.push({ length: chars.length, literal, chars });
    chars = [];
    literal = '';
  };
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === '*') {
      close();
      while (glob[i + 1] === '*') i++;
    } else if (char === '?') {
      chars.push(anyChar);
      literal = undefined;
    } else if (char === '[') {
      // A ']' right after '[' (or '[!') is a member, as in the shell.
      const end = glob.indexOf(']', i + 2);
      if (end < 0) throw new GlobSyntaxError(`unclosed '[' at position ${i + 1} in glob '${glob}'`);
      let body = glob.slice(i + 1, end);
      const negated = body.startsWith('!');
      if (negated) body = body.slice(1);
      if (body.length === 0) throw new GlobSyntaxError(`empty character class in glob '${glob}'`);
      const inClass = characterClass(body, glob);
      chars.push(negated ? (code) => !inClass(code) : inClass);
      literal = undefined;
      i = end;
    } else if (char === ']') {
      throw new GlobSyntaxError(`unmatched ']' at position ${i + 1} in glob '${glob}'`);
    } else {
      const code = glob.charCodeAt(i);
      chars.push((c) => c === code);
      if (literal !== undefined) literal += char;
    }
  }
  close();
  return segments;
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

export { compileGlob };
export type { Glob };
