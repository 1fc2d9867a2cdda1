#!/usr/bin/env bash
# What `npm test` runs: system setup, build, unit suites, then the real-cluster
# integration suites (test/dist/harness and test/dist/integration). Both suites
# run even when the first fails; the exit code is non-zero if either failed.
set -euo pipefail
cd "$(dirname "$0")/../.."

started=$SECONDS
bash test/scripts/setup-system.sh
if [[ ! -d node_modules ]]; then
  npm ci --no-audit --no-fund
fi
npm run build

unit=0
node test/scripts/run-node-tests.mjs unit || unit=$?
integration=0
node test/scripts/run-node-tests.mjs integration || integration=$?

word() { if [[ $1 -eq 0 ]]; then echo passed; else echo "FAILED (exit $1)"; fi; }
echo "run-tests: unit $(word "$unit"), integration $(word "$integration"), $((SECONDS - started)) s"
if [[ $unit -ne 0 || $integration -ne 0 ]]; then exit 1; fi
