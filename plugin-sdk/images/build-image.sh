#!/usr/bin/env bash
# Builds the PostgreSQL test images of HandyRep's test harness and of the
# plugin SDK's testing kit (@handyrep/plugin-sdk/testing/postgres) without any
# image registry: a Debian root filesystem made by
# `debootstrap --variant=minbase` from Debian's package archive, PostgreSQL,
# openssh-server and pgbouncer installed into it with apt, then `docker import`.
#
#   bash build-image.sh FLAVOUR...       # prints one image tag per flavour
#   bash build-image.sh --tag FLAVOUR    # the tag only, nothing built
#
# Flavours: bookworm-pg15 (Debian 12, PostgreSQL 15), trixie-pg17 (Debian 13,
# PostgreSQL 17). Server binaries are in /usr/lib/postgresql/<major>/bin.
#
# Cached by a content key (this file, the flavour, the package list, the
# mirror and the postgres uid/gid): the tag is handyrep/postgres:<flavour>-<key>.
# An engine that has the tag answers at once; otherwise the root filesystem's
# tar in the cache directory is imported (seconds); otherwise it is built
# (needs root, debootstrap and the Debian mirror; about a minute) and kept
# there. A lock per flavour keeps concurrent callers from building twice.
#
# Environment:
#   DOCKER_HOST                    the engine to import into (docker's default when unset)
#   HANDYREP_IMAGE_CACHE           cache directory (default ${XDG_CACHE_HOME:-~/.cache}/handyrep/images)
#   HANDYREP_DEBIAN_MIRROR         default http://deb.debian.org/debian
#   HANDYREP_IMAGE_PG_UID/_GID     uid/gid of the image's postgres user (default: this
#                                  machine's postgres user, else 101/104); the harness
#                                  bind-mounts directories owned by it into the containers
set -euo pipefail

log() { printf 'build-image: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

SELF=$(readlink -f "${BASH_SOURCE[0]}")
MIRROR=${HANDYREP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${HANDYREP_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/handyrep/images}
PG_UID=${HANDYREP_IMAGE_PG_UID:-$(id -u postgres 2>/dev/null || echo 101)}
PG_GID=${HANDYREP_IMAGE_PG_GID:-$(id -g postgres 2>/dev/null || echo 104)}
# Installed beside PostgreSQL: what the harness and HandyRep's plugins run on a "host".
EXTRA_PACKAGES=(openssh-server openssh-client pgbouncer rsync procps perl)

suite_of() {
  case $1 in
    bookworm-pg15) echo bookworm ;;
    trixie-pg17) echo trixie ;;
    *) die "unknown flavour '$1' (known: bookworm-pg15, trixie-pg17)" ;;
  esac
}
major_of() { echo "${1##*-pg}"; }

tag_of() {
  local flavour=$1 key
  key=$( { cat "$SELF"; printf '%s\n' "$flavour" "$(suite_of "$flavour")" "${EXTRA_PACKAGES[*]}" "$MIRROR" "$PG_UID:$PG_GID"; } | sha256sum | cut -c1-16)
  echo "handyrep/postgres:$flavour-$key"
}

# The root filesystem's tar for a flavour, built into the cache directory.
build_rootfs() { # flavour tarfile
  local flavour=$1 tarfile=$2 suite major root t0 t1 t2
  suite=$(suite_of "$flavour")
  major=$(major_of "$flavour")
  [[ $(id -u) -eq 0 ]] || die "building $flavour needs root (debootstrap, chroot); or put the image in the engine yourself"
  command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
  root=$(mktemp -d "$CACHE/build-$flavour.XXXXXX")
  # Only this directory is removed, never across a mount point.
  trap 'umount -l "'"$root"'/proc" 2>/dev/null || true; rm -rf --one-file-system "'"$root"'"' EXIT
  t0=$SECONDS
  debootstrap --variant=minbase "$suite" "$root" "$MIRROR" >"$root.debootstrap.log" 2>&1 ||
    die "debootstrap $suite failed; see $root.debootstrap.log"
  rm -f "$root.debootstrap.log"
  t1=$SECONDS
  # No service starts during package installation, no default cluster is created,
  # and the postgres user gets the uid/gid the harness's bind mounts need.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  mkdir -p "$root/etc/postgresql-common"
  echo 'create_main_cluster = false' >"$root/etc/postgresql-common/createcluster.conf"
  mount -t proc proc "$root/proc"
  chroot "$root" /bin/sh -euc "
    groupadd --system --gid $PG_GID postgres
    useradd --system --uid $PG_UID --gid $PG_GID --home-dir /var/lib/postgresql --shell /bin/bash postgres
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends postgresql-$major ${EXTRA_PACKAGES[*]}
    apt-get clean
  " >"$root.apt.log" 2>&1 || die "installing packages into $flavour failed; see $root.apt.log"
  rm -f "$root.apt.log"
  umount "$root/proc"
  [[ -x $root/usr/lib/postgresql/$major/bin/postgres ]] || die "$flavour has no /usr/lib/postgresql/$major/bin/postgres"
  # A container has no CAP_AUDIT_CONTROL, so pam_loginuid cannot set the login uid:
  # optional, or every SSH session would be refused.
  sed -i -E 's/^session\s+required\s+pam_loginuid\.so/session optional pam_loginuid.so/' "$root/etc/pam.d/sshd"
  # Host keys made at install time would be the same in every container; the harness makes its own.
  rm -f "$root"/etc/ssh/ssh_host_*
  # sshd's privilege separation directory (systemd would make it at boot).
  mkdir -p -m 755 "$root/run/sshd"
  rm -f "$root/usr/sbin/policy-rc.d"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
  t2=$SECONDS
  tar --numeric-owner -C "$root" -cf "$tarfile.tmp" .
  mv "$tarfile.tmp" "$tarfile"
  rm -rf --one-file-system "$root"
  trap - EXIT
  log "$flavour: root filesystem built in $((SECONDS - t0)) s (debootstrap $((t1 - t0)) s, packages $((t2 - t1)) s, tar $((SECONDS - t2)) s), $(du -m "$tarfile" | cut -f1) MB"
}

ensure() { # flavour
  local flavour=$1 tag tarfile t0 lock
  tag=$(tag_of "$flavour")
  if docker image inspect "$tag" >/dev/null 2>&1; then
    log "$flavour: $tag is in the engine"
    echo "$tag"
    return
  fi
  mkdir -p "$CACHE"
  tarfile=$CACHE/${tag#handyrep/postgres:}.tar
  exec {lock}>"$CACHE/$flavour.lock"
  flock "$lock"
  if ! docker image inspect "$tag" >/dev/null 2>&1; then
    [[ -s $tarfile ]] || build_rootfs "$flavour" "$tarfile"
    t0=$SECONDS
    docker import -c 'CMD ["/usr/bin/sleep", "infinity"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      "$tarfile" "$tag" >/dev/null || die "docker import of $tarfile failed"
    log "$flavour: imported $tag in $((SECONDS - t0)) s"
    # Older roots and images of this flavour (another content key) are no longer used
    # (an image a container still uses stays).
    find "$CACHE" -maxdepth 1 -name "$flavour-*.tar" ! -name "${tarfile##*/}" -delete
    docker image ls handyrep/postgres --format '{{.Repository}}:{{.Tag}}' | grep -F ":$flavour-" | grep -vxF "$tag" |
      xargs -r docker rmi >/dev/null 2>&1 || true
  fi
  exec {lock}>&-
  echo "$tag"
}

if [[ ${1:-} == --tag ]]; then
  shift
  for f in "$@"; do suite_of "$f" >/dev/null; tag_of "$f"; done
  exit 0
fi
(($# > 0)) || die "usage: $0 [--tag] bookworm-pg15|trixie-pg17..."
for f in "$@"; do suite_of "$f" >/dev/null; done
command -v docker >/dev/null || die "the docker client is not installed"
if (($# == 1)); then
  ensure "$1"
  exit 0
fi
# Several flavours: built at the same time (downloads and dpkg overlap), tags printed in order.
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
pids=()
for i in $(seq $#); do
  ensure "${!i}" >"$out/$i" &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
((failed == 0)) || die "an image could not be made"
for i in $(seq $#); do cat "$out/$i"; done
