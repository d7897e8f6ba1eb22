#!/usr/bin/env bash
# Runs one Node test file (tests/node/*.test.mjs) with node's test runner, from ctest
# (tests/node/CMakeLists.txt). The packages come from tests/node/package-lock.json, installed by
# `npm ci --prefix tests/node` (scripts/test does it); without them the test fails, saying so.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v node >/dev/null 2>&1; then
  echo "tests/node: node is not installed (scripts/deps installs nodejs)" >&2
  exit 1
fi
if [ ! -f node_modules/.package-lock.json ]; then
  echo "tests/node: node_modules is missing: run 'npm ci --prefix tests/node' (scripts/test does)" >&2
  exit 1
fi
if [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "tests/node: node_modules is older than package-lock.json: run 'npm ci --prefix tests/node'" >&2
  exit 1
fi
exec node --test --test-reporter=spec "$1"
