#!/bin/sh
# A phone placing one call: registers as EXTENSION with digest authentication (register.xml), dials
# NUMBER (authenticated too), holds the answered call HOLD_MS (default 3000) and hangs up
# (uac_call.xml.in). What happened goes to LOGFILE (default: stdout), one line per step:
#   registered <ext> | register-refused <ext> <code>
#   answered | refused <code>            (Tollgate's hang-up before answer, or the lock check: 403)
#   hungup-by-pbx | hungup-by-phone      (who ended the answered call)
# Exit status: sipp's (0 when the scenario ran to its end, whatever the outcome).
#   call.sh NUMBER EXTENSION PASSWORD [HOLD_MS] [LOGFILE]
# PBX=host:port (default 127.0.0.1:5060), LOCAL_IP (default 127.0.0.1).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
number=${1:?usage: call.sh NUMBER EXTENSION PASSWORD [HOLD_MS] [LOGFILE]}
ext=${2:?extension}
password=${3:?password}
hold=${4:-3000}
logfile=${5:-}
case "$hold" in *[!0-9]*|'') echo "call.sh: HOLD_MS must be a number of milliseconds" >&2; exit 2;; esac
work=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-call.XXXXXX")
trap 'rm -rf "$work"' EXIT
sed "s/@HOLD_MS@/$hold/g" "$here/uac_call.xml.in" >"$work/uac_call.xml"
pbx=${PBX:-127.0.0.1:5060}
local_ip=${LOCAL_IP:-127.0.0.1}
status=0
sipp "$pbx" -sf "$here/register.xml" -i "$local_ip" -ci "$local_ip" -p 0 -mp 0 -m 1 -s "$ext" -au "$ext" -ap "$password" \
  -trace_logs -log_file "$work/register.log" -trace_err -error_file "$work/errors.log" -nostdin -timeout 30s \
  >"$work/screen.log" 2>&1 || status=$?
if [ "$status" = 0 ]; then
  sipp "$pbx" -sf "$work/uac_call.xml" -i "$local_ip" -ci "$local_ip" -p 0 -mp 0 -m 1 -s "$number" -au "$ext" -ap "$password" \
    -key ext "$ext" -trace_logs -log_file "$work/call.log" -trace_err -error_file "$work/errors.log" -nostdin \
    -timeout "$((hold / 1000 + 60))s" >"$work/screen.log" 2>&1 || status=$?
fi
# sipp truncates its log file: one per run, gathered here.
if [ -n "$logfile" ]; then
  cat "$work/register.log" "$work/call.log" >>"$logfile" 2>/dev/null || true
else
  cat "$work/register.log" "$work/call.log" 2>/dev/null || true
fi
if [ "$status" != 0 ]; then
  echo "call.sh: sipp exited with $status" >&2
  tail -n 20 "$work/errors.log" >&2 2>/dev/null || true
fi
exit "$status"
