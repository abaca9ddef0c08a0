#!/usr/bin/env bash
# Packages every variant of the stacks offline and runs cfn-lint on each; fails on any cfn-lint error
# (warnings are printed, not fatal). Used by .ci/run; locally: deploy/package-variants.sh [OUTDIR]
#   default     the dev stage with the example routes, no alarm topic, detector looked up
#   production  a prod-like stage: alarm topic, fixed detector id, accounts from Organizations
#   analytics   the dev stage with the analytics switch on (--param analytics=true: deploy/analytics.cjs)
#   forwarder   the regional forwarder (deploy/forwarder.yml) in a non-home region, with an alarm topic
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Outside .serverless/: osls copies .serverless/ into the --package directory.
OUT="${1:-$(mktemp -d)}"
mkdir -p "$OUT" && OUT="$(cd "$OUT" && pwd)"
echo "package-variants: templates in $OUT"
export PATH="$ROOT/node_modules/.bin:$PATH"
export SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off
command -v cfn-lint >/dev/null 2>&1 || { echo "package-variants: cfn-lint not found (pip install cfn-lint)" >&2; exit 1; }

ALARMS_HOME='arn:aws:sns:us-east-1:123456789012:findings-router-alarms'
ALARMS_FORWARDER='arn:aws:sns:eu-west-1:123456789012:findings-router-alarms'

echo "== default"
(cd "$ROOT" && osls package --stage dev --region us-east-1 --param routes=routes.example.yml --package "$OUT/default")
echo "== production"
(cd "$ROOT" && osls package --stage prod --region us-east-1 --param routes=routes.example.yml --param accounts=accounts.example.yml \
  --param "alarmTopicArn=$ALARMS_HOME" --param detectorId=12abc34d567e8fa901bc2d34eexample --param expectedAccounts=organizations \
  --package "$OUT/production")
echo "== analytics"
(cd "$ROOT" && osls package --stage dev --region us-east-1 --param routes=routes.example.yml --param analytics=true --package "$OUT/analytics")
echo "== forwarder"
(cd "$ROOT/deploy" && osls package --config forwarder.yml --stage prod --region eu-west-1 --param homeRegion=us-east-1 \
  --param "alarmTopicArn=$ALARMS_FORWARDER" --package "$OUT/forwarder")

failed=0
for variant in default production analytics forwarder; do
  template="$OUT/$variant/cloudformation-template-update-stack.json"
  # cfn-lint's exit code is a bit set: 2 = errors, 4 = warnings, 8 = informational.
  status=0
  cfn-lint -- "$template" || status=$?
  if (( status & 2 )); then
    echo "cfn-lint: errors in the $variant template ($template)" >&2
    failed=1
  else
    echo "cfn-lint: $variant: no errors"
  fi
done
exit "$failed"
