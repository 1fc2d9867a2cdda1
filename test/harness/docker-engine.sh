#!/usr/bin/env bash
# A private Docker engine for the container suites: its own data root, exec
# root and socket below one directory, no bridge and no iptables rules
# (containers use --network host on loopback addresses only).
#
#   eval "$(bash test/harness/docker-engine.sh start [DIR])"   # exports DOCKER_HOST
#   bash test/harness/docker-engine.sh stop [DIR]              # by its PID; removes DIR if it is a run's
#
# DIR defaults to $HARNESS_DOCKER_DIR, else /tmp/handyrep-docker (a developer's
# engine, kept between runs). `npm test` starts one per run in
# /tmp/handyrep-docker-run-<pid> (test/scripts/setup-system.sh --engine) and
# stops and removes it at the end; `start` also stops the engine of a run whose
# process is gone. Needs root and Debian's docker.io (setup-system.sh installs it).
set -euo pipefail

log() { printf 'docker-engine: %s\n' "$*" >&2; }

cmd=${1:-start}
DIR=${2:-${HARNESS_DOCKER_DIR:-/tmp/handyrep-docker}}
SOCK=$DIR/docker.sock

answers() { DOCKER_HOST=unix://$1 docker version >/dev/null 2>&1; }

stop_engine() { # dir remove(0|1)
  local dir=$1 remove=$2 pid="" cpid="" started=$SECONDS
  [[ -r $dir/dockerd.pid ]] && pid=$(tr -dc '0-9' <"$dir/dockerd.pid")
  [[ -r $dir/exec/containerd/containerd.pid ]] && cpid=$(tr -dc '0-9' <"$dir/exec/containerd/containerd.pid")
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && [[ $(readlink "/proc/$pid/exe" 2>/dev/null || true) == */dockerd ]]; then
    # dockerd stops what still runs in it, then its containerd, then itself.
    kill -TERM "$pid"
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "dockerd $pid did not stop within 30 s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "stopped dockerd $pid of $dir in $((SECONDS - started)) s"
  fi
  if [[ -n $cpid ]] && kill -0 "$cpid" 2>/dev/null && [[ $(readlink "/proc/$cpid/exe" 2>/dev/null || true) == */containerd ]]; then
    kill -KILL "$cpid" 2>/dev/null || true
  fi
  if [[ $remove -eq 1 ]]; then
    # Nothing may stay mounted below it; rm never crosses into a mount that did.
    awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$dir"
  fi
}

case $cmd in
  start)
    command -v dockerd >/dev/null || { log "dockerd is not installed (apt-get install docker.io; test/scripts/setup-system.sh does)"; exit 1; }
    # Engines of runs whose process is gone.
    for stale in /tmp/handyrep-docker-run-*; do
      [[ -d $stale && $stale != "$DIR" ]] || continue
      owner=$(tr -dc '0-9' <"$stale/owner" 2>/dev/null || true)
      if [[ -z $owner ]] || ! kill -0 "$owner" 2>/dev/null; then
        log "removing the engine of a finished run: $stale"
        stop_engine "$stale" 1
      fi
    done
    if [[ -S $SOCK ]] && answers "$SOCK"; then
      echo "export DOCKER_HOST=unix://$SOCK TESTCONTAINERS_RYUK_DISABLED=true"
      exit 0
    fi
    mkdir -p "$DIR/data" "$DIR/exec"
    [[ -n ${HARNESS_DOCKER_OWNER:-} ]] && echo "$HARNESS_DOCKER_OWNER" >"$DIR/owner"
    started=$SECONDS
    # Its own session: a Ctrl-C to the run does not reach it; the run stops it by PID.
    setsid nohup dockerd --data-root "$DIR/data" --exec-root "$DIR/exec" -H "unix://$SOCK" \
      --pidfile "$DIR/dockerd.pid" --iptables=false --ip-masq=false --bridge=none \
      >"$DIR/dockerd.log" 2>&1 </dev/null &
    for _ in $(seq 300); do
      if answers "$SOCK"; then
        log "dockerd $(cat "$DIR/dockerd.pid" 2>/dev/null) answers on $SOCK after $((SECONDS - started)) s"
        echo "export DOCKER_HOST=unix://$SOCK TESTCONTAINERS_RYUK_DISABLED=true"
        exit 0
      fi
      sleep 0.1
    done
    log "dockerd did not answer within 30 s; its log $DIR/dockerd.log ends with:"
    tail -n 20 "$DIR/dockerd.log" >&2 || true
    exit 1 ;;
  stop)
    remove=0
    [[ -e $DIR/owner ]] && remove=1
    stop_engine "$DIR" "$remove" ;;
  *) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
