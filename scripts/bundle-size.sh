#!/usr/bin/env bash
# Builds the release web app (exactly what `cargo build --release --bin keyhole` embeds) and prints
# the size of each file the browser downloads, and their total: as built, with `gzip -9` (for
# comparison), and as served to a page opened from another machine: brotli (what browsers that
# offer it get) and gzip (the fallback for clients without brotli). (A page on loopback gets the
# files as they are: there decoding costs more than moving the bytes; see web/accept_encoding.rs.) Fails when the served total (brotli)
# is over the budget: KEYHOLE_BUNDLE_BUDGET_KB (default 350; 1 KB = 1000 bytes). The budget is for
# what every page load downloads; the chunks of lazily loaded parts (`split_*.wasm`, `chunk_*.wasm`,
# fetched the first time such a part is shown) are listed after it, each on its own.
#
# It runs `cargo check --release -p keyhole-server`: the build script builds and embeds the web app
# while the server itself is only checked, not compiled and linked with LTO. Warm: seconds when
# nothing changed, under a minute after a frontend change (the wasm's LTO link); cold: about 3-4
# minutes. CI runs it after the tests (.ci/run).
cd "$(dirname "$0")/.."
source scripts/lib.sh
started=$SECONDS
budget_kb=${KEYHOLE_BUNDLE_BUDGET_KB:-350}

ensure_wasm_target
if [ -n "${KEYHOLE_SKIP_FRONTEND:-}" ] && [ "$KEYHOLE_SKIP_FRONTEND" != 0 ]; then
  echo "KEYHOLE_SKIP_FRONTEND is set: there is no web app to measure" >&2
  exit 2
fi

step "Building the release web app (cargo check --release -p keyhole-server)"
messages=$(mktemp)
trap 'rm -f "$messages"' EXIT
# Diagnostics still reach the terminal; the JSON messages tell where the build script wrote.
cargo check --release -p keyhole-server --message-format=json-render-diagnostics >"$messages"
out_dir=$(grep '"reason":"build-script-executed"' "$messages" \
  | grep '#keyhole-server@' \
  | sed -n 's/.*"out_dir":"\([^"]*\)".*/\1/p' | tail -n 1)
web="$out_dir/web"
if [ -z "$out_dir" ] || [ ! -f "$web/keyhole_bg.wasm" ]; then
  echo "could not find the web app the build script produced (out_dir: '${out_dir}')" >&2
  exit 2
fi

step "Sizes in bytes: as built, gzip -9, and as served (build-time brotli, and the zopfli gzip fallback; index.html is filled in and gzipped per launch, so its served rows repeat gzip -9 as an estimate)"
raw_total=0
gz_total=0
gz_served_total=0
served_total=0
row() { printf '%-18s %10s %10s %12s %12s\n' "$@"; }
row file raw gzip-9 served-gzip served-br
measure() {
  local name=$1
  raw=$(wc -c <"$web/$name")
  gz=$(gzip -9n <"$web/$name" | wc -c)
  if [ -f "$web/$name.gz" ]; then gz_served=$(wc -c <"$web/$name.gz"); else gz_served=$gz; fi
  if [ -f "$web/$name.br" ]; then served=$(wc -c <"$web/$name.br"); else served=$gz; fi
}
initial="keyhole_bg.wasm keyhole.js boot.js style.css index.html"
# keyhole.js imports the chunks' loader at start, when the app has lazy parts.
[ -f "$web/__wasm_split.js" ] && initial="$initial __wasm_split.js"
for name in $initial; do
  measure "$name"
  raw_total=$((raw_total + raw))
  gz_total=$((gz_total + gz))
  gz_served_total=$((gz_served_total + gz_served))
  served_total=$((served_total + served))
  row "$name" "$raw" "$gz" "$gz_served" "$served"
done
row total "$raw_total" "$gz_total" "$gz_served_total" "$served_total"
lazy=$(cd "$web" && ls split_*.wasm chunk_*.wasm 2>/dev/null || true)
if [ -n "$lazy" ]; then
  echo "loaded on first use (not in the total):"
  for name in $lazy; do
    measure "$name"
    row "$name" "$raw" "$gz" "$gz_served" "$served"
  done
fi
budget=$((budget_kb * 1000))
echo "budget: ${budget_kb} KB served with brotli (${budget} bytes); measured in $((SECONDS - started)) s"
if [ "$served_total" -gt "$budget" ]; then
  echo "OVER BUDGET by $((served_total - budget)) bytes" >&2
  exit 1
fi
echo "within budget"
