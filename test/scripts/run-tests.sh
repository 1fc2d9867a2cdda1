#!/usr/bin/env bash
# What `npm test` runs: system setup, build, unit suites, then the real-cluster
# integration suites (test/dist/harness and test/dist/integration), under the
# machine's Node.js (20); then the unit suites and the packaging test again
# under Node 22 and 24 (binaries fetched by test/scripts/fetch-node.sh). Every
# part runs even when an earlier one failed; the exit code is non-zero if any
# failed.
set -euo pipefail
cd "$(dirname "$0")/../.."

started=$SECONDS
bash test/scripts/setup-system.sh
if [[ ! -d node_modules ]]; then
  npm ci --no-audit --no-fund
fi
npm run build

results=()
failed=0
part() { # label command...
  local label=$1 code=0
  shift
  "$@" || code=$?
  if [[ $code -eq 0 ]]; then results+=("$label passed"); else results+=("$label FAILED (exit $code)"); failed=1; fi
}

part "unit (Node $(node --version))" node test/scripts/run-node-tests.mjs unit
part "integration (Node $(node --version))" node test/scripts/run-node-tests.mjs integration
for major in 22 24; do
  if other=$(bash test/scripts/fetch-node.sh "$major"); then
    part "unit (Node $("$other" --version))" "$other" test/scripts/run-node-tests.mjs unit
    part "packaging (Node $("$other" --version))" "$other" test/scripts/run-node-tests.mjs integration integration/packaging.test
  else
    results+=("Node $major FAILED (no binary)")
    failed=1
  fi
done

echo "run-tests: $(IFS=,; echo "${results[*]}" | sed 's/,/, /g'), $((SECONDS - started)) s"
exit $failed
