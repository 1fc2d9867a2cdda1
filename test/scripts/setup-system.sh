#!/usr/bin/env bash
# Installs (when missing) the system packages the real-cluster test harness
# needs, and makes sure no system-wide sshd / pgbouncer / etcd service holds
# the ports the harness binds on its own loopback addresses.
#
#   bash test/scripts/setup-system.sh [--engine-env FILE]
#
# With --engine-env (as `npm test` runs it) it also makes sure a Docker engine
# answers for the container suites: the one at DOCKER_HOST if it answers, else
# a private dockerd (test/harness/docker-engine.sh: no bridge, no iptables,
# containers on --network host) in $HARNESS_DOCKER_DIR, which the caller stops
# by its PID at the end. The exports (DOCKER_HOST, ...) are written to FILE.
#
# Idempotent and quick when everything is present: one dpkg-query call, no apt.
# Installing needs root; a run that has nothing to install does not.
set -euo pipefail

ENGINE_ENV=""
if [[ ${1:-} == --engine-env ]]; then
  ENGINE_ENV=${2:?--engine-env needs a file}
fi

# docker.io and debootstrap: the container suites' engine and their images (plugin-sdk/images/build-image.sh).
# haproxy: the load-balancer scenario (docs/haproxy.md) starts its own on a loopback address.
PACKAGES=(openssh-server openssh-client pgbouncer rsync iptables etcd-server etcd-client procps iproute2 util-linux chromium slapd ldap-utils docker.io debootstrap haproxy)
PG_BIN=/usr/lib/postgresql/15/bin

log() { printf 'setup-system: %s\n' "$*"; }

missing=()
while read -r pkg status; do
  [[ "$status" == "installed" ]] || missing+=("$pkg")
done < <(
  for p in "${PACKAGES[@]}"; do
    s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    printf '%s %s\n' "$p" "${s:-not-installed}"
  done
)

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    log "missing packages: ${missing[*]}" >&2
    log "installing them needs root: run 'sudo bash test/scripts/setup-system.sh'" >&2
    exit 1
  fi
  log "installing: ${missing[*]}"
  # Keep the packages' postinst scripts from starting their services.
  created_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  trap 'if [[ $created_policy -eq 1 ]]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
  apt-get update -qq
  # slapd would otherwise ask for an admin password and build a directory; the ldap_auth tests run their own.
  echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  for svc in ssh pgbouncer etcd slapd docker containerd haproxy; do
    if [[ -x /etc/init.d/$svc ]] && command -v update-rc.d >/dev/null; then
      update-rc.d "$svc" disable >/dev/null 2>&1 || true
    fi
  done
  log "installed"
fi

if [[ ! -x $PG_BIN/postgres ]]; then
  log "PostgreSQL 15 server binaries not found in $PG_BIN (expected on these machines)" >&2
  exit 1
fi
if ! id postgres >/dev/null 2>&1; then
  log "the OS user 'postgres' does not exist" >&2
  exit 1
fi

if [[ $(id -u) -eq 0 ]]; then
  mkdir -p /run/sshd
  chmod 755 /run/sshd
  # Stop a system service a package install may have started, by its PID file.
  stop_by_pidfile() { # name pidfile executable
    local name=$1 pidfile=$2 exe=$3 pid
    [[ -r $pidfile ]] || return 0
    pid=$(head -n1 "$pidfile" | tr -dc '0-9')
    [[ -n $pid && -d /proc/$pid ]] || return 0
    [[ $(readlink "/proc/$pid/exe" 2>/dev/null || true) == "$exe" ]] || return 0
    log "stopping system $name (pid $pid from $pidfile)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo gone)
      [[ $state == gone || $state == Z ]] && break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  }
  stop_by_pidfile sshd /run/sshd.pid /usr/sbin/sshd
  stop_by_pidfile pgbouncer /run/postgresql/pgbouncer.pid /usr/sbin/pgbouncer
  stop_by_pidfile etcd /run/etcd.pid /usr/bin/etcd
  stop_by_pidfile haproxy /run/haproxy.pid /usr/sbin/haproxy
fi

if [[ -n $ENGINE_ENV ]]; then
  if [[ -n ${DOCKER_HOST:-} ]] && docker version >/dev/null 2>&1; then
    log "using the Docker engine at $DOCKER_HOST"
    echo "export DOCKER_HOST=$DOCKER_HOST TESTCONTAINERS_RYUK_DISABLED=true" >"$ENGINE_ENV"
  else
    bash "$(dirname "$0")/../harness/docker-engine.sh" start >"$ENGINE_ENV"
  fi
fi

# A wildcard listener on a port the harness uses would make its binds fail.
if command -v ss >/dev/null; then
  busy=$(ss -ltnH 2>/dev/null | awk '{print $4}' | grep -E '^(0\.0\.0\.0|\*|\[::\]):(22|5432|6432|2379|2380)$' || true)
  if [[ -n $busy ]]; then
    log "warning: wildcard listeners on harness ports: $(echo "$busy" | tr '\n' ' ')" >&2
  fi
fi
exit 0
