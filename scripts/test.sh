#!/usr/bin/env bash
# Runs Keyhole's whole test suite: formatting, the wasm build of the shared crate, every unit,
# integration and end-to-end test (real Chromium against the real binary), the interop tests
# against third-party MCP servers (the TypeScript and Python SDKs', installed from npm and PyPI
# into target/interop/), and the official MCP conformance suite's client scenarios. Installs what
# it needs.
cd "$(dirname "$0")/.."
source scripts/lib.sh
started=$SECONDS

step "Checking prerequisites"
ensure_wasm_target
ensure_chromium
ensure_peers
ensure_interop_peers
# The interop tests fail, rather than skip, when a peer is missing.
export KEYHOLE_INTEROP=1

step "The web app and the hub read /api/mcp replies through the shared types only"
if grep -rnE '\["(ok|kind|hint|httpStatus|authChallenge)"\]' frontend/src server/src/web/hub; then
    echo "read the envelope with keyhole_shared::api::mcp (Envelope, Failure), not by its keys" >&2
    exit 1
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "The shared crate builds for wasm32 (it runs in the browser)"
cargo check -p keyhole-shared --target wasm32-unknown-unknown

step "The shared crate as the web app builds it (without private-key-jwt)"
cargo test -p keyhole-shared --no-default-features --lib

step "The web app's logic, natively (component tests that need no page)"
cargo test -p keyhole-frontend --lib

step "cargo clippy (warnings are errors)"
cargo clippy --all-targets -- -D warnings
cargo clippy -p keyhole-frontend --target wasm32-unknown-unknown -- -D warnings

step "cargo test (unit, integration and end-to-end tests)"
cargo test

step "The official MCP conformance suite, client side (keyhole cli conformance)"
bash scripts/conformance.sh

step "All tests passed in $((SECONDS - started)) s"
