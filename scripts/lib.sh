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
ensure_peers() {
  local dir="${KEYHOLE_PEERS_DIR:-target/peers}"
  local installed="$dir/node_modules/@modelcontextprotocol/server-everything/package.json"
  if [ -f "$installed" ] && grep -q "\"version\": \"$SERVER_EVERYTHING_VERSION\"" "$installed"; then
    echo "server-everything $SERVER_EVERYTHING_VERSION: present"
  else
    step "Installing @modelcontextprotocol/server-everything@$SERVER_EVERYTHING_VERSION into $dir"
    mkdir -p "$dir"
    (cd "$dir" && npm install --no-audit --no-fund --no-save \
      "@modelcontextprotocol/server-everything@$SERVER_EVERYTHING_VERSION" >/dev/null)
  fi
}
