#!/usr/bin/env python3
"""Builds the GetFindings fixtures in test/events/api/ (see README.md there).

1. get-findings.wire.json: a GetFindings response body as the API sends it, made from
   published examples and samples by walking botocore's GuardDuty model (scripts/models/; wire names only,
   members the model does not know dropped, `timestamp` members as epoch seconds,
   `additionalInfo` in the API's {value, type} shape).
2. That body is served on a loopback port, and the real clients are pointed at it:
   the aws CLI (default timestamps, and cli_timestamp_format = iso8601 as CLI v2 prints them),
   boto3 (json.dumps with default=str, as scripts commonly save it), and the SDK for
   JavaScript v3 (JSON.stringify of the GetFindings output, via build-sdk.ts).

Run from the repository root:  python3 test/events/api/build.py
Independent of the TypeScript conversion under test: names come from the model here.
"""
import datetime
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
MODEL = os.path.join(ROOT, 'scripts', 'models', 'guardduty-2017-11-28.service-2.json')

SOURCES = [
    'published/s3-pentest-parrotlinux.sample.detail.json',
    'published/iam-recon-maliciousipcaller-custom.sample.detail.json',
    'published/ssh-bruteforce.sample.eventbridge.json',
    'samples/attacksequence-ecs-compromisedcluster.json',
    'samples/backdoor-runtime-c-cactivity-b.json',
    'samples/credentialaccess-rds-anomalousbehavior-failedlogin.json',
    'samples/credentialaccess-kubernetes-anomalousbehavior-secretsaccessed.json',
    'samples/backdoor-lambda-c-cactivity-b.json',
    'samples/execution-ec2-maliciousfile.json',
    'samples/credentialaccess-iamuser-anomalousbehavior.json',
]

model = json.load(open(MODEL))
shapes = model['shapes']
dropped = []


def epoch_seconds(text):
    parsed = datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))
    return round(parsed.timestamp(), 3)


def to_wire(value, shape_name, path):
    shape = shapes[shape_name]
    kind = shape['type']
    if kind == 'structure':
        if shape_name == 'ServiceAdditionalInfo' and not (set(value) <= {'value', 'type'}):
            return {'value': json.dumps(value, separators=(',', ':')), 'type': 'default'}
        by_wire = {m.get('locationName', name): m for name, m in shape['members'].items()}
        out = {}
        for key, item in value.items():
            if item is None:
                continue
            member = by_wire.get(key)
            if member is None:
                dropped.append(f'{path}.{key}')
                continue
            out[key] = to_wire(item, member['shape'], f'{path}.{key}')
        return out
    if kind == 'list':
        return [to_wire(item, shape['member']['shape'], f'{path}[{i}]') for i, item in enumerate(value)]
    if kind == 'map':
        return {key: to_wire(item, shape['value']['shape'], f'{path}.{key}') for key, item in value.items()}
    if kind == 'timestamp':
        if isinstance(value, str):
            return epoch_seconds(value)
        # Event samples give some of these in epoch milliseconds; the API sends seconds.
        return value / 1000 if value > 1e11 else value
    return value


findings = []
for source in SOURCES:
    document = json.load(open(os.path.join(HERE, '..', source)))
    finding = document.get('detail', document)
    findings.append(to_wire(finding, 'Finding', f'{source}:$'))
body = json.dumps({'findings': findings}, indent=2) + '\n'
open(os.path.join(HERE, 'get-findings.wire.json'), 'w').write(body)
if dropped:
    print('members the model does not know, left out of the wire body:', *dropped, sep='\n  ', file=sys.stderr)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get('content-length', 0)))
        payload = body.encode()
        self.send_response(200)
        self.send_header('content-type', 'application/json')
        self.send_header('x-amzn-requestid', '00000000-0000-4000-8000-000000000000')
        self.send_header('content-length', str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def date_time_string(self, timestamp=None):
        return 'Thu, 01 Jan 2026 00:00:00 GMT'

    def version_string(self):
        return 'loopback'

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
endpoint = f'http://127.0.0.1:{server.server_address[1]}'
ids = [f['id'] for f in findings]
detector = '12abc34d567e8fa901bc2d34e56789f0'
env = dict(os.environ, AWS_ACCESS_KEY_ID='AKIDLOOPBACK', AWS_SECRET_ACCESS_KEY='loopback-secret', AWS_DEFAULT_REGION='us-east-1')

with tempfile.TemporaryDirectory() as config_dir:
    for name, config in [('cli-v1', ''), ('cli-iso8601', '[default]\ncli_timestamp_format = iso8601\n')]:
        config_file = os.path.join(config_dir, name)
        open(config_file, 'w').write(config)
        output = subprocess.run(
            ['aws', 'guardduty', 'get-findings', '--detector-id', detector, '--finding-ids', *ids, '--endpoint-url', endpoint, '--output', 'json'],
            env=dict(env, AWS_CONFIG_FILE=config_file, AWS_SHARED_CREDENTIALS_FILE=os.devnull),
            capture_output=True, text=True,
        )
        if output.returncode != 0:
            sys.exit(f'aws CLI ({name}) failed: {output.stderr}')
        open(os.path.join(HERE, f'get-findings.{name}.json'), 'w').write(output.stdout)

client = boto3.client('guardduty', endpoint_url=endpoint, region_name='us-east-1',
                      aws_access_key_id='AKIDLOOPBACK', aws_secret_access_key='loopback-secret')
response = client.get_findings(DetectorId=detector, FindingIds=ids)
response['ResponseMetadata'].pop('RetryAttempts', None)
open(os.path.join(HERE, 'get-findings.boto3.json'), 'w').write(json.dumps(response, indent=2, default=str) + '\n')

sdk = subprocess.run(
    ['npx', 'node', '--experimental-strip-types', '--no-warnings=ExperimentalWarning', os.path.join(HERE, 'build-sdk.ts'), endpoint, detector, *ids],
    cwd=ROOT, env=env, check=True, capture_output=True, text=True,
).stdout
open(os.path.join(HERE, 'get-findings.sdk-js.json'), 'w').write(sdk)
server.shutdown()
print('wrote', *sorted(f for f in os.listdir(HERE) if f.startswith('get-findings.')), sep='\n  ')
