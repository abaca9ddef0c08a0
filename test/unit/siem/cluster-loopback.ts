/**
 * A loopback that speaks enough of the Elasticsearch / OpenSearch REST API and of the Kibana /
 * OpenSearch Dashboards saved-objects API for `siem setup`: GET / with the version (and, as
 * Elasticsearch 7.14+ does, `x-elastic-product`), GET/PUT `_index_template`, `_ilm/policy`,
 * `_plugins/_ism/policies` (with ISM's seq_no check on overwrite) and POST
 * `/api/saved_objects/_import` (multipart, xsrf header required). Bodies are checked the way
 * the cluster checks them and answered with the cluster's own error shapes; a user can be
 * refused (403 security_exception) on every call but GET /.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { verifySigV4, type SigV4Expectation } from '../../helpers/firehose-loopback.ts';
import { listenLoopback, readBody } from '../../helpers/receiver-kit.ts';

interface ClusterRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

interface ClusterOptions {
  distribution: 'elasticsearch' | 'opensearch';
  version: string;
  /** The exact Authorization header expected, or SigV4 verified as Amazon OpenSearch Service does. */
  authorization: string | { sigv4: SigV4Expectation };
  /** Every call but GET / answers 403, as for a user without manage privileges. */
  refuse?: boolean;
  /** An ISM policy already installed (seq_no 7, primary_term 1). */
  existingPolicy?: boolean;
}

interface ClusterLoopback {
  origin: string;
  requests: ClusterRequest[];
  stored: Map<string, unknown>;
  imported: unknown[][];
  close: () => Promise<void>;
}

const errorBody = (status: number, type: string, reason: string) => JSON.stringify({ error: { root_cause: [{ type, reason }], type, reason }, status });

const startClusterLoopback = async (options: ClusterOptions): Promise<ClusterLoopback> => {
  const requests: ClusterRequest[] = [];
  const stored = new Map<string, unknown>();
  const imported: unknown[][] = [];
  if (options.existingPolicy) stored.set('/_plugins/_ism/policies/guardduty-findings', { policy: {} });

  const answer = (res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void => {
    const product = options.distribution === 'elasticsearch' ? { 'x-elastic-product': 'Elasticsearch' } : {};
    res.writeHead(status, { 'content-type': 'application/json', ...product, ...extra });
    res.end(body);
  };

  const handleImport = async (req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> => {
    const xsrf = options.distribution === 'elasticsearch' ? 'kbn-xsrf' : 'osd-xsrf';
    if (req.headers[xsrf] === undefined) return answer(res, 400, JSON.stringify({ statusCode: 400, error: 'Bad Request', message: `Request must contain a ${xsrf} header.` }));
    const form = await new Request('http://loopback/', { method: 'POST', headers: { 'content-type': String(req.headers['content-type']) }, body: new Uint8Array(raw) }).formData();
    const file = form.get('file');
    if (!(file instanceof Blob)) return answer(res, 400, JSON.stringify({ statusCode: 400, error: 'Bad Request', message: '[request body.file]: expected value of type [object]' }));
    const lines = (await file.text()).split('\n').filter((line) => line !== '');
    const objects = lines.map((line) => JSON.parse(line) as { type: string; id: string });
    imported.push(objects);
    return answer(res, 200, JSON.stringify({ success: true, successCount: objects.length, successResults: objects.map(({ type, id }) => ({ type, id })) }));
  };

  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const body = raw.toString('utf8');
    const path = req.url ?? '/';
    const method = req.method ?? 'GET';
    requests.push({ method, path, headers: req.headers, body });
    if (typeof options.authorization !== 'string') {
      const verdict = verifySigV4({ method, url: path, headers: req.headers, body: raw }, options.authorization.sigv4);
      if (!verdict.ok) return answer(res, verdict.status, JSON.stringify({ message: verdict.message }), { 'x-amzn-errortype': verdict.type });
    } else if (req.headers.authorization !== options.authorization) {
      return answer(res, 401, errorBody(401, 'security_exception', 'unable to authenticate user [guardduty_writer] for REST request [/]'), { 'www-authenticate': 'Basic realm="security"' });
    }
    if (method === 'GET' && path === '/') {
      return answer(res, 200, JSON.stringify({ name: 'node-1', cluster_name: 'siem', version: { number: options.version, ...(options.distribution === 'opensearch' ? { distribution: 'opensearch' } : {}) }, tagline: 'You Know, for Search' }));
    }
    if (options.refuse) {
      return answer(res, 403, errorBody(403, 'security_exception', `action [${path}] is unauthorized for user [guardduty_writer] with effective roles [writer]`));
    }
    if (path.startsWith('/api/saved_objects/_import') && method === 'POST') return handleImport(req, res, raw);
    const [resource, query = ''] = path.split('?');
    if (!/^\/(_index_template|_ilm\/policy|_plugins\/_ism\/policies)\/[\w.-]+$/.test(resource!)) {
      return answer(res, 400, errorBody(400, 'illegal_argument_exception', `no handler found for uri [${path}] and method [${method}]`));
    }
    if (method === 'GET') {
      const value = stored.get(resource!);
      if (value === undefined) return answer(res, 404, errorBody(404, 'resource_not_found_exception', `${resource} not found`));
      return answer(res, 200, JSON.stringify(resource!.includes('_ism') ? { _id: 'guardduty-findings', _seq_no: 7, _primary_term: 1, policy: value } : value));
    }
    if (method !== 'PUT') return answer(res, 405, errorBody(405, 'method_not_allowed', method));
    const accept = String(req.headers.accept ?? '');
    if (/compatible-with=9/.test(accept) && options.version.startsWith('8.')) {
      return answer(res, 400, errorBody(400, 'media_type_header_exception', 'Invalid media-type value on headers [Accept]'));
    }
    let parsed: Record<string, any>;
    try {
      parsed = JSON.parse(body) as Record<string, any>;
    } catch {
      return answer(res, 400, errorBody(400, 'parse_exception', 'request body is required'));
    }
    if (resource!.includes('_ism')) {
      const exists = stored.has(resource!);
      if (exists && query !== 'if_seq_no=7&if_primary_term=1') return answer(res, 409, errorBody(409, 'version_conflict_engine_exception', 'policy exists; give if_seq_no and if_primary_term'));
      if (!Array.isArray(parsed.policy?.states) || typeof parsed.policy?.default_state !== 'string') return answer(res, 400, errorBody(400, 'x_content_parse_exception', 'policy.states required'));
    }
    if (resource!.startsWith('/_ilm') && typeof parsed.policy?.phases !== 'object') return answer(res, 400, errorBody(400, 'x_content_parse_exception', 'policy.phases required'));
    if (resource!.startsWith('/_index_template')) {
      const aws = parsed.template?.mappings?.properties?.aws?.properties?.guardduty?.type;
      const expected = options.distribution === 'elasticsearch' ? 'flattened' : 'flat_object';
      if (!Array.isArray(parsed.index_patterns)) return answer(res, 400, errorBody(400, 'action_request_validation_exception', 'index patterns are missing'));
      if (aws !== expected) return answer(res, 400, errorBody(400, 'mapper_parsing_exception', `No handler for type [${String(aws)}] declared on field [guardduty]`));
    }
    stored.set(resource!, parsed.policy ?? parsed);
    return answer(res, 200, JSON.stringify({ acknowledged: true }));
  });
  const { origin, close } = await listenLoopback(server);
  return { origin, requests, stored, imported, close };
};

export { startClusterLoopback };
export type { ClusterLoopback, ClusterOptions };
