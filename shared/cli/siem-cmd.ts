import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { awsSecretResolver } from '../aws/secrets-manager.ts';
import { loadConfig } from '../config/load.ts';
import { ROUTES_CONFIG } from '../config/routes-config.ts';
import { SecretResolutionError } from '../errors.ts';
import { redactText } from '../redact.ts';
import { DEFAULT_RETENTION_DAYS, indexPatternOf, type Flavor } from './siem/index-template.ts';
import { dryRun, runSetup, SiemSetupError, type ClusterCall, type SetupPlan } from './siem/setup.ts';
import { DEFAULT_INDEX, ElasticsearchConfigSchema, staticAuth, type ElasticsearchConfig } from '../targets/elasticsearch.ts';
import { BUNDLED } from './paths.ts';

type Io = { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };

const USAGE = `Usage: findings-router siem setup --target NAME [--routes FILE] [--dry-run]
  [--flavor elasticsearch|opensearch] [--retention-days N (default ${DEFAULT_RETENTION_DAYS})]
  [--dashboards-url URL (Kibana / OpenSearch Dashboards)] [--dashboards-file FILE]
Installs the index template, lifecycle policy and GuardDuty dashboard for an elasticsearch target,
with the target's own url and credentials. --dry-run prints each request and changes nothing.
`;

const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/** One line for a client error: status, the cluster's error type and reason (redacted). */
const describeClientError = (method: string, path: string, error: unknown, secrets: readonly string[]): string => {
  const e = error as { name?: string; message?: string; meta?: { statusCode?: number; body?: unknown } };
  // Transport errors (refused, timeout) carry no HTTP status; the ES client reports 0.
  const status = e.meta?.statusCode || undefined;
  const cause = (e.meta?.body as { error?: { type?: unknown; reason?: unknown } } | undefined)?.error;
  const type = typeof cause?.type === 'string' ? cause.type : undefined;
  // Amazon OpenSearch Service answers auth failures as `{"message": …}`, not an `error` object.
  const awsMessage = (e.meta?.body as { message?: unknown } | undefined)?.message;
  const reason = typeof cause?.reason === 'string' ? cause.reason : typeof awsMessage === 'string' ? awsMessage : undefined;
  if (e.name === 'ProductNotSupportedError') return `${method} ${path}: the cluster did not identify itself as Elasticsearch (x-elastic-product); for OpenSearch use --flavor opensearch`;
  const what = status === 401 || status === 403 ? `the cluster refused ${method} ${path}` : `${method} ${path} failed`;
  const detail = [status === undefined ? `${e.name}: ${e.message}` : `HTTP ${status}`, type, reason].filter(Boolean).join(' ');
  return redactText(`${what}: ${detail || e.message || 'error'}`, secrets, { oneLine: true, maxLength: 400 });
};

/** A ClusterCall through the flavor's official client, authenticated as the target is. */
const clusterCall = async (flavor: Flavor, config: ElasticsearchConfig, headers: Record<string, string>, secrets: readonly string[]): Promise<ClusterCall> => {
  const node = config.url.replace(/\/+$/, '');
  // Plain JSON media types: the client's own `compatible-with=9` ones are refused by Elasticsearch 8.
  const json = { accept: 'application/json', 'content-type': 'application/json' };
  let request: (method: string, path: string, body: unknown) => Promise<{ statusCode: number | null; body: unknown }>;
  if (flavor === 'elasticsearch') {
    if (config.sigv4 !== undefined) throw new SiemSetupError('sigv4 means Amazon OpenSearch Service: use --flavor opensearch');
    const { Client } = await import('@elastic/elasticsearch');
    const client = new Client({ node, headers, maxRetries: 0, requestTimeout: 30_000, maxResponseSize: MAX_RESPONSE_BYTES });
    request = (method, path, body) => client.transport.request({ method, path, ...(body === undefined ? {} : { body: body as Record<string, unknown> }) }, { ignore: [404], headers: json, meta: true });
  } else {
    const { Client } = await import('@opensearch-project/opensearch');
    let signer = {};
    if (config.sigv4 !== undefined) {
      const [{ AwsSigv4Signer }, { loadDefaultCredentials }] = await Promise.all([import('@opensearch-project/opensearch/aws'), import('../aws/sigv4.ts')]);
      const credentials = await loadDefaultCredentials();
      signer = AwsSigv4Signer({ region: config.sigv4.region, service: config.sigv4.service, getCredentials: () => credentials() });
    }
    const client = new Client({ node, headers, maxRetries: 0, requestTimeout: 30_000, ...signer });
    request = (method, path, body) => client.transport.request({ method, path, ...(body === undefined ? {} : { body: body as Record<string, unknown> }) }, { ignore: [404], headers: json });
  }
  return async (method, path, body) => {
    try {
      const answer = await request(method, path, body);
      return { status: answer.statusCode ?? 0, body: answer.body };
    } catch (cause) {
      throw new SiemSetupError(describeClientError(method, path, cause, secrets), { cause });
    }
  };
};

/** `siem setup`: exit 0 installed (or dry run), 1 refused / failed, 2 usage. */
const runSiemSetup = async (argv: string[], io: Io): Promise<number> => {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: 'string' },
      routes: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      flavor: { type: 'string' },
      'retention-days': { type: 'string' },
      'dashboards-url': { type: 'string' },
      'dashboards-file': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const usage = (message: string): number => {
    io.stderr.write(`siem setup: ${message}\n${USAGE}`);
    return 2;
  };
  if (values.target === undefined) return usage('--target NAME is required (an elasticsearch target of the routes file)');
  if (values.flavor !== undefined && values.flavor !== 'elasticsearch' && values.flavor !== 'opensearch') return usage('--flavor is elasticsearch or opensearch');
  const retention = values['retention-days'] === undefined ? DEFAULT_RETENTION_DAYS : Number(values['retention-days']);
  if (!Number.isInteger(retention) || retention < 1 || retention > 36_500) return usage('--retention-days is a whole number of days (1 to 36500)');
  const dashboardsUrl = values['dashboards-url'];
  if (dashboardsUrl !== undefined && !/^https?:\/\/[^?#]+$/i.test(dashboardsUrl)) return usage('--dashboards-url is an http(s) base URL without query or fragment');

  const routesFile = values.routes ?? BUNDLED.routes();
  const routes = await loadConfig(ROUTES_CONFIG, { file: routesFile });
  const target = routes.targets.get(values.target);
  if (target === undefined || target.type !== 'elasticsearch') {
    const names = [...routes.targets.values()].filter((t) => t.type === 'elasticsearch').map((t) => t.name);
    io.stderr.write(`siem setup: ${routesFile}: no elasticsearch target '${values.target}' (elasticsearch targets: ${names.join(', ') || 'none'})\n`);
    return 1;
  }
  const config = ElasticsearchConfigSchema.parse(target.settings);
  if ((config.format ?? 'ecs') !== 'ecs') {
    io.stderr.write(`siem setup: target '${target.name}' writes format raw; the template and dashboard are for format ecs (the default)\n`);
    return 1;
  }
  const flavor: Flavor = (values.flavor as Flavor | undefined) ?? (config.sigv4 !== undefined ? 'opensearch' : 'elasticsearch');
  const index = config.index ?? DEFAULT_INDEX;
  const indexPattern = indexPatternOf(index);
  const plan: SetupPlan = {
    flavor,
    indexPattern,
    retentionDays: indexPattern === index ? undefined : retention,
    dashboards: { url: dashboardsUrl, headers: {}, file: values['dashboards-file'] ?? `guardduty-dashboards.${flavor}.ndjson` },
  };
  const log = (line: string) => io.stdout.write(`${line}\n`);
  if (values['dry-run']) {
    dryRun(plan, { log });
    return 0;
  }
  let secrets: string[] = [];
  try {
    const auth = await staticAuth(config, awsSecretResolver());
    secrets = auth.secrets;
    if (dashboardsUrl !== undefined && config.sigv4 !== undefined) {
      io.stderr.write('siem setup: the dashboards import does not sign with SigV4; the saved objects are written to a file instead\n');
      plan.dashboards.url = undefined;
    }
    plan.dashboards.headers = auth.headers;
    const call = await clusterCall(flavor, config, auth.headers, secrets);
    await runSetup(call, plan, { log, writeFile: (file, text) => writeFile(file, text, 'utf8'), fetch, secrets });
    return 0;
  } catch (error) {
    if (error instanceof SiemSetupError || error instanceof SecretResolutionError) {
      io.stderr.write(`siem setup: ${target.name}: ${redactText(error.message, secrets, { oneLine: true, maxLength: 600 })}\n`);
      return 1;
    }
    throw error;
  }
};

export { runSiemSetup };
