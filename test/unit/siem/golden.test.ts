import { describe, expect, it } from 'vitest';
import { dashboardObjects, toNdjson } from '../../../shared/cli/siem/dashboards.ts';
import { ilmPolicy, indexTemplate, ismPolicy, type Flavor } from '../../../shared/cli/siem/index-template.ts';

/**
 * What `siem setup` installs, as reviewable files: the index template and lifecycle policy per
 * flavor, and the dashboard's export NDJSON (the file written when no --dashboards-url is given).
 */
const FLAVORS: Flavor[] = ['elasticsearch', 'opensearch'];

describe('siem setup golden files', () => {
  it.each(FLAVORS)('%s index template and lifecycle policy', async (flavor) => {
    // Act
    const installed = {
      template: indexTemplate({ flavor, indexPattern: 'guardduty-*', withPolicy: true }),
      policy: flavor === 'elasticsearch' ? ilmPolicy(365) : ismPolicy(365, 'guardduty-*'),
    };

    // Assess
    await expect(`${JSON.stringify(installed, null, 2)}\n`).toMatchFileSnapshot(`../../golden/siem/${flavor}.template-and-policy.json`);
  });

  it.each(FLAVORS)('%s dashboard NDJSON', async (flavor) => {
    // Act
    const ndjson = toNdjson(dashboardObjects(flavor, 'guardduty-*'));

    // Assess
    await expect(ndjson).toMatchFileSnapshot(`../../golden/siem/${flavor}.dashboards.ndjson`);
  });
});
