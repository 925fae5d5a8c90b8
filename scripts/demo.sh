#!/usr/bin/env bash
# Builds Keyhole (web app included) and starts it with the built-in demo on http://127.0.0.1:6274.
# Extra arguments go to `keyhole`, e.g. `scripts/demo.sh --port 7000`.
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_wasm_target
step "Building keyhole (release; the first build takes a few minutes)"
cargo build --release --bin keyhole
step "Starting Keyhole"
exec target/release/keyhole "$@"
