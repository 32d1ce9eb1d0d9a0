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
VSIX="${E2E_VSIX:-$ROOT/prunescope.vsix}" # E2E_VSIX: another build, e.g. to see that a check catches a bug

W=$(mktemp -d "${TMPDIR:-/tmp}/prunescope-e2e.XXXXXX")
mkdir -p "$W"/{ud/User,ud2/User,ext,ws/nested,ws/wine,ws2,tmp,xdg/config,xdg/data}
# Keep code-server's side effects (config, sockets, data) inside $W, never in $HOME.
export TMPDIR="$W/tmp" XDG_CONFIG_HOME="$W/xdg/config" XDG_DATA_HOME="$W/xdg/data"
# Workspace: a LayersModel under its usual name, the same model under another name (detected by
# content), and a JSON file that is not a model.
cp test/e2e/fixtures/model.json test/e2e/fixtures/weights.bin test/e2e/fixtures/analysis.prune.ipynb test/e2e/fixtures/crash.prune.ipynb \
  test/e2e/fixtures/interrupt.prune.ipynb "$W/ws/"
cp test/e2e/fixtures/model.json "$W/ws/nested/classifier.json"
cp test/e2e/fixtures/weights.bin "$W/ws/nested/"
# A small trained Wine model (13-6-3; prunescope train --data wine --layers 6,3 --epochs 30 --standardize).
cp test/e2e/fixtures/wine/model.json "$W/ws/wine/wine.json"
cp test/e2e/fixtures/wine/group1-shard1of1.bin "$W/ws/wine/"
# The shapes fixture (class folders of PNG images and a small conv model): there from the start,
# since files copied in while the window is open reach neither Quick Open's file list nor the
# explorer's PruneScope entries in time (checks/50-data-image-folder.js, 70-conv-export-student.js).
cp -r test/e2e/fixtures/shapes/images "$W/ws/shapes"
cp -r test/e2e/fixtures/shapes/model "$W/ws/conv"
mkdir -p "$W/ws/conv-export"
cp test/e2e/fixtures/shapes/model/shapes-conv.json "$W/ws/conv-export/conv-teacher.json"
cp test/e2e/fixtures/shapes/model/group1-shard1of1.bin "$W/ws/conv-export/"
echo '{ "name": "not-a-model", "layers": [16, 8] }' > "$W/ws/config.json"
cat > "$W/ud/User/settings.json" <<'J'
{ "workbench.startupEditor": "none", "telemetry.telemetryLevel": "off", "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false, "update.mode": "none", "workbench.enableExperiments": false,
  "security.workspace.trust.enabled": false, "workbench.tips.enabled": false, "explorer.autoReveal": false,
  "prunescope.cancelGraceMs": 3000 }
J
# Restricted Mode (issue #7): a second server whose workspace ws2 is NOT trusted (trust enabled, no
# startup prompt, the folder never trusted), with the same model and notebook.
cp test/e2e/fixtures/model.json test/e2e/fixtures/weights.bin test/e2e/fixtures/analysis.prune.ipynb "$W/ws2/"
cat > "$W/ud2/User/settings.json" <<'J'
{ "workbench.startupEditor": "none", "telemetry.telemetryLevel": "off", "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false, "update.mode": "none", "workbench.enableExperiments": false,
  "security.workspace.trust.enabled": true, "security.workspace.trust.startupPrompt": "never",
  "security.workspace.trust.banner": "always", "security.workspace.trust.untrustedFiles": "open",
  "security.workspace.trust.emptyWindow": false, "workbench.tips.enabled": false, "explorer.autoReveal": false }
J
COMMON=(--config "$W/config.yaml" --user-data-dir "$W/ud" --extensions-dir "$W/ext")
"$CS" "${COMMON[@]}" --install-extension "$VSIX" >"$ART/install.log" 2>&1 || { cat "$ART/install.log"; echo "0 passed, 1 failed"; exit 1; }

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
PORT=${PORT:-$(free_port)}
setsid "$CS" "${COMMON[@]}" --bind-addr "127.0.0.1:$PORT" --auth none --disable-telemetry --disable-update-check \
  --disable-workspace-trust "$W/ws" >"$W/code-server.log" 2>&1 &
CSPID=$!
# The untrusted server: its own user data (the trust settings above) and workspace storage; the
# extensions folder is shared (read only). Idle until the driver's last checks connect to it.
PORT2=$(free_port); [ "$PORT2" != "$PORT" ] || PORT2=$(free_port)
setsid "$CS" --config "$W/config.yaml" --user-data-dir "$W/ud2" --extensions-dir "$W/ext" --bind-addr "127.0.0.1:$PORT2" \
  --auth none --disable-telemetry --disable-update-check "$W/ws2" >"$W/code-server-restricted.log" 2>&1 &
CSPID2=$!
cleanup() {
  # The servers were setsid'ed: kill each whole process group (file watchers, extension hosts, our worker).
  for p in "$CSPID" "$CSPID2"; do kill -TERM -- -"$p" 2>/dev/null || true; done; sleep 1
  for p in "$CSPID" "$CSPID2"; do kill -KILL -- -"$p" 2>/dev/null || true; done
  cp "$W/code-server.log" "$W/code-server-restricted.log" "$ART/" 2>/dev/null || true
  find "$W/ud/logs" -name '*PruneScope*.log' -exec cp {} "$ART/" \; 2>/dev/null || true
  find "$W/ud2/logs" -name '*PruneScope*.log' -exec cp {} "$ART/restricted-PruneScope.log" \; 2>/dev/null || true
  [ "${E2E_KEEP:-}" = "1" ] || rm -rf "$W"
}
trap cleanup EXIT
for port in "$PORT" "$PORT2"; do
  for i in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
done

set +e
CS_URL="http://127.0.0.1:$PORT/?folder=$W/ws" CS_URL2="http://127.0.0.1:$PORT2/?folder=$W/ws2" SHOTS="$ART" WS="$W/ws" WS2="$W/ws2" \
  EXT_DIR="$W/ext" node test/e2e/driver.js
RC=$?
set -e
exit $RC
