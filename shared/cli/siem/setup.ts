import { FindingsRouterError } from '../../errors.ts';
import { redactText } from '../../redact.ts';
import { dashboardObjects, toNdjson, type SavedObject } from './dashboards.ts';
import { ecsMappings, ilmPolicy, indexTemplate, ismPolicy, POLICY_NAME, TEMPLATE_NAME, type Flavor } from './index-template.ts';

/**
 * `siem setup`: installs the index template, the lifecycle policy and the dashboard for one
 * `elasticsearch` target. Order: the version (GET /) and read-only preflight calls first, so
 * a cluster that is too old or refuses (403) is found before anything is written.
 */
class SiemSetupError extends FindingsRouterError {
  /** The message already says what was and was not installed. */
  readonly saysWhatChanged: boolean;

  constructor(message: string, options?: ErrorOptions & { saysWhatChanged?: boolean }) {
    super(message, options);
    this.name = 'SiemSetupError';
    this.saysWhatChanged = options?.saysWhatChanged ?? false;
  }
}

interface ClusterAnswer {
  status: number;
  body: unknown;
}

/** One call to the cluster through its official client; 404 answers, other errors throw. */
type ClusterCall = (method: 'GET' | 'PUT', path: string, body?: unknown) => Promise<ClusterAnswer>;

interface Dashboards {
  /** Kibana / OpenSearch Dashboards base URL; without it the NDJSON is written to `file`. */
  url?: string;
  headers: Record<string, string>;
  file: string;
}

interface SetupPlan {
  flavor: Flavor;
  indexPattern: string;
  /** Undefined: no lifecycle (a fixed index name, see indexTemplate's withPolicy). */
  retentionDays: number | undefined;
  dashboards: Dashboards;
}

interface SetupIo {
  log: (line: string) => void;
  writeFile: (file: string, text: string) => Promise<void>;
  /** fetch for the dashboards import (tests pass the global one; it speaks to a loopback). */
  fetch: typeof fetch;
  secrets: readonly string[];
}

const MINIMUM: Record<Flavor, [number, number]> = { elasticsearch: [7, 17], opensearch: [2, 7] };
const MINIMUM_TEXT: Record<Flavor, string> = { elasticsearch: 'Elasticsearch 7.17', opensearch: 'OpenSearch 2.7 (flat_object)' };
const MAX_ANSWER_BYTES = 1024 * 1024;

const policyPath = (flavor: Flavor): string => (flavor === 'elasticsearch' ? `/_ilm/policy/${POLICY_NAME}` : `/_plugins/_ism/policies/${POLICY_NAME}`);
const templatePath = `/_index_template/${TEMPLATE_NAME}`;
const importPath = '/api/saved_objects/_import?overwrite=true';

/** The flavor and version GET / reports; Amazon OpenSearch Service's legacy Elasticsearch 7.10 counts as Elasticsearch 7.10. */
const clusterVersion = (body: unknown): { flavor: Flavor; version: string; major: number; minor: number } => {
  const version = (body as { version?: { number?: unknown; distribution?: unknown } } | null)?.version;
  const number = typeof version?.number === 'string' ? version.number : undefined;
  const match = number === undefined ? null : /^(\d+)\.(\d+)/.exec(number);
  if (number === undefined || match === null) throw new SiemSetupError('GET / did not answer with a version.number: is this Elasticsearch or OpenSearch?');
  return { flavor: version?.distribution === 'opensearch' ? 'opensearch' : 'elasticsearch', version: number, major: Number(match[1]), minor: Number(match[2]) };
};

const tooOld = (flavor: Flavor, major: number, minor: number): boolean => {
  const [wantMajor, wantMinor] = MINIMUM[flavor];
  return major < wantMajor || (major === wantMajor && minor < wantMinor);
};

const countFields = (properties: Record<string, unknown>): number =>
  Object.values(properties).reduce<number>((sum, mapping) => {
    const nested = (mapping as { properties?: Record<string, unknown> }).properties;
    return sum + (nested === undefined ? 1 : countFields(nested));
  }, 0);

const summaries = (plan: SetupPlan, objects: readonly SavedObject[]) => {
  const { flavor, indexPattern, retentionDays } = plan;
  const mappings = ecsMappings(flavor);
  return {
    version: 'GET / (version check: needs ' + MINIMUM_TEXT[flavor] + ' or later)',
    preflight: [`GET ${templatePath} (preflight: may this user manage templates?)`, ...(retentionDays === undefined ? [] : [`GET ${policyPath(flavor)} (preflight)`])],
    policy:
      retentionDays === undefined
        ? undefined
        : `PUT ${policyPath(flavor)} (${flavor === 'elasticsearch' ? 'ILM' : 'ISM'}: delete indices ${retentionDays} days after creation${flavor === 'opensearch' ? `, attached to new ${indexPattern} indices` : ''})`,
    template: `PUT ${templatePath} (index_patterns ${indexPattern}, ${countFields(mappings.properties)} mapped fields, aws.guardduty ${flavor === 'elasticsearch' ? 'flattened' : 'flat_object'}, dynamic false${flavor === 'elasticsearch' && retentionDays !== undefined ? `, index.lifecycle.name ${POLICY_NAME}` : ''})`,
    dashboards:
      plan.dashboards.url === undefined
        ? `write ${plan.dashboards.file} (${objects.length} saved objects as export NDJSON, for Stack Management → Saved objects → Import)`
        : `POST ${plan.dashboards.url.replace(/\/+$/, '')}${importPath} (${objects.length} saved objects: ${objects.map((o) => `${o.type}:${o.id}`).join(', ')})`,
  };
};

/** Reads at most MAX_ANSWER_BYTES of an HTTP answer. */
const readBounded = async (response: Response): Promise<string> => {
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      break;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
};

const importDashboards = async (plan: SetupPlan, ndjson: string, io: SetupIo): Promise<string> => {
  const { url, headers } = plan.dashboards;
  const form = new FormData();
  form.append('file', new Blob([ndjson], { type: 'application/ndjson' }), 'guardduty-dashboards.ndjson');
  const xsrf = plan.flavor === 'elasticsearch' ? { 'kbn-xsrf': 'findings-router' } : { 'osd-xsrf': 'true' };
  let response: Response;
  try {
    response = await io.fetch(`${url!.replace(/\/+$/, '')}${importPath}`, { method: 'POST', headers: { ...headers, ...xsrf }, body: form, signal: AbortSignal.timeout(30_000) });
  } catch (cause) {
    const reason = redactText((cause as Error).message ?? '', io.secrets, { oneLine: true, maxLength: 200 });
    throw new SiemSetupError(`dashboards import failed: ${(cause as Error).name} ${reason} (template and policy are installed)`, { cause, saysWhatChanged: true });
  }
  const text = await readBounded(response);
  let answer: { success?: unknown; successCount?: unknown; errors?: { id?: unknown; type?: unknown; error?: { type?: unknown } }[] } = {};
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    // Reported below with the status.
  }
  if (!response.ok || answer.success !== true) {
    const firstErrors = (answer.errors ?? []).slice(0, 3).map((e) => `${String(e.type)}:${String(e.id)} ${String(e.error?.type)}`);
    const detail = firstErrors.length > 0 ? firstErrors.join('; ') : redactText(text, io.secrets, { oneLine: true, maxLength: 200 });
    throw new SiemSetupError(`dashboards import refused: HTTP ${response.status}${detail ? `: ${detail}` : ''} (template and policy are installed)`, { saysWhatChanged: true });
  }
  return `imported ${String(answer.successCount)} saved objects`;
};

/** Prints the requests `siem setup` would make; contacts nothing, writes nothing. */
const dryRun = (plan: SetupPlan, io: Pick<SetupIo, 'log'>): void => {
  const objects = dashboardObjects(plan.flavor, plan.indexPattern);
  const s = summaries(plan, objects);
  io.log(`dry run (${plan.flavor}): nothing is sent or written`);
  for (const line of [s.version, ...s.preflight, s.policy, s.template, s.dashboards]) if (line !== undefined) io.log(`  ${line}`);
};

/**
 * Installs everything. Throws SiemSetupError (one line, secrets redacted) when the cluster is
 * too old or refuses; before the first write that means nothing changed.
 */
const runSetup = async (call: ClusterCall, plan: SetupPlan, io: SetupIo): Promise<void> => {
  const done: string[] = [];
  try {
    await install(call, plan, io, done);
  } catch (error) {
    if (!(error instanceof SiemSetupError) || error.saysWhatChanged) throw error;
    throw new SiemSetupError(`${error.message}; ${done.length === 0 ? 'nothing changed' : `already installed: ${done.join(', ')}`}`, { cause: error, saysWhatChanged: true });
  }
};

const install = async (call: ClusterCall, plan: SetupPlan, io: SetupIo, done: string[]): Promise<void> => {
  const root = await call('GET', '/');
  const found = clusterVersion(root.body);
  if (found.flavor !== plan.flavor) throw new SiemSetupError(`the cluster is ${found.flavor} ${found.version}, not ${plan.flavor} (use --flavor ${found.flavor})`);
  if (tooOld(found.flavor, found.major, found.minor)) {
    throw new SiemSetupError(`${found.flavor} ${found.version} is too old: siem setup needs ${MINIMUM_TEXT[found.flavor]} or later`);
  }
  io.log(`${found.flavor} ${found.version}`);
  await call('GET', templatePath);
  const existingPolicy = plan.retentionDays === undefined ? undefined : await call('GET', policyPath(plan.flavor));

  if (plan.retentionDays !== undefined) {
    if (plan.flavor === 'elasticsearch') {
      await call('PUT', policyPath(plan.flavor), ilmPolicy(plan.retentionDays));
    } else {
      // ISM refuses to overwrite a policy without the sequence number it replaces.
      const current = existingPolicy?.status === 200 ? (existingPolicy.body as { _seq_no?: unknown; _primary_term?: unknown }) : undefined;
      const query = typeof current?._seq_no === 'number' && typeof current._primary_term === 'number' ? `?if_seq_no=${current._seq_no}&if_primary_term=${current._primary_term}` : '';
      await call('PUT', `${policyPath(plan.flavor)}${query}`, ismPolicy(plan.retentionDays, plan.indexPattern));
    }
    done.push(`lifecycle policy ${POLICY_NAME}`);
    io.log(`lifecycle policy ${POLICY_NAME}: indices deleted ${plan.retentionDays} days after creation`);
  } else {
    io.log(`no lifecycle policy: the target writes one fixed index (give its index a {yyyy.MM.dd} pattern for retention)`);
  }
  await call('PUT', templatePath, indexTemplate({ flavor: plan.flavor, indexPattern: plan.indexPattern, withPolicy: plan.retentionDays !== undefined }));
  done.push(`index template ${TEMPLATE_NAME}`);
  io.log(`index template ${TEMPLATE_NAME} for ${plan.indexPattern} (applies to indices created from now on)`);

  const objects = dashboardObjects(plan.flavor, plan.indexPattern);
  const ndjson = toNdjson(objects);
  if (plan.dashboards.url === undefined) {
    try {
      await io.writeFile(plan.dashboards.file, ndjson);
    } catch (cause) {
      const code = (cause as { code?: string }).code ?? (cause as Error).name;
      throw new SiemSetupError(`cannot write the dashboards to ${plan.dashboards.file} (${code}) (template and policy are installed)`, { cause, saysWhatChanged: true });
    }
    io.log(`dashboards: no --dashboards-url given; wrote ${objects.length} saved objects to ${plan.dashboards.file}: import it in ${plan.flavor === 'elasticsearch' ? 'Kibana' : 'OpenSearch Dashboards'} (Stack Management / Dashboards Management → Saved objects → Import)`);
  } else {
    io.log(`dashboards: ${await importDashboards(plan, ndjson, io)}`);
  }
};

export { runSetup, dryRun, SiemSetupError };
export type { ClusterCall, SetupPlan };
