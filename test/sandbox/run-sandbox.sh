#!/usr/bin/env bash
# `npm run sandbox`: system packages (test/scripts/setup-system.sh), dependencies on
# a fresh clone, the build, then the sandbox program (test/sandbox/sandbox.ts).
# Arguments are passed on: npm run sandbox -- --port 9000
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ $(id -u) -ne 0 ]]; then
  echo "sandbox: must run as root: it installs missing system packages and starts PostgreSQL (as postgres)," >&2
  echo "sandbox: one sshd per host and pgbouncer on 127.0.10.x. Try: sudo npm run sandbox" >&2
  exit 2
fi
if [[ ! -x /usr/lib/postgresql/15/bin/postgres ]]; then
  echo "sandbox: PostgreSQL 15 server binaries not found in /usr/lib/postgresql/15/bin (apt-get install postgresql-15)" >&2
  exit 2
fi
bash test/scripts/setup-system.sh
if [[ ! -d node_modules ]]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
exec node test/dist/sandbox/sandbox.js "$@"
