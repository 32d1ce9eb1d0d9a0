#!/usr/bin/env bash
# `npm run test:e2e`: package the extension, start a fresh code-server (127.0.0.1 only) with the
# .vsix installed, drive it with playwright-core + Debian chromium (driver.js). The last line of
# output is "N passed, N failed"; the exit code is non-zero on any failure.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
ART="$ROOT/test/e2e/artifacts"
rm -rf "$ART"; mkdir -p "$ART"

bash scripts/e2e-setup.sh
CS="$ROOT/.vscode-test/node_modules/.bin/code-server"
if [ "${E2E_SKIP_PACKAGE:-}" != "1" ] || [ ! -f prunescope.vsix ]; then
  npm run --silent package >"$ART/package.log" 2>&1 || { tail -30 "$ART/package.log"; echo "0 passed, 1 failed"; exit 1; }
fi
VSIX="$ROOT/prunescope.vsix"

W=$(mktemp -d "${TMPDIR:-/tmp}/prunescope-e2e.XXXXXX")
mkdir -p "$W"/{ud/User,ext,ws/nested,ws/wine,tmp,xdg/config,xdg/data}
# Keep code-server's side effects (config, sockets, data) inside $W, never in $HOME.
export TMPDIR="$W/tmp" XDG_CONFIG_HOME="$W/xdg/config" XDG_DATA_HOME="$W/xdg/data"
# Workspace: a LayersModel under its usual name, the same model under another name (detected by
# content), and a JSON file that is not a model.
cp test/e2e/fixtures/model.json test/e2e/fixtures/weights.bin test/e2e/fixtures/analysis.prune.ipynb test/e2e/fixtures/crash.prune.ipynb "$W/ws/"
cp test/e2e/fixtures/model.json "$W/ws/nested/classifier.json"
cp test/e2e/fixtures/weights.bin "$W/ws/nested/"
# A small trained Wine model (13-6-3; prunescope train --data wine --layers 6,3 --epochs 30 --standardize).
cp test/e2e/fixtures/wine/model.json "$W/ws/wine/wine.json"
cp test/e2e/fixtures/wine/group1-shard1of1.bin "$W/ws/wine/"
echo '{ "name": "not-a-model", "layers": [16, 8] }' > "$W/ws/config.json"
cat > "$W/ud/User/settings.json" <<'J'
{ "workbench.startupEditor": "none", "telemetry.telemetryLevel": "off", "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false, "update.mode": "none", "workbench.enableExperiments": false,
  "security.workspace.trust.enabled": false, "workbench.tips.enabled": false, "explorer.autoReveal": false,
  "prunescope.cancelGraceMs": 3000 }
J
COMMON=(--config "$W/config.yaml" --user-data-dir "$W/ud" --extensions-dir "$W/ext")
"$CS" "${COMMON[@]}" --install-extension "$VSIX" >"$ART/install.log" 2>&1 || { cat "$ART/install.log"; echo "0 passed, 1 failed"; exit 1; }

PORT=${PORT:-$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")}
setsid "$CS" "${COMMON[@]}" --bind-addr "127.0.0.1:$PORT" --auth none --disable-telemetry --disable-update-check \
  --disable-workspace-trust "$W/ws" >"$W/code-server.log" 2>&1 &
CSPID=$!
cleanup() {
  # The server was setsid'ed: kill its whole process group (file watchers, extension hosts, our worker).
  kill -TERM -- -"$CSPID" 2>/dev/null || true; sleep 1; kill -KILL -- -"$CSPID" 2>/dev/null || true
  cp "$W/code-server.log" "$ART/" 2>/dev/null || true
  find "$W/ud/logs" -name '*PruneScope*.log' -exec cp {} "$ART/" \; 2>/dev/null || true
  [ "${E2E_KEEP:-}" = "1" ] || rm -rf "$W"
}
trap cleanup EXIT
for i in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

set +e
CS_URL="http://127.0.0.1:$PORT/?folder=$W/ws" SHOTS="$ART" WS="$W/ws" node test/e2e/driver.js
RC=$?
set -e
exit $RC
