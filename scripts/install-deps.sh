#!/usr/bin/env bash
# Installs what the build and the tests need: Debian's Chromium (browser tests), the headers
# code-server's native modules build against, the npm packages, and code-server itself
# (cached in .tools/). Safe to run again; it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# Fonts for CJK and emoji: screenshots of token labels in those scripts show the characters, not boxes.
for pkg in libkrb5-dev pkg-config libsecret-1-dev libx11-dev libxkbfile-dev build-essential python3 python3-numpy fonts-noto-cjk fonts-noto-color-emoji; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_apt[@]}"
  else
    echo "Please install with apt: ${need_apt[*]}" >&2
    exit 1
  fi
fi

# onnxruntime-node carries its CPU binaries in the package; its install script would try to
# download more and fail offline.
export ONNXRUNTIME_NODE_INSTALL=skip
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

if [ -f scripts/setup-code-server.sh ]; then bash scripts/setup-code-server.sh; fi
