import { stripControl, truncate } from '../text.ts';

/**
 * Pure builders for Atlassian Document Format (ADF), the rich-text JSON Jira Cloud's REST
 * API v3 takes for descriptions and comments. Finding-derived strings only ever become
 * the `text` of a `text` node: Jira never parses them as wiki markup, Markdown or ADF, so
 * `[link|https://evil]`, `{code}`, `*bold*` or ADF-looking JSON stay literal.
 * Rules kept here: a text node's text is a non-empty string (Jira rejects empty ones),
 * every string is free of control characters and lone surrogates, and only links this
 * router builds itself carry a link mark.
 */
type AdfMark = { type: 'strong' } | { type: 'link'; attrs: { href: string } };
interface AdfText {
  type: 'text';
  text: string;
  marks?: AdfMark[];
}
interface AdfParagraph {
  type: 'paragraph';
  content: AdfText[];
}
interface AdfHeading {
  type: 'heading';
  attrs: { level: 1 | 2 | 3 | 4 | 5 | 6 };
  content: AdfText[];
}
interface AdfListItem {
  type: 'listItem';
  content: AdfParagraph[];
}
interface AdfBulletList {
  type: 'bulletList';
  content: AdfListItem[];
}
interface AdfTableCell {
  type: 'tableHeader' | 'tableCell';
  content: AdfParagraph[];
}
interface AdfTableRow {
  type: 'tableRow';
  content: AdfTableCell[];
}
interface AdfTable {
  type: 'table';
  attrs: { isNumberColumnEnabled: false; layout: 'default' };
  content: AdfTableRow[];
}
interface AdfRule {
  type: 'rule';
}
type AdfBlock = AdfParagraph | AdfHeading | AdfBulletList | AdfTable | AdfRule;
interface AdfDoc {
  type: 'doc';
  version: 1;
  content: AdfBlock[];
}

/** Placeholder for an empty value: Jira rejects empty text nodes and empty cells look like a bug. */
const EMPTY_VALUE = '—';

const LINE_BREAKS = /[\r\n\u000b\u000c\u0085\u2028\u2029]+/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** No control characters (C0/C1 but tab and newline), no lone surrogates (they are not valid UTF-8 on the wire). */
const cleanText = (value: string): string => stripControl(value.replace(LONE_SURROGATE, '\uFFFD'));

/** One line: line breaks (CR, LF, U+2028/2029, NEL) and tabs become single spaces, edges trimmed. */
const oneLine = (value: string): string =>
  cleanText(value.replace(LINE_BREAKS, ' ')).replace(/\t/g, ' ').replace(/ {2,}/g, ' ').trim();

/** A text node of one line, cut to `max` with a visible marker; undefined when nothing is left. */
const text = (value: string | undefined, max: number, marks?: AdfMark[]): AdfText | undefined => {
  const line = truncate(oneLine(value ?? ''), max);
  if (line === '') return undefined;
  return marks === undefined ? { type: 'text', text: line } : { type: 'text', text: line, marks };
};

const isText = (node: AdfText | undefined): node is AdfText => node !== undefined;

const paragraph = (...nodes: (AdfText | undefined)[]): AdfParagraph => ({ type: 'paragraph', content: nodes.filter(isText) });

const heading = (level: AdfHeading['attrs']['level'], value: string, max: number): AdfHeading => ({
  type: 'heading',
  attrs: { level },
  content: [text(value, max) ?? { type: 'text', text: EMPTY_VALUE }],
});

/**
 * A link this router built (the GuardDuty console URL). Anything that is not an https URL
 * is shown as plain text instead, so a link mark can never carry `javascript:` or data.
 */
const link = (label: string, href: string, max: number): AdfText | undefined => {
  let url: URL | undefined;
  try {
    url = new URL(href);
  } catch {
    url = undefined;
  }
  if (url === undefined || url.protocol !== 'https:' || url.username !== '' || url.password !== '') return text(label, max);
  return text(label, max, [{ type: 'link', attrs: { href: url.href } }]);
};

/**
 * Multi-line text as paragraphs, one per non-blank line, the whole cut to `max` characters
 * (the marker lands in the last paragraph). Empty text gives no paragraph at all.
 */
const paragraphs = (value: string | undefined, max: number): AdfParagraph[] => {
  const whole = truncate(cleanText((value ?? '').replace(/\r\n?/g, '\n')), max);
  return whole
    .split(LINE_BREAKS)
    .map((line) => text(line, max))
    .filter(isText)
    .map((node) => ({ type: 'paragraph', content: [node] }));
};

const bulletList = (items: readonly string[], max: number): AdfBulletList | undefined => {
  const content = items
    .map((item) => text(item, max))
    .filter(isText)
    .map((node): AdfListItem => ({ type: 'listItem', content: [{ type: 'paragraph', content: [node] }] }));
  return content.length === 0 ? undefined : { type: 'bulletList', content };
};

const cell = (type: AdfTableCell['type'], value: string, max: number): AdfTableCell => ({
  type,
  content: [paragraph(text(value, max) ?? { type: 'text', text: EMPTY_VALUE })],
});

/** A two-column table: a header cell naming each row, then its value (or — when empty). */
const keyValueTable = (rows: readonly (readonly [string, string | undefined])[], max: number): AdfTable => ({
  type: 'table',
  attrs: { isNumberColumnEnabled: false, layout: 'default' },
  content: rows.map(([label, value]) => ({ type: 'tableRow', content: [cell('tableHeader', label, max), cell('tableCell', value ?? '', max)] })),
});

const doc = (blocks: readonly (AdfBlock | undefined)[]): AdfDoc => ({
  type: 'doc',
  version: 1,
  content: blocks.filter((block): block is AdfBlock => block !== undefined),
});

/** Total characters of text in a document: what Jira counts against a field's limit. */
const textLength = (node: unknown): number => {
  if (Array.isArray(node)) return node.reduce((sum: number, child) => sum + textLength(child), 0);
  if (node === null || typeof node !== 'object') return 0;
  const record = node as { type?: unknown; text?: unknown; content?: unknown };
  return (record.type === 'text' && typeof record.text === 'string' ? record.text.length : 0) + textLength(record.content);
};

export { oneLine, text, paragraph, heading, link, paragraphs, bulletList, keyValueTable, doc };
export type { AdfDoc };
