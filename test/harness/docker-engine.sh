#!/usr/bin/env bash
# Starts or stops a private Docker engine for the harness's docker backend
# (no bridge, no iptables: containers use --network host on loopback only).
#   bash test/harness/docker-engine.sh start   # prints the DOCKER_HOST to export
#   bash test/harness/docker-engine.sh stop
# Needs root and the docker.io package (apt-get install docker.io); not part of
# setup-system.sh: without an engine the docker self-test is skipped.
set -euo pipefail
DIR=${HARNESS_DOCKER_DIR:-/tmp/handyrep-docker}
SOCK=$DIR/docker.sock
case ${1:-start} in
  start)
    command -v dockerd >/dev/null || { echo "dockerd not installed (apt-get install docker.io)" >&2; exit 1; }
    if [[ -S $SOCK ]] && [[ -r $DIR/dockerd.pid ]] && kill -0 "$(cat "$DIR/dockerd.pid")" 2>/dev/null; then
      echo "export DOCKER_HOST=unix://$SOCK"; exit 0
    fi
    mkdir -p "$DIR/data" "$DIR/exec"
    nohup dockerd --data-root "$DIR/data" --exec-root "$DIR/exec" -H "unix://$SOCK" \
      --pidfile "$DIR/dockerd.pid" --iptables=false --ip-masq=false --bridge=none \
      >"$DIR/dockerd.log" 2>&1 </dev/null &
    for _ in $(seq 150); do
      if DOCKER_HOST=unix://$SOCK docker version >/dev/null 2>&1; then
        echo "export DOCKER_HOST=unix://$SOCK TESTCONTAINERS_RYUK_DISABLED=true"; exit 0
      fi
      sleep 0.2
    done
    echo "dockerd did not come up; see $DIR/dockerd.log" >&2; exit 1 ;;
  stop)
    if [[ -r $DIR/dockerd.pid ]]; then
      pid=$(cat "$DIR/dockerd.pid")
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
