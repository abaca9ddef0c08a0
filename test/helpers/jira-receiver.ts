import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { faulted, listenLoopback, readBody, writeAnswer } from './receiver-kit.ts';

/**
 * A loopback Jira Cloud (REST API v3) that checks requests the way Jira does and answers
 * with Jira's bodies: `201 {"id","key","self"}` on create, the error collection
 * `{"errorMessages":[...],"errors":{"field":"message"}}` on 400, a plain-text 401 for bad
 * credentials, 429 with Retry-After when told to throttle. It keeps the issues it created
 * (fields, comments, properties, transitions) so tests can count them.
 *
 * Endpoints: POST /rest/api/3/issue, POST /rest/api/3/issue/{key}/comment,
 * GET|POST /rest/api/3/issue/{key}/transitions, GET /rest/api/3/issue/{key}?fields=status,
 * PUT /rest/api/3/issue/{key}/properties/{propertyKey}.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface JiraIssue {
  id: string;
  key: string;
  fields: Record<string, Json>;
  properties: Record<string, Json>;
  comments: Json[];
  status: string;
  transitions: string[];
}

interface JiraAnswer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

interface JiraRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface JiraReceiver {
  url: string;
  requests: JiraRequest[];
  issues: Map<string, JiraIssue>;
  /** Forces the answer to every request that passed the checks ('hang': never answer; 'reset': destroy the socket). */
  answer: JiraAnswer | 'hang' | 'reset' | undefined;
  /** Transitions the workflow offers from any status: name → target status. */
  workflow: Record<string, string>;
  close(): Promise<void>;
}

interface JiraReceiverOptions {
  email: string;
  apiToken: string;
  project?: string;
  issueTypes?: readonly string[];
  priorities?: readonly string[];
}

const SUMMARY_LIMIT = 255;
const RICH_TEXT_LIMIT = 32_767;
const LABEL_LIMIT = 255;

// ── ADF validation (a strict subset of the ADF JSON schema) ──────────────────

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const BLOCK_CHILDREN: Record<string, readonly string[]> = {
  doc: ['paragraph', 'heading', 'bulletList', 'orderedList', 'table', 'rule', 'blockquote', 'codeBlock', 'panel'],
  paragraph: ['text', 'hardBreak'],
  heading: ['text', 'hardBreak'],
  bulletList: ['listItem'],
  orderedList: ['listItem'],
  listItem: ['paragraph', 'bulletList', 'orderedList'],
  table: ['tableRow'],
  tableRow: ['tableHeader', 'tableCell'],
  tableHeader: ['paragraph', 'heading', 'bulletList', 'orderedList'],
  tableCell: ['paragraph', 'heading', 'bulletList', 'orderedList'],
  blockquote: ['paragraph'],
  codeBlock: ['text'],
  panel: ['paragraph', 'heading', 'bulletList', 'orderedList'],
};
const ALLOWED_KEYS: Record<string, readonly string[]> = {
  doc: ['type', 'version', 'content'],
  text: ['type', 'text', 'marks'],
  hardBreak: ['type'],
  rule: ['type'],
  heading: ['type', 'attrs', 'content'],
  table: ['type', 'attrs', 'content'],
  tableHeader: ['type', 'attrs', 'content'],
  tableCell: ['type', 'attrs', 'content'],
  codeBlock: ['type', 'attrs', 'content'],
  panel: ['type', 'attrs', 'content'],
};
const MARKS = new Set(['strong', 'em', 'code', 'strike', 'underline', 'link']);
/** Content must not be empty for these (ProseMirror `+` content expressions). */
const NON_EMPTY = new Set(['bulletList', 'orderedList', 'listItem', 'table', 'tableRow', 'tableHeader', 'tableCell', 'blockquote', 'panel']);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `node` is not a valid ADF node of type `expected` (or of any of them), undefined when it is. */
const adfNodeProblem = (node: unknown, path: string): string | undefined => {
  if (!isRecord(node) || typeof node.type !== 'string') return `${path}: not a node`;
  const type = node.type;
  const allowedKeys = ALLOWED_KEYS[type] ?? ['type', 'content'];
  const extra = Object.keys(node).find((key) => !allowedKeys.includes(key));
  if (extra !== undefined) return `${path}: ${type} has an unknown property '${extra}'`;
  if (type === 'text') {
    if (typeof node.text !== 'string' || node.text.length === 0) return `${path}: text must be a non-empty string`;
    if (LONE_SURROGATE.test(node.text)) return `${path}: text holds a lone surrogate`;
    if (node.marks !== undefined) {
      if (!Array.isArray(node.marks)) return `${path}: marks must be an array`;
      for (const mark of node.marks) {
        if (!isRecord(mark) || typeof mark.type !== 'string' || !MARKS.has(mark.type)) return `${path}: unknown mark`;
        if (mark.type === 'link' && (!isRecord(mark.attrs) || typeof mark.attrs.href !== 'string')) return `${path}: link mark without href`;
      }
    }
    return undefined;
  }
  if (type === 'hardBreak' || type === 'rule') return undefined;
  if (type === 'heading' && (!isRecord(node.attrs) || ![1, 2, 3, 4, 5, 6].includes(node.attrs.level as number))) return `${path}: heading level must be 1-6`;
  const children = BLOCK_CHILDREN[type];
  if (children === undefined) return `${path}: unknown node type '${type}'`;
  if (!Array.isArray(node.content)) return `${path}: ${type} needs a content array`;
  if (NON_EMPTY.has(type) && node.content.length === 0) return `${path}: ${type} must not be empty`;
  for (const [index, child] of node.content.entries()) {
    if (!isRecord(child) || !children.includes(child.type as string)) return `${path}.content[${index}]: ${String(isRecord(child) ? child.type : child)} is not allowed in ${type}`;
    const problem = adfNodeProblem(child, `${path}.content[${index}]`);
    if (problem !== undefined) return problem;
  }
  return undefined;
};

/** Why `value` is not an ADF document, undefined when it is. */
const adfProblem = (value: unknown): string | undefined => {
  if (!isRecord(value)) return 'not an object';
  if (value.type !== 'doc') return "type must be 'doc'";
  if (value.version !== 1) return 'version must be 1';
  if (!Array.isArray(value.content)) return 'content must be an array';
  return adfNodeProblem(value, 'doc');
};

/** Every text node's text, in document order. */
const adfTexts = (node: unknown): { text: string; marks: unknown[] }[] => {
  if (Array.isArray(node)) return node.flatMap(adfTexts);
  if (!isRecord(node)) return [];
  if (node.type === 'text' && typeof node.text === 'string') return [{ text: node.text, marks: Array.isArray(node.marks) ? node.marks : [] }];
  return adfTexts(node.content);
};

/** Every node type used anywhere in the document. */
const adfNodeTypes = (node: unknown): string[] => {
  if (Array.isArray(node)) return node.flatMap(adfNodeTypes);
  if (!isRecord(node)) return [];
  return [...(typeof node.type === 'string' ? [node.type] : []), ...adfNodeTypes(node.content)];
};

const adfTextLength = (node: unknown): number => adfTexts(node).reduce((sum, entry) => sum + entry.text.length, 0);

// ── The receiver ─────────────────────────────────────────────────────────────

const errorCollection = (errors: Record<string, string>, errorMessages: string[] = []): string => JSON.stringify({ errorMessages, errors });

const startJiraReceiver = async (options: JiraReceiverOptions): Promise<JiraReceiver> => {
  const project = options.project ?? 'SEC';
  const issueTypes = options.issueTypes ?? ['Task', 'Bug', 'Incident'];
  const priorities = options.priorities ?? ['Highest', 'High', 'Medium', 'Low', 'Lowest'];
  const expectedAuth = `Basic ${Buffer.from(`${options.email}:${options.apiToken}`, 'utf8').toString('base64')}`;
  let nextId = 10_000;
  let nextComment = 20_000;

  const receiver = { requests: [], issues: new Map(), answer: undefined, workflow: { Done: 'Done', 'Start progress': 'In Progress' } } as unknown as JiraReceiver;

  const server: Server = createServer(async (req, res) => {
    const body = (await readBody(req)).toString('utf8');
    const method = req.method ?? '';
    const url = new URL(req.url ?? '/', 'http://loopback');
    receiver.requests.push({ method, path: `${url.pathname}${url.search}`, headers: req.headers, body });
    const reply = (answer: JiraAnswer) => writeAnswer(res, 'application/json;charset=UTF-8', answer);
    const forced = receiver.answer;
    if (faulted(req, forced)) return;
    if (req.headers.authorization !== expectedAuth) {
      return reply({ status: 401, body: 'Client must be authenticated to access this resource.', headers: { 'content-type': 'text/html;charset=UTF-8' } });
    }
    if (req.headers.accept !== undefined && !/application\/json|\*\/\*/.test(req.headers.accept)) return reply({ status: 406, body: '' });
    let json: unknown;
    if (method === 'POST' || method === 'PUT') {
      if (!req.headers['content-type']?.startsWith('application/json')) return reply({ status: 415, body: '' });
      try {
        json = JSON.parse(body);
      } catch {
        return reply({ status: 400, body: errorCollection({}, ['Unexpected character in the request body: it is not valid JSON.']) });
      }
    }
    if (forced !== undefined) return reply(forced);

    const issueMatch = /^\/rest\/api\/3\/issue\/([^/]+)(\/comment|\/transitions|\/properties\/([^/]+))?$/.exec(url.pathname);
    if (method === 'POST' && url.pathname === '/rest/api/3/issue') return reply(createIssue(json));
    if (issueMatch === null) return reply({ status: 404, body: errorCollection({}, ['The requested resource does not exist.']) });
    const issue = receiver.issues.get(decodeURIComponent(issueMatch[1] ?? ''));
    if (issue === undefined) return reply({ status: 404, body: errorCollection({}, ['Issue does not exist or you do not have permission to see it.']) });
    const sub = issueMatch[2];
    if (sub === undefined && method === 'GET') {
      return reply({ status: 200, body: JSON.stringify({ id: issue.id, key: issue.key, fields: { status: { name: issue.status } } }) });
    }
    if (sub === '/comment' && method === 'POST') {
      if (!isRecord(json)) return reply({ status: 400, body: errorCollection({ comment: 'Comment body can not be empty!' }) });
      const problem = adfProblem(json.body);
      if (problem !== undefined) return reply({ status: 400, body: errorCollection({ comment: `Comment body is not valid! (${problem})` }) });
      if (adfTextLength(json.body) > RICH_TEXT_LIMIT) return reply({ status: 400, body: errorCollection({ comment: 'The entered text is too long. It exceeds the allowed limit of 32767 characters.' }) });
      issue.comments.push(json.body as Json);
      const id = String(nextComment++);
      return reply({ status: 201, body: JSON.stringify({ id, self: `${origin()}/rest/api/3/issue/${issue.id}/comment/${id}`, body: json.body }) });
    }
    if (sub === '/transitions' && method === 'GET') {
      const transitions = Object.entries(receiver.workflow).map(([name, to], index) => ({ id: String(11 + index * 10), name, to: { name: to } }));
      return reply({ status: 200, body: JSON.stringify({ expand: 'transitions', transitions }) });
    }
    if (sub === '/transitions' && method === 'POST') {
      const id = isRecord(json) && isRecord(json.transition) ? json.transition.id : undefined;
      const index = Object.keys(receiver.workflow).findIndex((_name, i) => String(11 + i * 10) === id);
      if (index < 0) return reply({ status: 400, body: errorCollection({ transition: `Transition id '${String(id)}' is not valid for this issue.` }) });
      const [name, to] = Object.entries(receiver.workflow)[index] as [string, string];
      issue.transitions.push(name);
      issue.status = to;
      return reply({ status: 204 });
    }
    if (issueMatch[3] !== undefined && method === 'PUT') {
      if (body.length > 32_768) return reply({ status: 400, body: errorCollection({}, ['The property value is too long. It must not exceed 32768 bytes.']) });
      const isNew = issue.properties[issueMatch[3]] === undefined;
      issue.properties[issueMatch[3]] = json as Json;
      return reply({ status: isNew ? 201 : 200, body: '' });
    }
    return reply({ status: 405, body: '' });
  });

  /** POST /rest/api/3/issue: the checks Jira makes on the create body. */
  const createIssue = (json: unknown): JiraAnswer => {
    if (!isRecord(json) || !isRecord(json.fields)) return { status: 400, body: errorCollection({}, ['Issue fields are required.']) };
    const fields = json.fields;
    const errors: Record<string, string> = {};
    if (!isRecord(fields.project) || fields.project.key !== project) errors.project = 'valid project is required';
    if (!isRecord(fields.issuetype) || !issueTypes.includes(fields.issuetype.name as string)) errors.issuetype = 'The issue type selected is invalid.';
    const summary = fields.summary;
    if (typeof summary !== 'string' || summary.trim() === '') errors.summary = 'You must specify a summary of the issue.';
    else if (summary.length > SUMMARY_LIMIT) errors.summary = 'Summary must be less than 255 characters.';
    else if (/[\r\n]/.test(summary)) errors.summary = 'Field summary cannot contain newline characters.';
    if (fields.description !== undefined) {
      const problem = adfProblem(fields.description);
      if (problem !== undefined) errors.description = `Operation value must be an Atlassian Document (see the Atlassian Document Format): ${problem}`;
      else if (adfTextLength(fields.description) > RICH_TEXT_LIMIT) errors.description = 'The entered text is too long. It exceeds the allowed limit of 32767 characters.';
    }
    if (fields.priority !== undefined && (!isRecord(fields.priority) || !priorities.includes(fields.priority.name as string))) {
      errors.priority = 'Specify the Priority (id or name) in the string format';
    }
    if (fields.labels !== undefined) {
      if (!Array.isArray(fields.labels)) errors.labels = 'data was not an array';
      else {
        for (const label of fields.labels) {
          if (typeof label !== 'string' || /\s/.test(label)) errors.labels = `The label '${String(label)}' contains spaces which is invalid.`;
          else if (label.length > LABEL_LIMIT) errors.labels = `The label '${label}' exceeds the maximum length for a single label of 255 characters.`;
        }
      }
    }
    const unknown = Object.keys(fields).find((key) => !['project', 'issuetype', 'summary', 'description', 'priority', 'labels'].includes(key));
    if (unknown !== undefined) errors[unknown] = `Field '${unknown}' cannot be set. It is not on the appropriate screen, or unknown.`;
    const properties = json.properties ?? [];
    if (!Array.isArray(properties) || !properties.every((p) => isRecord(p) && typeof p.key === 'string' && p.key.length <= 255)) {
      errors.properties = 'Properties must be a list of { key, value }.';
    }
    if (Object.keys(errors).length > 0) return { status: 400, body: errorCollection(errors) };
    const id = String(nextId++);
    const key = `${project}-${receiver.issues.size + 1}`;
    receiver.issues.set(key, {
      id,
      key,
      fields: fields as Record<string, Json>,
      properties: Object.fromEntries((properties as { key: string; value: Json }[]).map((p) => [p.key, p.value])),
      comments: [],
      status: 'To Do',
      transitions: [],
    });
    return { status: 201, body: JSON.stringify({ id, key, self: `${origin()}/rest/api/3/issue/${id}` }) };
  };

  const origin = () => receiver.url;
  const listening = await listenLoopback(server);
  receiver.url = listening.origin;
  receiver.close = listening.close;
  return receiver;
};

export { startJiraReceiver, adfProblem, adfTexts, adfNodeTypes };
export type { JiraReceiver };
