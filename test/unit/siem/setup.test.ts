import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runSiemSetup } from '../../../shared/cli/siem-cmd.ts';
import { ecsMappings } from '../../../shared/cli/siem/index-template.ts';
import { LOOPBACK_CREDENTIALS } from '../../helpers/firehose-loopback.ts';
import { closedPort } from '../../helpers/target-contract.ts';
import { startClusterLoopback, type ClusterLoopback, type ClusterOptions } from './cluster-loopback.ts';

/**
 * `siem setup` end to end through the official clients against a loopback cluster: the calls,
 * their order and bodies; a cluster that refuses (403) or is too old changes nothing; --dry-run
 * contacts nothing.
 */
const USER = 'guardduty_writer';
const PASSWORD = 'ES-PASSWORD-s3cr3t-77aa';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(closers.splice(0).map((close) => close()));
});

const cluster = async (options: Partial<ClusterOptions> = {}): Promise<ClusterLoopback> => {
  const loopback = await startClusterLoopback({ distribution: 'elasticsearch', version: '8.15.0', authorization: BASIC, ...options });
  closers.push(loopback.close);
  return loopback;
};

const BASIC_AUTH = 'basic: { username: { env: ES_USER }, password: { env: ES_PASSWORD } }';

const routesFor = (url: string, extra = '', auth = BASIC_AUTH): string => {
  const dir = mkdtempSync(join(tmpdir(), 'siem-setup-'));
  const file = join(dir, 'routes.yml');
  writeFileSync(
    file,
    `targets:\n  siem:\n    type: elasticsearch\n    url: ${url}\n    ${auth}\n${extra}default:\n  targets: [siem]\n`,
  );
  return file;
};

const run = async (argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
  vi.stubEnv('ES_USER', USER);
  vi.stubEnv('ES_PASSWORD', PASSWORD);
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (text: string) => ((stdout += text), true) },
    stderr: { write: (text: string) => ((stderr += text), true) },
  } as unknown as { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };
  const code = await runSiemSetup(argv, io);
  return { code, stdout, stderr };
};

const calls = (loopback: ClusterLoopback): string[] => loopback.requests.map((r) => `${r.method} ${r.path}`);

describe('siem setup', () => {
  it('installs the ILM policy, the template and the Kibana dashboard on Elasticsearch 8, in that order, as the target user', async () => {
    // Prepare
    const es = await cluster();
    const kibana = await cluster();
    const routes = routesFor(es.origin);

    // Act
    const { code, stdout, stderr } = await run(['--target', 'siem', '--routes', routes, '--dashboards-url', kibana.origin]);

    // Assess
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(calls(es)).toEqual(['GET /', 'GET /_index_template/guardduty-findings', 'GET /_ilm/policy/guardduty-findings', 'PUT /_ilm/policy/guardduty-findings', 'PUT /_index_template/guardduty-findings']);
    expect(es.requests.every((r) => r.headers.authorization === BASIC)).toBe(true);
    const template = es.stored.get('/_index_template/guardduty-findings') as Record<string, any>;
    expect(template.index_patterns).toEqual(['guardduty-*']);
    expect(template.template.mappings).toEqual(ecsMappings('elasticsearch'));
    expect(template.template.settings).toEqual({ 'index.lifecycle.name': 'guardduty-findings' });
    expect(es.stored.get('/_ilm/policy/guardduty-findings')).toMatchObject({ phases: { delete: { min_age: '365d', actions: { delete: {} } } } });
    expect(calls(kibana)).toEqual(['POST /api/saved_objects/_import?overwrite=true']);
    expect(kibana.requests[0]!.headers['kbn-xsrf']).toBeDefined();
    expect(kibana.imported[0]!.map((o) => (o as { type: string }).type)).toEqual(['index-pattern', 'visualization', 'visualization', 'visualization', 'visualization', 'map', 'search', 'dashboard']);
    expect(stdout).toContain('elasticsearch 8.15.0');
    expect(stdout).toContain('imported 8 saved objects');
    expect(stdout + stderr).not.toContain(PASSWORD);
  });

  it('on OpenSearch: ISM policy overwritten with its seq_no, flat_object template, dashboards written to a file without a URL', async () => {
    // Prepare
    const os = await cluster({ distribution: 'opensearch', version: '2.11.1', existingPolicy: true });
    const routes = routesFor(os.origin, "    index: 'findings-{yyyy.MM}'\n");
    const file = join(mkdtempSync(join(tmpdir(), 'siem-ndjson-')), 'dash.ndjson');

    // Act
    const { code, stdout, stderr } = await run(['--target', 'siem', '--routes', routes, '--flavor', 'opensearch', '--retention-days', '90', '--dashboards-file', file]);

    // Assess
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(calls(os)).toEqual([
      'GET /',
      'GET /_index_template/guardduty-findings',
      'GET /_plugins/_ism/policies/guardduty-findings',
      'PUT /_plugins/_ism/policies/guardduty-findings?if_seq_no=7&if_primary_term=1',
      'PUT /_index_template/guardduty-findings',
    ]);
    expect(os.stored.get('/_plugins/_ism/policies/guardduty-findings')).toMatchObject({ ism_template: [{ index_patterns: ['findings-*'] }], states: [{ transitions: [{ conditions: { min_index_age: '90d' } }] }, { actions: [{ delete: {} }] }] });
    expect((os.stored.get('/_index_template/guardduty-findings') as Record<string, any>).template.mappings.properties.aws.properties.guardduty).toEqual({ type: 'flat_object' });
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(8);
    expect(stdout).toContain(`wrote 8 saved objects to ${file}`);
  });

  it('signs every call with SigV4 for an Amazon OpenSearch Service target (sigv4 means OpenSearch)', async () => {
    // Prepare
    vi.stubEnv('AWS_ACCESS_KEY_ID', LOOPBACK_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', LOOPBACK_CREDENTIALS.secretAccessKey);
    vi.stubEnv('AWS_SESSION_TOKEN', '');
    const sigv4 = { ...LOOPBACK_CREDENTIALS, region: 'eu-west-1', service: 'es' };
    const os = await cluster({ distribution: 'opensearch', version: '2.13.0', authorization: { sigv4 } });
    const routes = routesFor(os.origin, '', 'sigv4: { region: eu-west-1, service: es }');
    const file = join(mkdtempSync(join(tmpdir(), 'siem-sigv4-')), 'dash.ndjson');

    // Act
    const { code, stderr } = await run(['--target', 'siem', '--routes', routes, '--dashboards-file', file]);

    // Assess
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(calls(os)).toHaveLength(5);
    for (const request of os.requests) expect(request.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDFIREHOSELOOPBACK\/\d{8}\/eu-west-1\/es\/aws4_request/);
  });

  it('Kibana refusing the import: one line saying the template and policy are installed, exit 1', async () => {
    // Prepare
    const es = await cluster();
    const kibana = await cluster({ authorization: 'Basic another-user' });
    const routes = routesFor(es.origin);

    // Act
    const { code, stderr } = await run(['--target', 'siem', '--routes', routes, '--dashboards-url', kibana.origin]);

    // Assess
    expect(code).toBe(1);
    expect(stderr).toMatch(/^siem setup: siem: dashboards import refused: HTTP 401: .*security_exception.*\(template and policy are installed\)\n$/);
    expect(es.stored.has('/_index_template/guardduty-findings')).toBe(true);
    expect(kibana.imported).toEqual([]);
    expect(stderr).not.toContain(PASSWORD);
  });

  it('a dashboards file that cannot be written: one line, no stack trace, the template stays installed', async () => {
    // Prepare
    const es = await cluster();
    const routes = routesFor(es.origin);
    const file = join(tmpdir(), 'no-such-dir-siem', 'deeper', 'dash.ndjson');

    // Act
    const { code, stderr } = await run(['--target', 'siem', '--routes', routes, '--dashboards-file', file]);

    // Assess
    expect(code).toBe(1);
    expect(stderr).toBe(`siem setup: siem: cannot write the dashboards to ${file} (ENOENT) (template and policy are installed)\n`);
    expect(es.stored.has('/_index_template/guardduty-findings')).toBe(true);
  });

  it('a user without manage privileges (403) gets one line, and nothing is written', async () => {
    // Prepare
    const es = await cluster({ refuse: true });
    const routes = routesFor(es.origin);

    // Act
    const { code, stdout, stderr } = await run(['--target', 'siem', '--routes', routes, '--dashboards-file', join(tmpdir(), 'never.ndjson')]);

    // Assess
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^siem setup: siem: the cluster refused GET \/_index_template\/guardduty-findings: HTTP 403 security_exception .*; nothing changed\n$/);
    expect(es.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(stdout + stderr).not.toContain(PASSWORD);
  });

  it.each([
    ['elasticsearch', '7.16.3', 'elasticsearch 7.16.3 is too old: siem setup needs Elasticsearch 7.17 or later; nothing changed'],
    ['opensearch', '2.5.0', 'opensearch 2.5.0 is too old: siem setup needs OpenSearch 2.7 (flat_object) or later; nothing changed'],
  ] as const)('%s %s is too old: one line, only GET / sent', async (distribution, version, message) => {
    // Prepare
    const es = await cluster({ distribution, version });
    const routes = routesFor(es.origin);

    // Act
    const { code, stderr } = await run(['--target', 'siem', '--routes', routes, '--flavor', distribution]);

    // Assess
    expect(code).toBe(1);
    expect(stderr).toBe(`siem setup: siem: ${message}\n`);
    expect(calls(es)).toEqual(['GET /']);
  });

  it.each([
    ['elasticsearch', 'opensearch', /^siem setup: siem: GET \/: the cluster did not identify itself as Elasticsearch \(x-elastic-product\); for OpenSearch use --flavor opensearch; nothing changed\n$/],
    ['opensearch', 'elasticsearch', /^siem setup: siem: the cluster is elasticsearch 8\.15\.0, not opensearch \(use --flavor elasticsearch\); nothing changed\n$/],
  ] as const)('--flavor %s against %s: one line naming the right flavor, only GET / sent', async (flavor, distribution, message) => {
    // Prepare
    const other = await cluster({ distribution, version: distribution === 'opensearch' ? '2.11.0' : '8.15.0' });
    const routes = routesFor(other.origin);

    // Act
    const { code, stderr } = await run(['--target', 'siem', '--routes', routes, '--flavor', flavor]);

    // Assess
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
    expect(calls(other)).toEqual(['GET /']);
  });

  it('--dry-run prints every request and contacts nothing', async () => {
    // Prepare
    const es = await cluster();
    const routes = routesFor(es.origin);
    const file = join(mkdtempSync(join(tmpdir(), 'siem-dry-')), 'dash.ndjson');

    // Act
    const { code, stdout } = await run(['--target', 'siem', '--routes', routes, '--dry-run', '--dashboards-file', file]);

    // Assess
    expect(code).toBe(0);
    expect(es.requests).toEqual([]);
    expect(existsSync(file)).toBe(false);
    expect(stdout.split('\n').filter((line) => line.startsWith('  ')).map((line) => line.trim().split(' (')[0])).toEqual([
      'GET /',
      'GET /_index_template/guardduty-findings',
      'GET /_ilm/policy/guardduty-findings',
      'PUT /_ilm/policy/guardduty-findings',
      'PUT /_index_template/guardduty-findings',
      `write ${file}`,
    ]);
  });

  it('a cluster that does not answer: one line naming the call and the cause, nothing changed', async () => {
    // Prepare
    const routes = routesFor(`http://127.0.0.1:${await closedPort()}`);

    // Act
    const { code, stderr } = await run(['--target', 'siem', '--routes', routes]);

    // Assess
    expect(code).toBe(1);
    expect(stderr).toMatch(/^siem setup: siem: GET \/ failed: ConnectionError: connect ECONNREFUSED 127\.0\.0\.1:\d+; nothing changed\n$/);
  });

  it('names the elasticsearch targets when --target is not one', async () => {
    // Prepare
    const routes = routesFor('https://search.example.com');

    // Act
    const { code, stderr } = await run(['--target', 'nope', '--routes', routes]);

    // Assess
    expect(code).toBe(1);
    expect(stderr).toContain("no elasticsearch target 'nope' (elasticsearch targets: siem)");
  });
});
