#!/usr/bin/env bash
# Install dynalite (a second implementation of the DynamoDB API, from npm) into tools/dynalite for
# the integration tests, exactly as tools/dynalite/package-lock.json pins it. Never global.
# Idempotent: a stamp newer than package.json and the lock file means it is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=tools/dynalite
STAMP=$DIR/node_modules/.installed
if [[ -f $STAMP && $STAMP -nt $DIR/package.json && $STAMP -nt $DIR/package-lock.json ]]; then
  exit 0
fi
need_node() {
  echo "error: the DynamoDB integration tests also run on dynalite, which needs Node.js >= 20 and npm;" >&2
  echo "       $1" >&2
  echo "       install them (Debian/Ubuntu: apt-get install nodejs npm, if that gives Node.js >= 20)," >&2
  echo "       then run: bash scripts/ensure-dynalite.sh" >&2
  exit 1
}
command -v node >/dev/null 2>&1 || need_node "no 'node' on PATH"
command -v npm >/dev/null 2>&1 || need_node "no 'npm' on PATH"
major=$(node -p 'process.versions.node.split(".")[0]')
[[ $major -ge 20 ]] || need_node "this node is $(node --version)"
echo "Installing dynalite for the integration tests (npm ci in $DIR) …"
# --ignore-scripts: dynalite runs in memory; the one install script (classic-level's native
# LevelDB binding, for on-disk stores) is not needed.
npm ci --prefix "$DIR" --ignore-scripts --no-audit --no-fund --loglevel=error
node "$DIR/node_modules/dynalite/cli.js" --help >/dev/null
touch "$STAMP"
