import { describe, expect, it } from 'vitest';
import { fromApiFinding, fromApiResponse } from '../../../shared/input/api-finding.ts';

describe('fromApiFinding: SDK/CLI finding → wire form', () => {
  it('renames members by the model, keeping map keys and free-form content as they are', () => {
    // Prepare
    const sdk = {
      Id: 'f1',
      Resource: {
        InstanceDetails: { ProductCodes: [{ Code: 'pc', ProductType: 'marketplace' }], Tags: [{ Key: 'CostCentre', Value: 'Ops' }] },
        KubernetesDetails: { KubernetesUserDetails: { Username: 'u' } },
      },
      Service: {
        AdditionalInfo: { Value: '{"Sample":true,"UnusualPort":22}', Type: 'default' },
        Action: {
          AwsApiCallAction: { AffectedResources: { 'AWS::S3::Bucket': 'b' } },
          KubernetesApiCallAction: { SourceIps: ['10.0.0.1'] },
          RdsLoginAttemptAction: { LoginAttributes: [{ User: 'admin', FailedLoginAttempts: 3 }] },
          NetworkConnectionAction: { RemoteIpDetails: { GeoLocation: { Lat: 1.5, Lon: 2.5 } } },
        },
        Detection: {
          Anomaly: { Profiles: { ProfileName: { FeatureName: [{ ProfileType: 'FREQUENCY' }] } } },
          Sequence: { Endpoints: [{ Location: { Latitude: 1.5, Longitude: 2.5 } }] },
        },
      },
    };
    // Act
    const wire = fromApiFinding(sdk);
    // Assess
    expect(wire).toEqual({
      id: 'f1',
      resource: {
        instanceDetails: { productCodes: [{ productCodeId: 'pc', productCodeType: 'marketplace' }], tags: [{ key: 'CostCentre', value: 'Ops' }] },
        kubernetesDetails: { kubernetesUserDetails: { username: 'u' } },
      },
      service: {
        additionalInfo: { value: '{"Sample":true,"UnusualPort":22}', type: 'default' },
        action: {
          awsApiCallAction: { affectedResources: { 'AWS::S3::Bucket': 'b' } },
          kubernetesApiCallAction: { sourceIPs: ['10.0.0.1'] },
          rdsLoginAttemptAction: { LoginAttributes: [{ user: 'admin', failedLoginAttempts: 3 }] },
          networkConnectionAction: { remoteIpDetails: { geoLocation: { lat: 1.5, lon: 2.5 } } },
        },
        detection: {
          anomaly: { profiles: { ProfileName: { FeatureName: [{ profileType: 'FREQUENCY' }] } } },
          sequence: { endpoints: [{ location: { lat: 1.5, lon: 2.5 } }] },
        },
      },
    });
  });

  it('gives timestamps their wire form: epoch seconds for `timestamp` members, ISO strings for string members', () => {
    // Prepare: the forms the SDK for JavaScript (Date), CLI v1 (number), CLI v2 (+00:00, µs) and boto3 str() give
    const sdk = {
      CreatedAt: new Date('2024-05-01T10:00:00.250Z'),
      UpdatedAt: '2024-05-02T10:00:00.000Z',
      Resource: {
        EksClusterDetails: { CreatedAt: new Date('2017-12-18T15:58:11.551Z') },
        LambdaDetails: { LastModifiedAt: 1513612691.5 },
        S3BucketDetails: [{ CreatedAt: '2017-12-18T15:58:11.551234+00:00' }, { CreatedAt: '2017-12-18 15:58:11+00:00' }, { CreatedAt: 'yesterday' }],
      },
    };
    // Act
    const wire = fromApiFinding(sdk) as Record<string, any>;
    // Assess
    expect(wire.createdAt).toBe('2024-05-01T10:00:00.250Z');
    expect(wire.updatedAt).toBe('2024-05-02T10:00:00.000Z');
    expect(wire.resource.eksClusterDetails.createdAt).toBe(1513612691.551);
    expect(wire.resource.lambdaDetails.lastModifiedAt).toBe(1513612691.5);
    expect(wire.resource.s3BucketDetails.map((b: { createdAt: unknown }) => b.createdAt)).toEqual([1513612691.551234, 1513612691, 'yesterday']);
  });

  it('leaves a wire-form finding, unknown members and hostile keys as they are', () => {
    // Prepare
    const wire = JSON.parse('{"id":"f","resource":{"resourceType":"Instance"},"NewerMember":{"Inner":1},"__proto__":{"polluted":true}}');
    // Act
    const converted = fromApiFinding(wire) as Record<string, unknown>;
    // Assess
    expect(converted).toEqual(wire);
    expect(Object.getPrototypeOf(converted)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('converts a whole GetFindings response', () => {
    expect(fromApiResponse({ Findings: [{ Id: 'a', Severity: 5 }] })).toEqual({ findings: [{ id: 'a', severity: 5 }] });
  });
});
