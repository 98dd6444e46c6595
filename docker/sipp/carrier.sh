#!/bin/sh
# The demo's SIP carrier: sipp answering every call Asterisk sends to its `carrier` trunk
# (uas_carrier.xml), after a 400 ms ring. Runs in the foreground until killed; the calls it saw go
# to LOGFILE (one line per event: invite / answered / cancelled / ended, with the dialled number)
# and are echoed on stdout. sipp's own screen goes to LOGFILE's .screen sibling, its errors to .errors.
#   carrier.sh LOGFILE [listen-address] [port]        (default 127.0.0.1 5080)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
log=${1:?usage: carrier.sh LOGFILE [listen-address] [port]}
address=${2:-127.0.0.1}
port=${3:-5080}
base=${log%.log}
: >>"$log"
sipp -sf "$here/uas_carrier.xml" -i "$address" -ci "$address" -p "$port" -mp "${CARRIER_MEDIA_PORT:-6000}" \
  -trace_logs -log_file "$log" -trace_err -error_file "$base.errors" -nostdin >"$base.screen" 2>&1 &
sipp_pid=$!
trap 'kill "$sipp_pid" 2>/dev/null; exit 0' TERM INT HUP
tail -n +1 -F --pid="$sipp_pid" "$log" 2>/dev/null &
wait "$sipp_pid"
