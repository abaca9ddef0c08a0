/**
 * Length limits that never split a character, a surrogate pair or an escape sequence,
 * with a visible marker when something was cut.
 */
const TRUNCATION_MARKER = '… [truncated]';

/**
 * Cuts `text` to at most `max` UTF-16 units including the marker. `atomic` matches the
 * escape sequences of the output format (e.g. `&amp;`) so a cut never lands inside one.
 */
const truncate = (text: string, max: number, atomic?: RegExp): string => {
  if (text.length <= max) return text;
  const budget = Math.max(0, max - TRUNCATION_MARKER.length);
  let cut = budget;
  if (cut > 0 && isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
  if (atomic) {
    const pattern = new RegExp(atomic.source, atomic.flags.includes('g') ? atomic.flags : `${atomic.flags}g`);
    for (const match of text.matchAll(pattern)) {
      const start = match.index;
      const end = start + match[0].length;
      if (start < cut && end > cut) {
        cut = start;
        break;
      }
      if (start >= cut) break;
    }
  }
  return text.slice(0, cut) + TRUNCATION_MARKER;
};

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;

/** Removes C0/C1 control characters (terminal escape injection), keeping tab and newline. */
const stripControl = (text: string): string => text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');

export { TRUNCATION_MARKER, truncate, stripControl };
