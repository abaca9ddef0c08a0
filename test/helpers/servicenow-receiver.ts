import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { faulted, listenLoopback, readBody, writeAnswer } from './receiver-kit.ts';

/**
 * A loopback ServiceNow instance speaking the Table API: `POST /api/now/table/{table}`
 * answers `201 {"result":{...}}`, `PATCH /api/now/table/{table}/{sys_id}` answers
 * `200 {"result":{...}}`, and errors use ServiceNow's body
 * `{"error":{"message","detail"},"status":"failure"}` — 401 "User Not Authenticated",
 * 400 "Invalid table", 404 "No Record found", 429 "Rate limit exceeded" with Retry-After.
 * `sysparm_fields` limits the fields of `result` as the real API does.
 *
 * Stricter than ServiceNow on purpose: the real instance silently truncates a value longer
 * than the field's max_length; this one refuses it with 400 so a test sees the overflow.
 */

interface ServiceNowRecord {
  sys_id: string;
  number: string;
  table: string;
  fields: Record<string, string>;
  workNotes: string[];
}

interface ServiceNowAnswer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

interface ServiceNowRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface ServiceNowReceiver {
  url: string;
  requests: ServiceNowRequest[];
  records: Map<string, ServiceNowRecord>;
  /** Forces the answer to every request that passed the checks ('hang': never answer; 'reset': destroy the socket). */
  answer: ServiceNowAnswer | 'hang' | 'reset' | undefined;
  close(): Promise<void>;
}

type ServiceNowAuth = { username: string; password: string } | { token: string };

/** max_length of the fields in the default dictionary (task/incident). */
const MAX_LENGTH: Record<string, number> = {
  short_description: 160,
  description: 4_000,
  correlation_id: 100,
  correlation_display: 100,
  category: 40,
  urgency: 40,
  impact: 40,
  work_notes: 4_000,
};
const TABLES = new Set(['incident', 'sn_si_incident']);
const CHOICES = new Set(['1', '2', '3']);

const failure = (status: number, message: string, detail: string | null, headers?: Record<string, string>): ServiceNowAnswer => ({
  status,
  body: JSON.stringify({ error: { message, detail }, status: 'failure' }),
  ...(headers ? { headers } : {}),
});

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const startServiceNowReceiver = async (auth: ServiceNowAuth): Promise<ServiceNowReceiver> => {
  const expected =
    'token' in auth ? `Bearer ${auth.token}` : `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`;
  let sequence = 10_001;
  const receiver = { requests: [], records: new Map(), answer: undefined } as unknown as ServiceNowReceiver;

  const server: Server = createServer(async (req, res) => {
    const body = (await readBody(req)).toString('utf8');
    const method = req.method ?? '';
    const url = new URL(req.url ?? '/', 'http://loopback');
    receiver.requests.push({ method, path: `${url.pathname}${url.search}`, headers: req.headers, body });
    const reply = (answer: ServiceNowAnswer) => writeAnswer(res, 'application/json;charset=UTF-8', answer);
    const forced = receiver.answer;
    if (faulted(req, forced)) return;
    if (req.headers.authorization !== expected) return reply(failure(401, 'User Not Authenticated', 'Required to provide Auth information'));
    if (req.headers.accept !== undefined && !/application\/json|\*\/\*/.test(req.headers.accept)) {
      return reply(failure(406, 'Not Acceptable', 'The endpoint does not support the response format in the Accept header'));
    }
    const match = /^\/api\/now\/table\/([^/]+)(?:\/([^/]+))?$/.exec(url.pathname);
    if (match === null) return reply(failure(400, 'Requested URI does not represent any resource', null));
    const table = match[1] ?? '';
    if (!TABLES.has(table)) return reply(failure(400, `Invalid table ${table}`, null));
    if (!req.headers['content-type']?.startsWith('application/json')) {
      return reply(failure(415, 'Unsupported Media Type', 'The endpoint does not support the format of the request body'));
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return reply(failure(400, 'Exception while reading request', 'The payload is not valid JSON.'));
    }
    if (!isRecord(json)) return reply(failure(400, 'Exception while reading request', 'The payload is not a JSON object.'));
    for (const [field, value] of Object.entries(json)) {
      if (typeof value !== 'string') return reply(failure(400, 'Exception while reading request', `Field ${field} is not a string.`));
      const max = MAX_LENGTH[field];
      if (max !== undefined && value.length > max) return reply(failure(400, 'Invalid value', `${field} is longer than its max_length ${max}`));
    }
    const fields = json as Record<string, string>;
    for (const choice of ['urgency', 'impact']) {
      if (fields[choice] !== undefined && !CHOICES.has(fields[choice])) return reply(failure(400, 'Invalid value', `${choice} must be 1, 2 or 3`));
    }
    if (forced !== undefined) return reply(forced);

    const shown = (record: ServiceNowRecord): Record<string, string> => {
      const all: Record<string, string> = { ...record.fields, sys_id: record.sys_id, number: record.number };
      const wanted = url.searchParams.get('sysparm_fields');
      return wanted === null ? all : Object.fromEntries(wanted.split(',').filter((key) => key in all).map((key) => [key, all[key] as string]));
    };

    if (method === 'POST' && match[2] === undefined) {
      if ((fields.short_description ?? '').trim() === '') return reply(failure(400, 'Data Policy Exception', 'The following fields are mandatory: Short description'));
      const { work_notes: note, ...rest } = fields;
      const record: ServiceNowRecord = {
        sys_id: randomBytes(16).toString('hex'),
        number: `${table === 'incident' ? 'INC' : 'SIR'}${String(sequence++).padStart(7, '0')}`,
        table,
        fields: rest,
        workNotes: note ? [note] : [],
      };
      receiver.records.set(record.sys_id, record);
      return reply({ status: 201, body: JSON.stringify({ result: shown(record) }), headers: { location: `${receiver.url}/api/now/table/${table}/${record.sys_id}` } });
    }
    if ((method === 'PATCH' || method === 'PUT') && match[2] !== undefined) {
      const record = receiver.records.get(match[2]);
      if (record === undefined || record.table !== table) {
        return reply(failure(404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval"));
      }
      const { work_notes: note, ...rest } = fields;
      Object.assign(record.fields, rest);
      if (note) record.workNotes.push(note);
      return reply({ status: 200, body: JSON.stringify({ result: shown(record) }) });
    }
    return reply(failure(405, 'Method not Supported', `${method} is not supported for this resource`));
  });

  const listening = await listenLoopback(server);
  receiver.url = listening.origin;
  receiver.close = listening.close;
  return receiver;
};

/** ServiceNow's 429 for a rate-limit rule (Inbound REST API rate limiting). */
const rateLimited = (retryAfterSeconds: number): ServiceNowAnswer =>
  failure(429, 'Rate limit exceeded', 'Rate limit of 10 requests per hour for Table API exceeded', {
    'retry-after': String(retryAfterSeconds),
    'x-ratelimit-limit': '10',
    'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + retryAfterSeconds),
  });

export { startServiceNowReceiver, rateLimited };
export type { ServiceNowReceiver };
