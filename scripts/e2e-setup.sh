#!/usr/bin/env bash
# Idempotent install of what the e2e suite needs: Debian chromium + ripgrep + native build deps,
# and code-server 4.100.3 in .vscode-test/ (its own package.json, outside the extension's
# dependency tree so `npm ci` for the extension stays light). Safe to run repeatedly (CI calls it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR="$ROOT/.vscode-test"
CS_VERSION=4.100.3
CS_BIN="$DIR/node_modules/.bin/code-server"

need_apt=()
for p in chromium ripgrep libkrb5-dev pkg-config libsecret-1-dev libxkbfile-dev curl; do
  dpkg -s "$p" >/dev/null 2>&1 || need_apt+=("$p")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "e2e-setup: apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ -x "$CS_BIN" ] && [ "$(node -p "require('$DIR/node_modules/code-server/package.json').version" 2>/dev/null)" = "$CS_VERSION" ]; then
  echo "e2e-setup: code-server $CS_VERSION present"
  exit 0
fi

mkdir -p "$DIR"
[ -f "$DIR/package.json" ] || echo '{ "name": "prunescope-e2e-host", "private": true }' > "$DIR/package.json"
# @vscode/ripgrep's postinstall downloads rg from GitHub (no internet here): pre-seed its cache
# with Debian's rg under the file name it looks for.
C="${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11"
if [ ! -f "$C/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" ]; then
  mkdir -p "$C"; T=$(mktemp -d); cp /usr/bin/rg "$T/rg"
  tar czf "$C/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$T" rg; rm -rf "$T"
fi
echo "e2e-setup: installing code-server $CS_VERSION into $DIR (about a minute)"
# unsafe-perm: code-server's postinstall refuses root otherwise; yes=true: node-pty runs `npx node-gyp`.
(cd "$DIR" && npm_config_unsafe_perm=true npm_config_yes=true npm install --no-save --no-audit --no-fund \
  "code-server@$CS_VERSION" >"$DIR/install.log" 2>&1) || { tail -40 "$DIR/install.log"; exit 1; }
[ -x "$CS_BIN" ] || { echo "e2e-setup: code-server binary missing after install"; exit 1; }
echo "e2e-setup: done"
