'use strict';
// The optional analytics part of the router stack (issue 16): the firehose target's records go through a
// Firehose delivery stream into an S3 bucket (SSE-KMS under a customer-managed key, GZIP, one prefix per
// arrival day), read by Athena through a Glue table with partition projection, with the SOC's named queries.
// serverless.yml: `- ${file(./deploy/analytics.cjs):resources}`; off unless `--param analytics=true`.
// CommonJS because osls only resolves .js/.cjs files. The table's columns come from analytics-columns.json
// and the queries from queries/*.sql: the DuckDB test (test/unit/analytics) reads the same files.
//
// Partitioning: by arrival day only (Firehose's own !{timestamp} prefix, no extra charge). Partitioning by
// account as well needs Firehose dynamic partitioning, billed per GB processed and per object delivered
// (an object per account per buffer), for queries that read a day of every account anyway: not worth it
// at GuardDuty volumes. Account is a column; a query per account scans the same days.
const { readFileSync, readdirSync } = require('node:fs');
const { join } = require('node:path');

const SCHEMA = JSON.parse(readFileSync(join(__dirname, 'analytics-columns.json'), 'utf8'));
const QUERIES_DIR = join(__dirname, 'queries');

/** S3 layout. The DuckDB test writes its objects under DATA_PREFIX with the same expressions evaluated. */
const DATA_PREFIX = 'findings/dt=!{timestamp:yyyy-MM-dd}/';
const ERROR_PREFIX = 'errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/';
const RESULTS_PREFIX = 'athena-results/';

const DEFAULTS = { retentionDays: 365, infrequentAccessDays: 90, scanLimitGb: 10, resultsDays: 30 };

/** A type of analytics-columns.json as Glue (Hive) writes it; struct field names lowercased, as Athena reads them. */
const hiveType = (type) => {
  if (typeof type === 'string') {
    if (type.startsWith('#')) return hiveType(SCHEMA.definitions[type.slice(1)]);
    return type;
  }
  if (type.array !== undefined) return `array<${hiveType(type.array)}>`;
  return `struct<${Object.entries(type.struct).map(([name, field]) => `${name.toLowerCase()}:${hiveType(field)}`).join(',')}>`;
};

/** The named queries: file name → { name, description (the first comment line), sql }. */
const namedQueries = () =>
  readdirSync(QUERIES_DIR)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      const sql = readFileSync(join(QUERIES_DIR, file), 'utf8');
      const description = /^--\s*(.+)$/m.exec(sql)?.[1] ?? '';
      return { name: file.slice(0, -'.sql'.length), description, sql };
    });

/** A stage parameter osls cannot use; osls prints a rejection's stack, so the stack is the one line. */
class AnalyticsParamError extends Error {
  constructor(message) {
    super(message);
    this.name = 'AnalyticsParamError';
    this.stack = `${this.name}: ${message}`;
  }
}

/** A positive whole number from a stage parameter, or one line naming the parameter. */
const wholeNumber = (name, value, min) => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < min) throw new AnalyticsParamError(`--param ${name}=${value}: expected a whole number >= ${min}`);
  return number;
};

const sub = (text) => ({ 'Fn::Sub': text });
const arn = (id) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const bucketArn = arn('AnalyticsBucket');
const bucketObjects = (prefix) => sub(`\${AnalyticsBucket.Arn}/${prefix}*`);
const logicalId = (name) => `AnalyticsQuery${name.replace(/(^|-)([a-z])/g, (_, __, letter) => letter.toUpperCase())}`;

/** Key administration for the account (no use of the key: that goes through S3 below). */
const KEY_ADMIN_ACTIONS = [
  'kms:Create*', 'kms:Describe*', 'kms:Enable*', 'kms:List*', 'kms:Put*', 'kms:Update*', 'kms:Revoke*', 'kms:Disable*',
  'kms:Get*', 'kms:Delete*', 'kms:TagResource', 'kms:UntagResource', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion',
];

/** Encrypting or decrypting objects of this bucket, only through S3 (Bucket Keys: the context is the bucket's ARN). */
const viaS3 = (encryptionContexts) => ({
  StringEquals: { 'kms:ViaService': sub('s3.${AWS::Region}.amazonaws.com') },
  StringLike: { 'kms:EncryptionContext:aws:s3:arn': encryptionContexts },
});

const build = ({ prefix, retentionDays, infrequentAccessDays, scanLimitGb }) => {
  const streamName = `${prefix}-findings`;
  const database = `${prefix}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const logGroup = `/aws/kinesisfirehose/${streamName}`;
  const queries = namedQueries();
  const firehoseWrites = [bucketObjects('findings/'), bucketObjects('errors/')];
  const resources = {
    AnalyticsKey: {
      Type: 'AWS::KMS::Key',
      DeletionPolicy: 'Retain', // the findings it encrypts outlive the stack
      UpdateReplacePolicy: 'Retain',
      Properties: {
        Description: `${prefix}: findings in the analytics bucket and Athena results`,
        EnableKeyRotation: true,
        KeyPolicy: {
          Version: '2012-10-17',
          Statement: [
            { Sid: 'KeyAdministration', Effect: 'Allow', Principal: { AWS: sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:root') }, Action: KEY_ADMIN_ACTIONS, Resource: '*' },
            {
              // Who may use it is decided by IAM policies (the Firehose role, the reader policy below); only
              // through S3, only for this account's callers, only for objects of this stack's buckets.
              Sid: 'UseThroughS3ByThisAccount',
              Effect: 'Allow',
              Principal: { AWS: sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:root') },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
              Resource: '*',
              Condition: {
                StringEquals: { 'kms:ViaService': sub('s3.${AWS::Region}.amazonaws.com'), 'kms:CallerAccount': sub('${AWS::AccountId}') },
              },
            },
          ],
        },
      },
    },
    AnalyticsKeyAlias: { Type: 'AWS::KMS::Alias', Properties: { AliasName: `alias/${prefix}-analytics`, TargetKeyId: { Ref: 'AnalyticsKey' } } },

    AnalyticsBucket: {
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            // Bucket Keys: one KMS request per bucket key instead of one per object.
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: arn('AnalyticsKey') }, BucketKeyEnabled: true },
          ],
        },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: {
          Rules: [
            {
              Id: 'findings',
              Status: 'Enabled',
              Prefix: 'findings/',
              ExpirationInDays: retentionDays,
              ...(infrequentAccessDays < retentionDays ? { Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: infrequentAccessDays }] } : {}),
            },
            { Id: 'delivery-errors', Status: 'Enabled', Prefix: 'errors/', ExpirationInDays: retentionDays },
            { Id: 'athena-results', Status: 'Enabled', Prefix: RESULTS_PREFIX, ExpirationInDays: DEFAULTS.resultsDays },
            { Id: 'incomplete-uploads', Status: 'Enabled', Prefix: '', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
          ],
        },
      },
    },
    AnalyticsBucketPolicy: {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: { Ref: 'AnalyticsBucket' },
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'DenyWithoutTls',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:*',
              Resource: [bucketArn, sub('${AnalyticsBucket.Arn}/*')],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        },
      },
    },

    AnalyticsFirehoseLogGroup: {
      Type: 'AWS::Logs::LogGroup',
      Properties: { LogGroupName: logGroup, RetentionInDays: 30 },
    },
    AnalyticsFirehoseLogStream: {
      Type: 'AWS::Logs::LogStream',
      Properties: { LogGroupName: { Ref: 'AnalyticsFirehoseLogGroup' }, LogStreamName: 'S3Delivery' },
    },
    AnalyticsFirehoseRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'firehose.amazonaws.com' },
              Action: 'sts:AssumeRole',
              Condition: { StringEquals: { 'sts:ExternalId': sub('${AWS::AccountId}') } },
            },
          ],
        },
        Policies: [
          {
            PolicyName: 'deliver-to-s3',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                { Sid: 'BucketChecks', Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], Resource: bucketArn },
                { Sid: 'WriteFindingsAndErrors', Effect: 'Allow', Action: ['s3:PutObject', 's3:AbortMultipartUpload'], Resource: firehoseWrites },
                {
                  Sid: 'EncryptThroughS3',
                  Effect: 'Allow',
                  Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
                  Resource: arn('AnalyticsKey'),
                  Condition: viaS3([bucketArn, ...firehoseWrites]),
                },
                {
                  Sid: 'DeliveryErrorLog',
                  Effect: 'Allow',
                  Action: 'logs:PutLogEvents',
                  Resource: sub(`arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:${logGroup}:log-stream:S3Delivery`),
                },
              ],
            },
          },
        ],
      },
    },
    AnalyticsDeliveryStream: {
      Type: 'AWS::KinesisFirehose::DeliveryStream',
      Properties: {
        DeliveryStreamName: streamName,
        DeliveryStreamType: 'DirectPut',
        // Firehose's own buffer at rest; the objects are encrypted with the customer-managed key.
        DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' },
        ExtendedS3DestinationConfiguration: {
          BucketARN: bucketArn,
          RoleARN: arn('AnalyticsFirehoseRole'),
          Prefix: DATA_PREFIX,
          ErrorOutputPrefix: ERROR_PREFIX,
          CompressionFormat: 'GZIP',
          // 5 minutes or 64 MiB, whichever first: a few objects per day at GuardDuty volumes.
          BufferingHints: { IntervalInSeconds: 300, SizeInMBs: 64 },
          EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: arn('AnalyticsKey') } },
          CloudWatchLoggingOptions: { Enabled: true, LogGroupName: { Ref: 'AnalyticsFirehoseLogGroup' }, LogStreamName: { Ref: 'AnalyticsFirehoseLogStream' } },
        },
      },
    },
    // The deliver function's `firehose` target (routes file: deliveryStreamName: <prefix>-findings, format: enriched).
    AnalyticsDeliverPolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyName: 'analytics-stream',
        Roles: [{ Ref: 'DeliverRole' }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Sid: 'PutFindingsIntoTheAnalyticsStream', Effect: 'Allow', Action: 'firehose:PutRecordBatch', Resource: arn('AnalyticsDeliveryStream') }],
        },
      },
    },

    AnalyticsDatabase: {
      Type: 'AWS::Glue::Database',
      Properties: { CatalogId: { Ref: 'AWS::AccountId' }, DatabaseInput: { Name: database, Description: `${prefix}: GuardDuty findings delivered by the router` } },
    },
    AnalyticsTable: {
      Type: 'AWS::Glue::Table',
      Properties: {
        CatalogId: { Ref: 'AWS::AccountId' },
        DatabaseName: { Ref: 'AnalyticsDatabase' },
        TableInput: {
          Name: SCHEMA.table,
          Description: 'One row per finding update the router delivered (the firehose target, format: enriched)',
          TableType: 'EXTERNAL_TABLE',
          PartitionKeys: SCHEMA.partitionKeys.map(({ name, type, comment }) => ({ Name: name, Type: type, Comment: comment })),
          Parameters: {
            classification: 'json',
            compressionType: 'gzip',
            // Partition projection: Athena computes the partitions from the query's dt range; no crawler, no MSCK REPAIR.
            'projection.enabled': 'true',
            'projection.dt.type': 'date',
            'projection.dt.format': 'yyyy-MM-dd',
            'projection.dt.range': `NOW-${retentionDays}DAYS,NOW`,
            'projection.dt.interval': '1',
            'projection.dt.interval.unit': 'DAYS',
            'storage.location.template': sub('s3://${AnalyticsBucket}/findings/dt=${!dt}/'),
          },
          StorageDescriptor: {
            Columns: SCHEMA.columns.map(({ name, type, comment }) => ({ Name: name, Type: hiveType(type), Comment: comment })),
            Location: sub('s3://${AnalyticsBucket}/findings/'),
            InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
            OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
            SerdeInfo: { SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe', Parameters: { 'case.insensitive': 'TRUE' } },
          },
        },
      },
    },
    AnalyticsWorkGroup: {
      Type: 'AWS::Athena::WorkGroup',
      Properties: {
        Name: `${prefix}-analytics`,
        Description: `${prefix}: GuardDuty findings (results encrypted, ${scanLimitGb} GB scan limit per query)`,
        RecursiveDeleteOption: true,
        WorkGroupConfiguration: {
          EnforceWorkGroupConfiguration: true, // a client cannot turn result encryption off or write elsewhere
          PublishCloudWatchMetricsEnabled: true,
          BytesScannedCutoffPerQuery: scanLimitGb * 1024 ** 3,
          EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
          ResultConfiguration: {
            OutputLocation: sub(`s3://\${AnalyticsBucket}/${RESULTS_PREFIX}`),
            EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: arn('AnalyticsKey') },
          },
        },
      },
    },
    ...Object.fromEntries(
      queries.map(({ name, description, sql }) => [
        logicalId(name),
        {
          Type: 'AWS::Athena::NamedQuery',
          Properties: { Name: name, Description: description.slice(0, 1024), Database: { Ref: 'AnalyticsDatabase' }, WorkGroup: { Ref: 'AnalyticsWorkGroup' }, QueryString: sql },
        },
      ]),
    ),
    // For the SOC's people and tools: run the named queries in this workgroup, read the findings, nothing else.
    AnalyticsReaderPolicy: {
      Type: 'AWS::IAM::ManagedPolicy',
      Properties: {
        ManagedPolicyName: `${prefix}-analytics-reader`,
        Description: `${prefix}: query the findings table in the ${prefix}-analytics Athena workgroup`,
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'RunQueriesInTheWorkGroup',
              Effect: 'Allow',
              Action: [
                'athena:StartQueryExecution', 'athena:StopQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults',
                'athena:GetQueryResultsStream', 'athena:ListQueryExecutions', 'athena:GetWorkGroup', 'athena:ListNamedQueries', 'athena:GetNamedQuery',
                'athena:BatchGetNamedQuery',
              ],
              Resource: sub('arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:workgroup/${AnalyticsWorkGroup}'),
            },
            {
              Sid: 'ReadTheTableDefinition',
              Effect: 'Allow',
              Action: ['glue:GetDatabase', 'glue:GetDatabases', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartitions'],
              Resource: [
                sub('arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:catalog'),
                sub('arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:database/${AnalyticsDatabase}'),
                sub(`arn:\${AWS::Partition}:glue:\${AWS::Region}:\${AWS::AccountId}:table/\${AnalyticsDatabase}/${SCHEMA.table}`),
              ],
            },
            { Sid: 'ListTheBucket', Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], Resource: bucketArn },
            { Sid: 'ReadFindings', Effect: 'Allow', Action: 's3:GetObject', Resource: bucketObjects('findings/') },
            { Sid: 'WriteAndReadResults', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], Resource: bucketObjects(RESULTS_PREFIX) },
            {
              Sid: 'DecryptThroughS3',
              Effect: 'Allow',
              Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
              Resource: arn('AnalyticsKey'),
              Condition: viaS3([bucketArn, bucketObjects('findings/'), bucketObjects(RESULTS_PREFIX)]),
            },
          ],
        },
      },
    },
  };
  return {
    Resources: resources,
    Outputs: {
      AnalyticsDeliveryStreamName: { Description: 'deliveryStreamName of the routes file firehose target (format: enriched)', Value: { Ref: 'AnalyticsDeliveryStream' } },
      AnalyticsBucketName: { Value: { Ref: 'AnalyticsBucket' } },
      AnalyticsDatabaseName: { Value: { Ref: 'AnalyticsDatabase' } },
      AnalyticsWorkGroupName: { Value: { Ref: 'AnalyticsWorkGroup' } },
      AnalyticsReaderPolicyArn: { Value: { Ref: 'AnalyticsReaderPolicy' } },
    },
  };
};

/** The osls variable resolver: nothing unless the stage says `analytics=true`. */
const resources = async ({ resolveVariable }) => {
  const switched = String(await resolveVariable("param:analytics, 'false'"));
  if (switched !== 'true') {
    if (switched !== 'false') throw new AnalyticsParamError(`--param analytics=${switched}: expected true or false`);
    return {};
  }
  const [prefix, retention, infrequent, scanLimit] = await Promise.all([
    resolveVariable('self:custom.prefix'),
    resolveVariable(`param:analyticsRetentionDays, ${DEFAULTS.retentionDays}`),
    resolveVariable(`param:analyticsInfrequentAccessDays, ${DEFAULTS.infrequentAccessDays}`),
    resolveVariable(`param:analyticsScanLimitGb, ${DEFAULTS.scanLimitGb}`),
  ]);
  return build({
    prefix,
    retentionDays: wholeNumber('analyticsRetentionDays', retention, 1),
    // S3 moves objects to STANDARD_IA after 30 days at the earliest.
    infrequentAccessDays: wholeNumber('analyticsInfrequentAccessDays', infrequent, 30),
    scanLimitGb: wholeNumber('analyticsScanLimitGb', scanLimit, 1),
  });
};

module.exports = { resources, build, AnalyticsParamError, hiveType, namedQueries, DATA_PREFIX, ERROR_PREFIX, RESULTS_PREFIX, DEFAULTS };
