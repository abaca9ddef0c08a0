/**
 * Text from input files (sources, reasons, a JSON parser's snippet of a binary file) made safe
 * to print on a terminal: control characters, escape sequences and bidi overrides are written
 * as `\uXXXX`, so a file's bytes can never move the cursor, recolour the screen or reorder text.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffd]/g;

const terminalSafe = (text: string): string => text.replace(UNSAFE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);

export { terminalSafe };
