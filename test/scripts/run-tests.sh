#!/usr/bin/env bash
# What `npm test` runs: system setup (with a private Docker engine for this run),
# build, the PostgreSQL test images (built from Debian's packages or taken from
# the cache), unit suites, then the real-cluster integration suites
# (test/dist/harness and test/dist/integration, the container suites among them),
# under the machine's Node.js (20); then the unit suites and the packaging test again
# under Node 22 and 24 (binaries fetched by test/scripts/fetch-node.sh). Every
# part runs even when an earlier one failed; the exit code is non-zero if any
# failed.
set -euo pipefail
cd "$(dirname "$0")/../.."

started=$SECONDS
# The container suites' Docker engine: DOCKER_HOST's if one answers there, else
# a private dockerd for this run, stopped by its PID (and its directory removed)
# when the run ends, however it ends.
engine_dir=/tmp/handyrep-docker-run-$$
engine_env=$(mktemp)
# Every part's failed files and tests, repeated at the very end of the output.
export HANDYREP_TEST_FAILURES
HANDYREP_TEST_FAILURES=$(mktemp)
trap 'bash test/harness/docker-engine.sh stop "$engine_dir" || true; rm -f "$engine_env" "$HANDYREP_TEST_FAILURES"' EXIT
HARNESS_DOCKER_DIR=$engine_dir HARNESS_DOCKER_OWNER=$$ bash test/scripts/setup-system.sh --engine-env "$engine_env"
# shellcheck disable=SC1090
source "$engine_env"
# Container suites fail instead of skipping when the engine is missing.
export DOCKER_HOST TESTCONTAINERS_RYUK_DISABLED HANDYREP_REQUIRE_DOCKER=1
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

# The PostgreSQL images of the container suites and of the SDK's testing kit, from
# Debian's packages (no registry); cached by content key in ~/.cache/handyrep/images.
images_started=$SECONDS
part "images" bash plugin-sdk/images/build-image.sh bookworm-pg15 trixie-pg17
echo "run-tests: images ready in $((SECONDS - images_started)) s"
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

if [[ -s $HANDYREP_TEST_FAILURES ]]; then
  echo "run-tests: what failed:"
  cat "$HANDYREP_TEST_FAILURES"
fi
echo "run-tests: $(IFS=,; echo "${results[*]}" | sed 's/,/, /g'), $((SECONDS - started)) s"
exit $failed
