#!/usr/bin/env bash
# The live test tier's environment: a real Asterisk (Debian sid's `asterisk` package, 22.10.x) run
# from a chroot with the project's configuration (docker/asterisk/etc), and the sipp carrier
# (docker/sipp/carrier.sh) — everything on 127.0.0.1 (the host's network, or a private network
# namespace: see `netns` below). Asterisk runs as the package's asterisk user, as in the container.
#
#   scripts/live-env.sh setup            install what is missing, build the cached root file systems
#   scripts/live-env.sh start            setup, then start Asterisk (fresh state) and the carrier
#   scripts/live-env.sh stop             stop both
#   scripts/live-env.sh asterisk-stop    stop Asterisk gracefully   (state kept: AstDB, logs)
#   scripts/live-env.sh asterisk-kill    kill -9 Asterisk           (state kept)
#   scripts/live-env.sh asterisk-start   start Asterisk again on the same state
#   scripts/live-env.sh rx 'CLI command' an Asterisk CLI command (e.g. rx 'core show channels')
#   scripts/live-env.sh netns CMD ARGS…  run CMD in a private network namespace (its own 127.0.0.1)
#   scripts/live-env.sh status | paths
#
# Run instructions (root, Debian bookworm; needs deb.debian.org):
#   scripts/live-env.sh setup && npm run build && npm run test:live       (or simply .ci/live)
#   scripts/live-env.sh start   # then try it by hand: docker/sipp/call.sh 011449098790123 1001 1234
#   scripts/live-env.sh stop
#
# Idempotent, cached on this machine under $TOLLGATE_LIVE_CACHE (default /var/cache/tollgate/live):
#   sid/            a plain `debootstrap --variant=minbase sid` — nothing project-specific; only a
#                   stamp file .tollgate-debootstrap-done is added. The docker images may reuse it:
#                   tar -C /var/cache/tollgate/live/sid --exclude=./.tollgate-debootstrap-done -c . |
#                     docker import - debian:sid-slim
#   sid-asterisk/   a copy of sid/ with `apt-get install --no-install-recommends asterisk`
#                   (asterisk, asterisk-modules: chan_pjsip, res_ari, func_db, cdr_manager, …) and an
#                   empty /srv/tollgate mount point; the project's configuration is NOT in it
# Host packages: debootstrap, sip-tester (sipp 3.6.1, bookworm), iproute2 (ss), libfaketime.
# A cold setup (debootstrap + asterisk) took 2 to 3.5 minutes here (the mirror's speed varies), plus
# about 20 s for the host packages when missing; a warm one takes a second.
# apt inside sid is run with Acquire::Check-Valid-Until=false: this machine's clock is ahead of the
# mirror's Release files (signatures are still checked).
#
# Per-run state lives in $TOLLGATE_LIVE_RUN (default /tmp/tollgate-live), wiped by `start`:
#   etc/        the package's /etc/asterisk with docker/asterisk/etc copied over it — exactly what
#               docker/asterisk/Dockerfile's COPY gives — plus a generated asterisk.conf whose
#               [directories] point into this directory
#   lib/ log/ run/ spool/ cache/   AstDB, Asterisk's logs (messages.log, full.log, security.log),
#               the CLI socket; bind-mounted at /srv/tollgate inside the chroot
#   carrier.log the carrier's calls: invite/answered/cancelled/ended <number> <call-id>
# Mounts (/proc, /dev, the run directory) exist only in a private mount namespace (unshare) that
# dies with Asterisk: nothing to clean up after a crash.
#
# Ports (all 127.0.0.1): SIP 5060/udp, AMI 5038, HTTP/ARI 8088, carrier 5080/udp, RTP 20000-20200.
# `npm run test:live` runs jest through `netns`: Asterisk, sipp, the agent and the tests then share a
# loopback of their own, so the fixed ports never collide with the compose demo or a PBX on the CI
# machine (TOLLGATE_LIVE_NETNS=0: use the host's network instead).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${TOLLGATE_LIVE_CACHE:-/var/cache/tollgate/live}
RUN=${TOLLGATE_LIVE_RUN:-/tmp/tollgate-live}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SID=$CACHE/sid
ROOT=$CACHE/sid-asterisk
CONFIG=$here/docker/asterisk/etc
SIPP_DIR=$here/docker/sipp
MOUNT=/srv/tollgate                       # where $RUN appears inside the chroot
ASTERISK_CONF=$MOUNT/etc/asterisk.conf
started=$(date +%s)

log() { printf '[live-env %3ss] %s\n' "$(($(date +%s) - started))" "$*" >&2; }
die() { printf '[live-env] ERROR: %s\n' "$*" >&2; exit 1; }

APT_OPTS=(-o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false -o Dpkg::Use-Pty=0 -q)

setup() {
  [ "$(id -u)" = 0 ] || die "run as root (installs packages, chroot, mount namespaces)"
  export DEBIAN_FRONTEND=noninteractive
  local need=()
  command -v debootstrap >/dev/null || need+=(debootstrap)
  command -v sipp >/dev/null || need+=(sip-tester)
  command -v ss >/dev/null || need+=(iproute2)
  command -v unshare >/dev/null || need+=(util-linux)
  # libfaketime: the agent tried at office hours and at night whatever the hour (test/live/live.ts faketime()).
  ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1 || need+=(libfaketime)
  if [ ${#need[@]} -gt 0 ]; then
    log "apt-get install ${need[*]} (host)"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  flock 9
  if [ ! -e "$SID/.tollgate-debootstrap-done" ]; then
    log "debootstrap --variant=minbase sid $SID (log: $CACHE/debootstrap.log)"
    rm -rf "$SID" "$SID.tmp"
    debootstrap --variant=minbase sid "$SID.tmp" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
      die "debootstrap failed; see $CACHE/debootstrap.log"
    mv "$SID.tmp" "$SID"
    # The stamp is the only file added; docker import users may delete it.
    date -u +%FT%TZ >"$SID/.tollgate-debootstrap-done"
  fi
  if [ ! -e "$ROOT/.tollgate-asterisk-done" ]; then
    log "installing asterisk into $ROOT (a copy of $SID; log: $CACHE/asterisk-install.log)"
    rm -rf "$ROOT" "$ROOT.tmp"
    cp -a "$SID" "$ROOT.tmp"
    rm -f "$ROOT.tmp/.tollgate-debootstrap-done"
    {
      chroot "$ROOT.tmp" apt-get "${APT_OPTS[@]}" update &&
        chroot "$ROOT.tmp" env DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" install -y asterisk &&
        chroot "$ROOT.tmp" apt-get clean
    } >"$CACHE/asterisk-install.log" 2>&1 || die "installing asterisk failed; see $CACHE/asterisk-install.log"
    mkdir -p "$ROOT.tmp$MOUNT"
    mv "$ROOT.tmp" "$ROOT"
    chroot "$ROOT" asterisk -V >"$ROOT/.tollgate-asterisk-done"
  fi
  flock -u 9
  log "ready: $(cat "$ROOT/.tollgate-asterisk-done"); sid rootfs: $SID; asterisk rootfs: $ROOT"
}

# Runs "$@" (a command line inside the chroot) in a private mount namespace with $RUN at $MOUNT.
in_root() {
  unshare --mount --propagation private --fork -- sh -c '
    root=$1 run=$2 mount=$3; shift 3
    mount --bind "$run" "$root$mount" &&
      mount -t proc proc "$root/proc" &&
      mount --rbind /dev "$root/dev" &&
      exec chroot "$root" "$@"' in_root "$ROOT" "$RUN" "$MOUNT" "$@"
}

# The CLI client seeds its own EID from an Ethernet interface and says so when a namespace has none.
rx() {
  local out status=0
  out=$(in_root asterisk -C "$ASTERISK_CONF" -rx "$1" 2>&1) || status=$?
  printf '%s\n' "$out" | grep -v '^No ethernet interface found for seeding global EID' || true
  return "$status"
}

asterisk_pid() {
  local pid
  pid=$(cat "$RUN/run/asterisk.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

carrier_pid() {
  local pid
  pid=$(cat "$RUN/carrier.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

port_user() { # proto port → the ss line of whoever listens on 127.0.0.1:port (or any address)
  local flag=-ltnp
  [ "$1" = udp ] && flag=-lunp
  ss -H "$flag" "sport = :$2" 2>/dev/null | head -1
}

prepare_run() { # a fresh run directory: the container's /etc/asterisk, and a generated asterisk.conf
  [ -e "$ROOT/.tollgate-asterisk-done" ] || die "no Asterisk root file system yet: run scripts/live-env.sh setup"
  case "$RUN" in /|/tmp|/var|/run|"$here"|"") die "refusing to wipe TOLLGATE_LIVE_RUN=$RUN";; esac
  rm -rf "$RUN"
  mkdir -p "$RUN"/{etc,lib,log,run,spool,cache}
  cp -a "$ROOT/etc/asterisk/." "$RUN/etc/"
  cp -a "$CONFIG/." "$RUN/etc/"
  {
    echo "; generated by scripts/live-env.sh from docker/asterisk/etc/asterisk.conf: per-run directories"
    echo "[directories]"
    echo "astetcdir => $MOUNT/etc"
    echo "astdbdir => $MOUNT/lib"
    echo "astlogdir => $MOUNT/log"
    echo "astrundir => $MOUNT/run"
    echo "astspooldir => $MOUNT/spool"
    echo "astcachedir => $MOUNT/cache"
    echo
    cat "$CONFIG/asterisk.conf"
  } >"$RUN/etc/asterisk.conf"
  # Asterisk runs as the package's asterisk user, as in the container (docker/asterisk/Dockerfile).
  chown -R "$(chroot "$ROOT" id -u asterisk):$(chroot "$ROOT" id -g asterisk)" "$RUN"/{lib,log,run,spool,cache}
}

asterisk_start() {
  [ -d "$RUN/etc" ] || die "no run directory $RUN: use start"
  if asterisk_pid >/dev/null; then log "Asterisk already running (pid $(asterisk_pid))"; return 0; fi
  local port busy
  for port in tcp:5038 tcp:8088 udp:5060; do
    busy=$(port_user "${port%%:*}" "${port##*:}")
    [ -z "$busy" ] || die "port ${port##*:}/${port%%:*} is taken (another Asterisk, the compose demo?): $busy"
  done
  rm -f "$RUN/run/asterisk.pid" "$RUN/run/asterisk.ctl"
  # -f: foreground (the namespace lives as long as Asterisk); setsid: out of the caller's session.
  setsid bash -c "$(declare -f in_root); ROOT='$ROOT' RUN='$RUN' MOUNT='$MOUNT'; in_root asterisk -f -U asterisk -G asterisk -C '$ASTERISK_CONF'" \
    >>"$RUN/log/console.log" 2>&1 </dev/null &
  local launcher=$! i
  for i in $(seq 1 600); do
    if [ -S "$RUN/run/asterisk.ctl" ] && rx 'core waitfullybooted' >/dev/null 2>&1; then break; fi
    kill -0 "$launcher" 2>/dev/null || die "Asterisk exited while starting; see $RUN/log/console.log"
    sleep 0.1
  done
  asterisk_pid >/dev/null || die "Asterisk did not boot within 60 s; see $RUN/log/console.log"
  if grep -q 'ERROR\[' "$RUN/log/messages.log" 2>/dev/null; then
    grep 'ERROR\[' "$RUN/log/messages.log" >&2
    die "Asterisk logged errors while loading docker/asterisk/etc (above; $RUN/log/messages.log)"
  fi
  log "Asterisk $(rx 'core show version' | awk '/^Asterisk/ {print $2}') up (pid $(asterisk_pid)), configuration loaded without errors"
}

asterisk_stop() {
  local pid i
  pid=$(asterisk_pid) || { log "Asterisk not running"; return 0; }
  rx 'core stop now' >/dev/null 2>&1 || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  log "Asterisk stopped"
}

asterisk_kill() {
  local pid i
  pid=$(asterisk_pid) || { log "Asterisk not running"; return 0; }
  kill -9 "$pid"
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  log "Asterisk killed (pid $pid)"
}

carrier_start() {
  if carrier_pid >/dev/null; then return 0; fi
  local busy i
  busy=$(port_user udp 5080)
  [ -z "$busy" ] || die "port 5080/udp (the carrier) is taken: $busy"
  : >"$RUN/carrier.log"
  setsid "$SIPP_DIR/carrier.sh" "$RUN/carrier.log" 127.0.0.1 5080 >"$RUN/carrier.out" 2>&1 </dev/null &
  echo $! >"$RUN/carrier.pid"
  for i in $(seq 1 100); do [ -n "$(port_user udp 5080)" ] && break; sleep 0.1; done
  [ -n "$(port_user udp 5080)" ] || die "the sipp carrier did not start; see $RUN/carrier.out and $RUN/carrier.screen"
  log "sipp carrier listening on 127.0.0.1:5080 (calls: $RUN/carrier.log)"
}

carrier_stop() {
  local pid i
  pid=$(carrier_pid) || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$RUN/carrier.pid"
  log "sipp carrier stopped"
}

status() {
  echo "cache:    $CACHE ($( [ -e "$ROOT/.tollgate-asterisk-done" ] && cat "$ROOT/.tollgate-asterisk-done" || echo 'not set up'))"
  echo "run:      $RUN"
  echo "asterisk: $(asterisk_pid || echo 'not running')"
  echo "carrier:  $(carrier_pid || echo 'not running')"
}

case "${1:-setup}" in
  setup) setup ;;
  start)
    setup
    asterisk_stop >/dev/null 2>&1 || true
    carrier_stop >/dev/null 2>&1 || true
    prepare_run
    asterisk_start
    carrier_start
    echo "TOLLGATE_LIVE_RUN=$RUN"
    ;;
  stop) carrier_stop; asterisk_stop ;;
  asterisk-start) asterisk_start ;;
  asterisk-stop) asterisk_stop ;;
  asterisk-kill) asterisk_kill ;;
  rx) shift; rx "$*" ;;
  netns)
    shift
    [ $# -gt 0 ] || die "netns: which command?"
    if [ "${TOLLGATE_LIVE_NETNS:-1}" = 0 ]; then exec "$@"; fi
    [ "$(id -u)" = 0 ] || die "netns needs root (or set TOLLGATE_LIVE_NETNS=0 to use the host's network)"
    exec unshare --net -- sh -c 'ip link set lo up && exec "$@"' netns "$@"
    ;;
  status) status ;;
  paths) echo "SID_ROOTFS=$SID"; echo "ASTERISK_ROOTFS=$ROOT"; echo "TOLLGATE_LIVE_RUN=$RUN" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2 ;;
esac
