/**
 * A unified diff of two small text files (routes files), for the `routes diff` page. Lines
 * common to both ends are trimmed first; the middle is compared by longest common
 * subsequence, which is exact and cheap for configuration files. A middle too large for that
 * (over `maxCells` line pairs) is shown as all removed, then all added: still correct, only
 * less minimal.
 */
interface DiffLine {
  kind: ' ' | '-' | '+';
  text: string;
}

interface Hunk {
  /** 1-based first line and line count on each side, as in `@@ -a,b +c,d @@`. */
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: DiffLine[];
}

interface UnifiedDiff {
  hunks: Hunk[];
  added: number;
  removed: number;
}

const MAX_CELLS = 4_000_000;

const splitLines = (text: string): string[] => {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
};

/** The edit script from `a` to `b`, line by line. */
const editScript = (a: readonly string[], b: readonly string[], maxCells: number): DiffLine[] => {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const middle: DiffLine[] = [];
  if (midA.length * midB.length > maxCells) {
    for (const text of midA) middle.push({ kind: '-', text });
    for (const text of midB) middle.push({ kind: '+', text });
  } else {
    // lcs[i][j]: length of the longest common subsequence of midA[i..] and midB[j..].
    const width = midB.length + 1;
    const lcs = new Uint32Array((midA.length + 1) * width);
    for (let i = midA.length - 1; i >= 0; i--) {
      for (let j = midB.length - 1; j >= 0; j--) {
        lcs[i * width + j] = midA[i] === midB[j] ? lcs[(i + 1) * width + j + 1]! + 1 : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < midA.length || j < midB.length) {
      if (i < midA.length && j < midB.length && midA[i] === midB[j]) {
        middle.push({ kind: ' ', text: midA[i]! });
        i++;
        j++;
      } else if (j < midB.length && (i === midA.length || lcs[i * width + j + 1]! >= lcs[(i + 1) * width + j]!)) {
        middle.push({ kind: '+', text: midB[j++]! });
      } else {
        middle.push({ kind: '-', text: midA[i++]! });
      }
    }
    // Within a changed run, removals read better before additions.
    sortRuns(middle);
  }
  return [...a.slice(0, head).map((text) => ({ kind: ' ' as const, text })), ...middle, ...a.slice(a.length - tail).map((text) => ({ kind: ' ' as const, text }))];
};

const sortRuns = (lines: DiffLine[]): void => {
  let start = 0;
  while (start < lines.length) {
    if (lines[start]!.kind === ' ') {
      start++;
      continue;
    }
    let end = start;
    while (end < lines.length && lines[end]!.kind !== ' ') end++;
    const run = lines.slice(start, end);
    lines.splice(start, run.length, ...run.filter((l) => l.kind === '-'), ...run.filter((l) => l.kind === '+'));
    start = end;
  }
};

/** Hunks with `context` unchanged lines around each change, as `diff -u` prints them. */
const unifiedDiff = (oldText: string, newText: string, options: { context?: number; maxCells?: number } = {}): UnifiedDiff => {
  const context = options.context ?? 3;
  const script = editScript(splitLines(oldText), splitLines(newText), options.maxCells ?? MAX_CELLS);
  const hunks: Hunk[] = [];
  let oldNo = 1;
  let newNo = 1;
  // Positions in the script with each line's old and new line numbers.
  const numbered = script.map((line) => {
    const at = { line, oldNo, newNo };
    if (line.kind !== '+') oldNo++;
    if (line.kind !== '-') newNo++;
    return at;
  });
  let index = 0;
  while (index < numbered.length) {
    if (numbered[index]!.line.kind === ' ') {
      index++;
      continue;
    }
    const first = Math.max(0, index - context);
    let last = index;
    // Extend while the next change is within 2 × context unchanged lines.
    for (let k = index; k < numbered.length; k++) {
      if (numbered[k]!.line.kind !== ' ') last = k;
      else if (k - last > 2 * context) break;
    }
    const end = Math.min(numbered.length - 1, last + context);
    const slice = numbered.slice(first, end + 1);
    hunks.push({
      oldStart: slice[0]!.oldNo,
      oldLines: slice.filter((s) => s.line.kind !== '+').length,
      newStart: slice[0]!.newNo,
      newLines: slice.filter((s) => s.line.kind !== '-').length,
      lines: slice.map((s) => s.line),
    });
    index = end + 1;
  }
  return { hunks, added: script.filter((l) => l.kind === '+').length, removed: script.filter((l) => l.kind === '-').length };
};

/** The diff as `diff -u` text (without the file header lines). */
const unifiedDiffText = (diff: UnifiedDiff): string =>
  diff.hunks.map((h) => [`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`, ...h.lines.map((l) => `${l.kind}${l.text}`)].join('\n')).join('\n');

export { unifiedDiff, unifiedDiffText };
export type { UnifiedDiff };
