// deploy/analytics.cjs as osls calls it (`${file(./deploy/analytics.cjs):resources}`): nothing unless the
// stage switches analytics on, parameters checked in one line, the Glue columns from analytics-columns.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import schema from '../../../deploy/analytics-columns.json' with { type: 'json' };
import { analytics } from './analytics-module.ts';

/** osls's resolveVariable over a stage's params: `param:name, fallback` falls back like osls does. */
const resolverFor = (params: Record<string, string>) => ({
  resolveVariable: async (expression: string): Promise<unknown> => {
    const [source = '', fallback] = expression.split(/,\s*/);
    if (source === 'self:custom.prefix') return 'findings-router-dev';
    const name = source.replace(/^param:/, '');
    if (name in params) return params[name];
    if (fallback === undefined) throw new Error(`no ${source}`);
    return fallback.replace(/^'(.*)'$/, '$1');
  },
});

describe('analytics resources (deploy/analytics.cjs)', () => {
  it('adds nothing unless analytics=true', async () => {
    expect(await analytics.resources(resolverFor({}))).toEqual({});
    expect(await analytics.resources(resolverFor({ analytics: 'false' }))).toEqual({});
  });

  it.each([
    [{ analytics: 'yes' }, '--param analytics=yes: expected true or false'],
    [{ analytics: 'true', analyticsRetentionDays: '0' }, '--param analyticsRetentionDays=0: expected a whole number >= 1'],
    [{ analytics: 'true', analyticsInfrequentAccessDays: '7' }, '--param analyticsInfrequentAccessDays=7: expected a whole number >= 30'],
    [{ analytics: 'true', analyticsScanLimitGb: '1.5' }, '--param analyticsScanLimitGb=1.5: expected a whole number >= 1'],
  ])('refuses %j in one line (osls prints the stack, which is that line)', async (params, message) => {
    const refusal = await analytics.resources(resolverFor(params)).then(() => undefined, (error: Error) => error);
    expect(refusal?.message).toBe(message);
    expect(refusal?.stack).toBe(`AnalyticsParamError: ${message}`);
  });

  it('takes the defaults, or the stage parameters, for retention, infrequent access and the scan limit', async () => {
    const lifecycle = (template: any) => template.Resources.AnalyticsBucket.Properties.LifecycleConfiguration.Rules.find((rule: any) => rule.Id === 'findings');
    const defaults: any = await analytics.resources(resolverFor({ analytics: 'true' }));
    expect(lifecycle(defaults)).toMatchObject({ ExpirationInDays: 365, Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 90 }] });
    expect(defaults.Resources.AnalyticsWorkGroup.Properties.WorkGroupConfiguration.BytesScannedCutoffPerQuery).toBe(10 * 1024 ** 3);
    expect(defaults.Resources.AnalyticsTable.Properties.TableInput.Parameters['projection.dt.range']).toBe('NOW-365DAYS,NOW');
    const short: any = await analytics.resources(resolverFor({ analytics: 'true', analyticsRetentionDays: '60', analyticsInfrequentAccessDays: '60', analyticsScanLimitGb: '2' }));
    expect(lifecycle(short)).toEqual({ Id: 'findings', Status: 'Enabled', Prefix: 'findings/', ExpirationInDays: 60 }); // no transition at or after expiry
    expect(short.Resources.AnalyticsWorkGroup.Properties.WorkGroupConfiguration.BytesScannedCutoffPerQuery).toBe(2 * 1024 ** 3);
  });

  it('declares the Glue columns from analytics-columns.json: Hive types, field names lowercased, definitions expanded', () => {
    const table = analytics.build({ prefix: 'findings-router-dev', ...analytics.DEFAULTS }).Resources.AnalyticsTable.Properties.TableInput;
    expect(table.Name).toBe(schema.table);
    expect(table.StorageDescriptor.Columns.map((column: any) => column.Name)).toEqual(schema.columns.map((column) => column.name));
    expect(table.PartitionKeys).toEqual([{ Name: 'dt', Type: 'string', Comment: schema.partitionKeys[0]!.comment }]);
    const finding = table.StorageDescriptor.Columns[0].Type as string;
    expect(finding).toMatch(/^struct<id:string,arn:string,accountid:string,region:string,type:string,title:string,severity:double,/);
    expect(finding).toContain('portprobeaction:struct<portprobedetails:array<struct<remoteipdetails:struct<ipaddressv4:string,');
    expect(finding).not.toMatch(/[A-Z#]/);
    expect([...finding].filter((c) => c === '<').length).toBe([...finding].filter((c) => c === '>').length);
  });

  it('carries each deploy/queries/*.sql file, byte for byte, as a named query in the workgroup and database', () => {
    const resources = analytics.build({ prefix: 'findings-router-dev', ...analytics.DEFAULTS }).Resources;
    const named = Object.values(resources).filter((resource: any) => resource.Type === 'AWS::Athena::NamedQuery') as any[];
    const files = analytics.namedQueries();
    expect(named.map((query) => query.Properties.Name).sort()).toEqual(files.map(({ name }) => name).sort());
    for (const query of named) {
      expect(query.Properties.QueryString).toBe(readFileSync(join(import.meta.dirname, '../../../deploy/queries', `${query.Properties.Name}.sql`), 'utf8'));
      expect(query.Properties).toMatchObject({ Database: { Ref: 'AnalyticsDatabase' }, WorkGroup: { Ref: 'AnalyticsWorkGroup' } });
      expect(query.Properties.Description.length).toBeGreaterThan(20);
    }
  });
});
