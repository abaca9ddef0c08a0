import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { actorFacts, actorSummary, type ActionKind } from '../../shared/actor-summary.ts';
import { summarizeResource } from '../../shared/enrich.ts';
import { HOSTILE, hostileFinding, loadFinding } from '../helpers/findings.ts';
import { withHostileActor } from '../helpers/hostile-actor.ts';

/** One real corpus finding per action shape (test/events/samples), each with its golden summary. */
const GOLDEN: readonly (readonly [name: string, file: string, kind: ActionKind])[] = [
  ['network-connection', 'backdoor-ec2-c-cactivity-b.json', 'network-connection'],
  ['port-probe', 'recon-ec2-portprobeunprotectedport.json', 'port-probe'],
  ['dns-request', 'backdoor-ec2-c-cactivity-b-dns.json', 'dns-request'],
  ['aws-api-call', 'unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.json', 'aws-api-call'],
  ['kubernetes-api-call', 'credentialaccess-kubernetes-maliciousipcaller-custom.json', 'kubernetes-api-call'],
  ['rds-login', 'credentialaccess-rds-anomalousbehavior-failedlogin.json', 'rds-login'],
  ['runtime', 'backdoor-runtime-c-cactivity-b.json', 'runtime'],
  ['runtime-dns', 'backdoor-runtime-c-cactivity-b-dns.json', 'dns-request'],
  ['malware-scan-ebs', 'execution-container-maliciousfile.json', 'malware-scan'],
  ['malware-scan-backup', 'execution-ec2-maliciousfile-ami.json', 'malware-scan'],
  ['attack-sequence', 'attacksequence-iam-compromisedcredentials.json', 'attack-sequence'],
];

const SAMPLES = readdirSync(new URL('../events/samples/', import.meta.url)).filter((name) => name.endsWith('.json'));

describe('actor summary', () => {
  it.each(GOLDEN)('%s: %s matches test/golden/actor', async (name, file, kind) => {
    // Prepare
    const finding = loadFinding(`samples/${file}`);

    // Act
    const summary = actorSummary(finding);

    // Assess
    expect(summary.kind).toBe(kind);
    const facts = actorFacts(summary);
    await expect(`${JSON.stringify({ source: `test/events/samples/${file}`, summary, facts }, null, 2)}\n`).toMatchFileSnapshot(`../golden/actor/${name}.json`);
  });

  it('a DNS finding names its domain, not an empty remote party', () => {
    // Prepare
    const finding = loadFinding('samples/backdoor-ec2-c-cactivity-b-dns.json');

    // Act
    const facts = actorFacts(actorSummary(finding));

    // Assess
    expect(facts.find((fact) => fact.label === 'What')?.value).toBe(`DNS request: ${finding.service?.action?.dnsRequestAction?.domain} over UDP`);
    expect(facts.map((fact) => fact.label)).not.toContain('From');
  });

  it('the credential-exfiltration case from the issue: API, IP, city, country, AS organisation, caller, first/last seen', () => {
    // Prepare
    const finding = loadFinding('samples/unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.json');
    const call = finding.service!.action!.awsApiCallAction!;
    const remote = call.remoteIpDetails!;

    // Act
    const summary = actorSummary(finding);

    // Assess
    expect(summary.detail).toContain(call.api);
    expect(summary.from).toMatchObject({
      ip: remote.ipAddressV4,
      city: remote.city?.cityName,
      country: remote.country?.countryName,
      asnOrg: remote.organization?.asnOrg,
    });
    expect(summary.firstSeen).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(summary.lastSeen).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(summary.count).toBe(finding.service?.count);
    expect(summary.target).toBe(summarizeResource(finding.resource));
  });

  it.each(SAMPLES)('%s: says what happened and since when', (file) => {
    // Prepare
    const finding = loadFinding(`samples/${file}`);

    // Act
    const summary = actorSummary(finding);

    // Assess: every type of the corpus gets an action with its detail, and the seen line.
    expect(summary.kind).not.toBe('unknown');
    expect(summary.detail, 'the API, port, domain, process or threat').toBeDefined();
    const facts = actorFacts(summary);
    expect(facts[0]!.label).toBe('What');
    expect(facts.at(-1)!.value).toMatch(/^first .+, last .+, \d+ times?$/);
    if (summary.kind === 'attack-sequence') expect(summary.signals?.length).toBeGreaterThan(0);
  });

  it('is built once per finding object', () => {
    // Prepare
    const finding = loadFinding('samples/backdoor-ec2-c-cactivity-b.json');

    // Act
    const first = actorSummary(finding);
    const second = actorSummary(finding);

    // Assess
    expect(second).toBe(first);
  });

  it('keeps hostile text as data, bounded: the renderers escape it', () => {
    // Prepare
    const finding = withHostileActor(hostileFinding());

    // Act
    const summary = actorSummary(finding);

    // Assess
    expect(summary.detail).toBe(`ListBuckets${HOSTILE.here} on s3.amazonaws.com${HOSTILE.bold}`);
    expect(summary.from?.asnOrg).toContain(HOSTILE.link);
    for (const fact of actorFacts(summary)) expect(fact.value.length, fact.label).toBeLessThanOrEqual(2000);
    expect(summary.from?.userAgent?.length).toBeLessThanOrEqual(300);
  });

  it('a finding with no action, no runtime and no scan is an activity seen once, not an error', () => {
    // Prepare
    const finding = { ...loadFinding('samples/backdoor-ec2-c-cactivity-b.json'), service: undefined };

    // Act
    const facts = actorFacts(actorSummary(finding));

    // Assess
    expect(facts).toEqual([
      { label: 'What', value: 'Activity' },
      { label: 'Seen', value: '1 time' },
    ]);
  });
});
