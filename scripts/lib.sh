# Shared by scripts/demo.sh and scripts/test.sh: install what this machine lacks, skip what it has.
# Everything here is idempotent and prints one line per step so long runs show progress.

set -euo pipefail

step() { printf '\n==> %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_wasm_target() {
  if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    echo "wasm32-unknown-unknown target: present"
  else
    step "Installing the wasm32-unknown-unknown Rust target"
    rustup target add wasm32-unknown-unknown
  fi
}

APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" -eq 0 ]; then
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_chromium() {
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    echo "Chromium and ChromeDriver: present ($(/usr/bin/chromium --version 2>/dev/null | head -1))"
  else
    step "Installing Chromium and ChromeDriver (Debian packages)"
    apt_install chromium chromium-driver
  fi
}

# Third-party MCP servers the end-to-end tests drive the web app against, from npm, into
# target/peers/ (the tests look there; KEYHOLE_PEERS_DIR overrides).
SERVER_EVERYTHING_VERSION=2026.8.31
# The MCP Apps example servers (the app host's tests): vanilla JS and React builds of one app.
APP_SERVER_VERSION=2.0.3
ensure_peers() {
  local dir="${KEYHOLE_PEERS_DIR:-target/peers}"
  local everything="$dir/node_modules/@modelcontextprotocol/server-everything/package.json"
  local app="$dir/node_modules/@modelcontextprotocol/server-basic-vanillajs/package.json"
  local react="$dir/node_modules/@modelcontextprotocol/server-basic-react/package.json"
  if [ -f "$everything" ] && grep -q "\"version\": \"$SERVER_EVERYTHING_VERSION\"" "$everything" \
    && [ -f "$app" ] && grep -q "\"version\": \"$APP_SERVER_VERSION\"" "$app" \
    && [ -f "$react" ] && grep -q "\"version\": \"$APP_SERVER_VERSION\"" "$react"; then
    echo "server-everything $SERVER_EVERYTHING_VERSION, server-basic-vanillajs and -react $APP_SERVER_VERSION: present"
  else
    step "Installing @modelcontextprotocol/server-everything@$SERVER_EVERYTHING_VERSION, server-basic-vanillajs and -react@$APP_SERVER_VERSION into $dir"
    mkdir -p "$dir"
    (cd "$dir" && npm install --no-audit --no-fund --no-save \
      "@modelcontextprotocol/server-everything@$SERVER_EVERYTHING_VERSION" \
      "@modelcontextprotocol/server-basic-vanillajs@$APP_SERVER_VERSION" \
      "@modelcontextprotocol/server-basic-react@$APP_SERVER_VERSION" >/dev/null)
  fi
}

# The third-party MCP servers of the interop tests (e2e/tests/interop_*.rs), from the registries,
# into target/interop/ (or $KEYHOLE_INTEROP_DIR): the TypeScript SDK (its example server) from npm,
# and the Python SDK in a virtual environment from PyPI. Exact versions; skipped when present.
INTEROP_TS_SDK_VERSION=1.32.2
INTEROP_PY_SDK_VERSION=2.3.0

ensure_interop_peers() {
  local dir="${KEYHOLE_INTEROP_DIR:-$PWD/target/interop}"
  local sdk="$dir/npm/node_modules/@modelcontextprotocol/sdk/package.json"
  mkdir -p "$dir/npm"
  if [ -f "$sdk" ] && grep -q "\"version\": \"$INTEROP_TS_SDK_VERSION\"" "$sdk"; then
    echo "@modelcontextprotocol/sdk@$INTEROP_TS_SDK_VERSION: present"
  else
    step "Installing @modelcontextprotocol/sdk@$INTEROP_TS_SDK_VERSION (npm) into $dir/npm"
    # A package.json of its own, so npm installs here and not into a parent directory's project.
    [ -f "$dir/npm/package.json" ] || echo '{"private": true}' >"$dir/npm/package.json"
    (cd "$dir/npm" && npm install --no-audit --no-fund --no-save "@modelcontextprotocol/sdk@$INTEROP_TS_SDK_VERSION" >/dev/null)
  fi
  local python="$dir/venv/bin/python"
  if [ -x "$python" ] && [ "$("$python" -c 'import importlib.metadata as m; print(m.version("mcp"))' 2>/dev/null)" = "$INTEROP_PY_SDK_VERSION" ]; then
    echo "mcp==$INTEROP_PY_SDK_VERSION (PyPI): present"
  else
    step "Installing mcp==$INTEROP_PY_SDK_VERSION (PyPI) into $dir/venv"
    # Debian's python3 makes virtual environments only with its python3-venv package.
    if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
      apt_install python3-venv
    fi
    python3 -m venv "$dir/venv"
    "$dir/venv/bin/pip" install --quiet --disable-pip-version-check "mcp==$INTEROP_PY_SDK_VERSION"
  fi
  export KEYHOLE_INTEROP_DIR="$dir"
}
