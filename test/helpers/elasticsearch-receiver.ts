/**
 * A loopback Elasticsearch / OpenSearch `_bulk` endpoint that checks requests the way the
 * cluster does (method, path, auth, content type, NDJSON framing and the terminating
 * newline) and answers with real bodies: a `_bulk` response per item (201 `created`,
 * 409 `version_conflict_engine_exception` when the `_id` exists, scripted 429
 * `es_rejected_execution_exception` / 400 `mapper_parsing_exception`), 401
 * `security_exception`, 406 for a wrong Content-Type, 400 `illegal_argument_exception`
 * for a missing final newline. Documents are stored per index by `_id`, so a retried
 * `create` never makes a second document. SigV4 (Amazon OpenSearch Service / Serverless)
 * is verified with `verifySigV4` from the Firehose loopback.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { verifySigV4 } from './firehose-loopback.ts';
import { listenLoopback, readBody, writeAnswer } from './receiver-kit.ts';

type EsAuth =
  | { kind: 'none' }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'apiKey'; encoded: string }
  | { kind: 'sigv4'; region: string; service: 'es' | 'aoss'; accessKeyId: string; secretAccessKey: string };

interface EsRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
  answer: string;
}

interface ItemFailure {
  status: number;
  type: string;
  reason: string;
}

interface EsAnswer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

interface ElasticsearchReceiver {
  url: string;
  requests: EsRequest[];
  /** index → _id → document. */
  indices: Map<string, Map<string, unknown>>;
  /** Item failures answered to the next items (FIFO), after the request passed every check. */
  itemFailures: ItemFailure[];
  /** Forces the top-level answer to a request that passed every check. */
  answer: EsAnswer | undefined;
  documentCount(): number;
  close(): Promise<void>;
}

const esError = (status: number, type: string, reason: string, extra: Record<string, unknown> = {}): EsAnswer => ({
  status,
  body: JSON.stringify({ error: { root_cause: [{ type, reason, ...extra }], type, reason, ...extra }, status }),
});

const unauthenticated = (reason: string): EsAnswer => ({
  ...esError(401, 'security_exception', reason, { header: { 'WWW-Authenticate': ['Basic realm="security" charset="UTF-8"', 'ApiKey'] } }),
  headers: { 'www-authenticate': 'Basic realm="security" charset="UTF-8", ApiKey' },
});

/** Elasticsearch's index-name rules. */
const validIndex = (name: string): boolean =>
  name.length > 0 &&
  name === name.toLowerCase() &&
  !/[\\/*?"<>| ,#:]/.test(name) &&
  !/^[-_+]/.test(name) &&
  name !== '.' &&
  name !== '..' &&
  Buffer.byteLength(name) <= 255;

const startElasticsearchReceiver = async (auth: EsAuth = { kind: 'none' }): Promise<ElasticsearchReceiver> => {
  const receiver = {
    requests: [],
    indices: new Map(),
    itemFailures: [],
    answer: undefined,
  } as unknown as ElasticsearchReceiver;
  receiver.documentCount = () => [...receiver.indices.values()].reduce((sum, docs) => sum + docs.size, 0);
  let seqNo = 0;

  const authenticate = (method: string, url: string, headers: IncomingHttpHeaders, raw: Buffer): EsAnswer | undefined => {
    const path = url.split('?')[0];
    const header = headers.authorization;
    switch (auth.kind) {
      case 'none':
        return undefined;
      case 'basic': {
        if (header === undefined) return unauthenticated(`missing authentication credentials for REST request [${path}]`);
        const basic = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header);
        const decoded = basic ? Buffer.from(basic[1] ?? '', 'base64').toString('utf8') : '';
        const user = decoded.slice(0, Math.max(0, decoded.indexOf(':')));
        if (decoded !== `${auth.username}:${auth.password}`) return unauthenticated(`unable to authenticate user [${user}] for REST request [${path}]`);
        return undefined;
      }
      case 'apiKey': {
        if (header === undefined) return unauthenticated(`missing authentication credentials for REST request [${path}]`);
        if (header !== `ApiKey ${auth.encoded}`) return unauthenticated('unable to authenticate with provided credentials and anonymous access is not allowed for this request');
        return undefined;
      }
      case 'sigv4': {
        const result = verifySigV4(
          { method, url, headers, body: raw },
          { accessKeyId: auth.accessKeyId, secretAccessKey: auth.secretAccessKey, region: auth.region, service: auth.service, requirePayloadHash: auth.service === 'aoss' },
        );
        return result.ok ? undefined : { status: result.status, body: JSON.stringify({ message: result.message }) };
      }
    }
  };

  const handle = (method: string, url: string, headers: IncomingHttpHeaders, raw: Buffer): EsAnswer => {
    const path = url.split('?')[0];
    if (path !== '/_bulk') return esError(404, 'index_not_found_exception', `no such index [${path?.slice(1).split('/')[0]}]`);
    if (method !== 'POST' && method !== 'PUT') {
      return { status: 405, body: JSON.stringify({ error: `Incorrect HTTP method for uri [${path}] and method [${method}], allowed: [POST, PUT]`, status: 405 }) };
    }
    const denied = authenticate(method, url, headers, raw);
    if (denied !== undefined) return denied;
    const contentType = (headers['content-type'] ?? '').split(';')[0]?.trim();
    if (contentType !== 'application/x-ndjson' && contentType !== 'application/json') {
      return { status: 406, body: JSON.stringify({ error: `Content-Type header [${headers['content-type'] ?? ''}] is not supported`, status: 406 }) };
    }
    const body = raw.toString('utf8');
    if (body.length === 0) return esError(400, 'action_request_validation_exception', 'Validation Failed: 1: no requests added;');
    if (!body.endsWith('\n')) return esError(400, 'illegal_argument_exception', 'The bulk request must be terminated by a newline [\\n]');
    const lines = body.slice(0, -1).split('\n');
    if (lines.length % 2 !== 0) return esError(400, 'illegal_argument_exception', 'The bulk request must be terminated by a newline [\\n]');
    if (receiver.answer !== undefined) return receiver.answer;
    const items: Record<string, unknown>[] = [];
    for (let i = 0; i < lines.length; i += 2) {
      let action: Record<string, { _index?: unknown; _id?: unknown }>;
      try {
        action = JSON.parse(lines[i] ?? '') as typeof action;
      } catch {
        return esError(400, 'x_content_parse_exception', `[1:1] Malformed action/metadata line [${i + 1}], expected START_OBJECT`);
      }
      const [op, meta] = Object.entries(action)[0] ?? [];
      if (op !== 'create' && op !== 'index') {
        return esError(400, 'illegal_argument_exception', `Malformed action/metadata line [${i + 1}], expected field [create], [delete], [index] or [update] but found [${op}]`);
      }
      const index = typeof meta?._index === 'string' ? meta._index : '';
      const id = typeof meta?._id === 'string' ? meta._id : undefined;
      if (!validIndex(index)) {
        items.push({ [op]: { _index: index, _id: id ?? null, status: 400, error: { type: 'invalid_index_name_exception', reason: `Invalid index name [${index}]`, index } } });
        continue;
      }
      if (id === undefined || Buffer.byteLength(id) > 512) {
        items.push({ [op]: { _index: index, _id: id ?? null, status: 400, error: { type: 'action_request_validation_exception', reason: 'Validation Failed: 1: an id is required (at most 512 bytes);' } } });
        continue;
      }
      let document: unknown;
      try {
        document = JSON.parse(lines[i + 1] ?? '');
        if (document === null || typeof document !== 'object' || Array.isArray(document)) throw new Error('not an object');
      } catch {
        items.push({ [op]: { _index: index, _id: id, status: 400, error: { type: 'document_parsing_exception', reason: `[1:1] failed to parse: document with id '${id}' is not a JSON object` } } });
        continue;
      }
      const failure = receiver.itemFailures.shift();
      if (failure !== undefined) {
        items.push({ [op]: { _index: index, _id: id, status: failure.status, error: { type: failure.type, reason: failure.reason, index } } });
        continue;
      }
      const docs = receiver.indices.get(index) ?? new Map<string, unknown>();
      receiver.indices.set(index, docs);
      if (op === 'create' && docs.has(id)) {
        items.push({
          create: {
            _index: index,
            _id: id,
            status: 409,
            error: { type: 'version_conflict_engine_exception', reason: `[${id}]: version conflict, document already exists (current version [1])`, index_uuid: 'loopback', shard: '0', index },
          },
        });
        continue;
      }
      docs.set(id, document);
      items.push({
        [op]: { _index: index, _id: id, _version: 1, result: 'created', _shards: { total: 2, successful: 1, failed: 0 }, _seq_no: seqNo++, _primary_term: 1, status: 201 },
      });
    }
    const errors = items.some((item) => ((Object.values(item)[0] as { status: number }).status ?? 500) >= 300);
    return { status: 200, body: JSON.stringify({ errors, took: 3, items }) };
  };

  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const answer = handle(req.method ?? '', req.url ?? '', req.headers, raw);
    receiver.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: raw.toString('utf8'), status: answer.status, answer: answer.body });
    writeAnswer(res, 'application/json', answer);
  });
  const listening = await listenLoopback(server);
  receiver.url = listening.origin;
  receiver.close = listening.close;
  return receiver;
};

export { startElasticsearchReceiver };
export type { ElasticsearchReceiver, EsAuth };
