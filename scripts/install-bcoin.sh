#!/usr/bin/env bash
# Installs bcoin 1.0.2 (a Bitcoin full node in JavaScript) into .tools/bcoin for the regtest tests.
# It is NOT a project dependency: its leveldown@4 does not compile on Node 20, so `npm ci` of the
# project must never see it. Here it is installed with --ignore-scripts, only the native modules
# that build (bcrypto, mrmr) are rebuilt, and bdb's backend loader is patched so it never requires
# leveldown (the tests run bcoin with --memory=true, which needs only bdb's in-memory backend).
# Idempotent: does nothing when .tools/bcoin is already installed and patched.
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX=.tools/bcoin
BIN="$PREFIX/node_modules/.bin/bcoin"
MARK="$PREFIX/.growr-installed-1.0.2"

if [ -f "$MARK" ] && [ -x "$BIN" ]; then
  echo "bcoin: already installed in $PREFIX"
  exit 0
fi

mkdir -p "$PREFIX"
# a package.json of its own, so npm installs into $PREFIX and never walks up to the project's
[ -f "$PREFIX/package.json" ] || echo '{ "name": "growr-tools-bcoin", "private": true }' > "$PREFIX/package.json"

npm install --prefix "$PREFIX" --no-audit --no-fund --save-exact --ignore-scripts bcoin@1.0.2
npm rebuild --prefix "$PREFIX" mrmr bcrypto

# bdb picks its backend in lib/level.js: `require('leveldown')` at load time. Replace that file with
# one that loads leveldown lazily, only if a disk-backed database is ever opened.
for level in $(find "$PREFIX/node_modules" -path '*/bdb/lib/level.js'); do
  if ! grep -q 'growr: lazy leveldown' "$level"; then
    cat > "$level" <<'JS'
/*!
 * level.js - database backend for bdb, patched by growr's scripts/install-bcoin.sh
 * growr: lazy leveldown. leveldown@4 does not build on Node 20; the tests run bcoin with
 * --memory=true, so leveldown is required only if a disk database is opened.
 */

'use strict';

let backend = null;

function load() {
  if (!backend)
    backend = require('leveldown');
  return backend;
}

function LevelDOWN(location) {
  const Backend = load();
  return new Backend(location);
}

LevelDOWN.destroy = function destroy(location, callback) {
  return load().destroy(location, callback);
};

LevelDOWN.repair = function repair(location, callback) {
  return load().repair(location, callback);
};

module.exports = LevelDOWN;
JS
  fi
done

# check it starts its CLI (loads every module bcoin needs in memory mode)
node -e "require('./$PREFIX/node_modules/bcoin')" \
  || { echo "bcoin: installed but does not load" >&2; exit 1; }
touch "$MARK"
echo "bcoin: installed in $PREFIX"
