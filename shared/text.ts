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

/** Bidirectional marks, embeddings, overrides and isolates: they can make a value read as something else. */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Removes the bidirectional controls (U+202A–U+202E, U+2066–U+2069 and the marks). */
const stripBidi = (text: string): string => text.replace(BIDI_CONTROLS, '');

/** Removes C0/C1 control characters (tab and newline kept) and bidirectional controls. */
const stripInvisible = (text: string): string => stripBidi(stripControl(text));

export { TRUNCATION_MARKER, truncate, stripControl, stripBidi, stripInvisible };
