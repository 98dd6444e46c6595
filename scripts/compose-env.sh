#!/usr/bin/env bash
# Prepares a Debian bookworm machine (root) to run the compose demo and `npm run test:compose`
# with no image registry: Docker from Debian, the Compose v2 plugin from Debian sid, a running
# dockerd, and the base images the Dockerfiles name (debian:bookworm-slim, debian:sid-slim,
# node:20-bookworm-slim) built locally with debootstrap and imported under those tags.
#
# Idempotent: every step checks first. Downloads and root file systems are cached under
# $TOLLGATE_CACHE (default /var/cache/tollgate/compose-env), so a second run on the same machine
# takes seconds even if Docker's image store was wiped.
#
# On a machine that can reach Docker Hub none of this is needed: install Docker with the compose
# plugin and `docker compose up -d` pulls the official images.
set -euo pipefail

CACHE=${TOLLGATE_CACHE:-/var/cache/tollgate/compose-env}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/tollgate-dockerd.log}
PLUGIN_DIR=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
started=$(date +%s)

log() { printf '[compose-env %3ss] %s\n' "$(($(date +%s) - started))" "$*" >&2; }
die() { printf '[compose-env] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (installs packages, starts dockerd)"
mkdir -p "$CACHE"
export DEBIAN_FRONTEND=noninteractive

# --- 1. packages -------------------------------------------------------------------------------
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  log "apt-get install ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- 2. the Compose v2 plugin (Debian sid's docker-compose package is the single Go binary) -------
if ! docker compose version >/dev/null 2>&1; then
  if [ ! -x "$CACHE/docker-compose" ]; then
    log "fetching docker-compose from Debian sid"
    tmp=$(mktemp -d)
    mkdir -p "$tmp/lists/partial" "$tmp/archives/partial"
    printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s sid main\n' "$MIRROR" >"$tmp/sid.list"
    aptopts=(-o "Dir::Etc::sourcelist=$tmp/sid.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$tmp/lists"
             -o "Dir::Cache::Archives=$tmp/archives" -o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
    apt-get "${aptopts[@]}" update -qq
    (cd "$tmp" && apt-get "${aptopts[@]}" download docker-compose -qq)
    dpkg -x "$tmp"/docker-compose_*.deb "$tmp/x"
    install -m 0755 "$tmp/x/usr/libexec/docker/cli-plugins/docker-compose" "$CACHE/docker-compose"
    rm -rf "$tmp"
  fi
  mkdir -p "$PLUGIN_DIR"
  install -m 0755 "$CACHE/docker-compose" "$PLUGIN_DIR/docker-compose"
fi
log "$(docker compose version)"

# --- 3. dockerd ---------------------------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd (log: $DOCKERD_LOG)"
  # No bridge and no iptables: every container of the demo uses the host's network.
  nohup dockerd --bridge=none --iptables=false --ip6tables=false >>"$DOCKERD_LOG" 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || die "dockerd did not start; see $DOCKERD_LOG"
fi

# --- 4. base images -----------------------------------------------------------------------------
# Bump when what is imported changes: images carrying another stamp are imported again.
STAMP=2
LIVE_SID=${TOLLGATE_LIVE_CACHE:-/var/cache/tollgate/live}/sid   # scripts/live-env.sh's plain sid debootstrap

rootfs() { # suite → $CACHE/<suite>-minbase.tar (debootstrap --variant=minbase, cached)
  local suite=$1 tar="$CACHE/$1-minbase.tar"
  if [ ! -s "$tar" ]; then
    local dir
    dir=$(mktemp -d "$CACHE/$suite-root.XXXXXX")
    if [ "$suite" = sid ] && [ -e "$LIVE_SID/.tollgate-debootstrap-done" ]; then
      log "sid root file system: reusing the live tier's $LIVE_SID"
      cp -a "$LIVE_SID/." "$dir/"
      rm -f "$dir/.tollgate-debootstrap-done"
    else
      log "debootstrap $suite (minbase)"
      debootstrap --variant=minbase "$suite" "$dir" "$MIRROR" >"$CACHE/debootstrap-$suite.log" 2>&1 ||
        die "debootstrap $suite failed; see $CACHE/debootstrap-$suite.log"
    fi
    # What the official -slim images do: no apt caches, no docs, apt sources in place.
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/usr/share/doc/* "$dir"/usr/share/man/*
    printf 'deb %s %s main\n' "$MIRROR" "$suite" >"$dir/etc/apt/sources.list"
    if [ "$suite" = bookworm ]; then
      printf 'deb %s bookworm-updates main\ndeb %s-security bookworm-security main\n' "$MIRROR" "$MIRROR" >>"$dir/etc/apt/sources.list"
    fi
    tar -C "$dir" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
    rm -rf "$dir"
  fi
  echo "$tar"
}
current() { [ "$(docker image inspect -f '{{index .Config.Labels "org.tollgate.compose-env"}}' "$1" 2>/dev/null)" = "$STAMP" ]; }
env_path='PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

# The local stand-ins take two things from this machine that the official images do not need:
#  - apt: this machine's Debian mirror serves snapshots whose Release files may be past their
#    Valid-Until by the machine's clock (the host's apt is configured the same way);
#  - TLS: the npm registry is reached through a TLS-intercepting egress proxy whose CA is in the
#    machine's bundle (node image only: NODE_EXTRA_CA_CERTS).
import_image() { # suite tag [node]
  local suite=$1 tag=$2 node=${3:-} dir changes
  dir=$(mktemp -d "$CACHE/import.XXXXXX")
  tar -C "$dir" -xf "$(rootfs "$suite")"
  printf '// compose-env.sh: the local mirror serves snapshots (see the host'"'"'s apt configuration)\nAcquire::Check-Valid-Until "false";\nAcquire::Check-Date "false";\n' \
    >"$dir/etc/apt/apt.conf.d/99tollgate-local-mirror"
  changes=(--change "ENV $env_path" --change "LABEL org.tollgate.compose-env=$STAMP")
  if [ -n "$node" ]; then
    # The official image: the bookworm root file system with Node under /usr/local (node, npm, npx,
    # corepack, the headers node-gyp compiles against) and a `node` user (uid 1000).
    local node_bin node_prefix
    node_bin=$(readlink -f "$(command -v node)")
    node_prefix=$(dirname "$(dirname "$node_bin")")
    case "$("$node_bin" --version)" in v20.*) ;; *) die "this machine's node is not Node 20 ($node_bin)";; esac
    [ -d "$node_prefix/lib/node_modules/npm" ] || die "npm not found under $node_prefix/lib/node_modules"
    install -D -m 0755 "$node_bin" "$dir/usr/local/bin/node"
    mkdir -p "$dir/usr/local/lib/node_modules" "$dir/usr/local/include"
    cp -a "$node_prefix/lib/node_modules/npm" "$dir/usr/local/lib/node_modules/"
    [ -d "$node_prefix/include/node" ] && cp -a "$node_prefix/include/node" "$dir/usr/local/include/"
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
    ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
    if [ -d "$node_prefix/lib/node_modules/corepack" ]; then
      cp -a "$node_prefix/lib/node_modules/corepack" "$dir/usr/local/lib/node_modules/"
      ln -sf ../lib/node_modules/corepack/dist/corepack.js "$dir/usr/local/bin/corepack"
    fi
    chroot "$dir" groupadd --gid 1000 node
    chroot "$dir" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
    if [ -s /etc/ssl/certs/ca-certificates.crt ]; then
      install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$dir/usr/local/share/tollgate-host-ca.crt"
      changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/tollgate-host-ca.crt')
    fi
    changes+=(--change "ENV NODE_VERSION=$("$node_bin" --version | tr -d v)" --change 'CMD ["node"]')
    log "docker import $tag (bookworm + this machine's $node_bin $("$node_bin" --version))"
  else
    changes+=(--change 'CMD ["bash"]')
    log "docker import $tag"
  fi
  tar -C "$dir" -c . | docker import "${changes[@]}" - "$tag" >/dev/null
  rm -rf "$dir"
}

# bookworm and sid are independent: build the root file systems side by side on a cold machine.
pids=()
if ! current debian:bookworm-slim || ! current node:20-bookworm-slim; then rootfs bookworm >/dev/null & pids+=($!); fi
if ! current debian:sid-slim; then rootfs sid >/dev/null & pids+=($!); fi
for p in "${pids[@]}"; do wait "$p" || die "building a root file system failed"; done

current debian:bookworm-slim || import_image bookworm debian:bookworm-slim
current debian:sid-slim || import_image sid debian:sid-slim
current node:20-bookworm-slim || import_image bookworm node:20-bookworm-slim node

log "ready: $(docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E '^(debian|node):' | sort | tr '\n' ' ')"
