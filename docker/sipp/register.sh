#!/bin/sh
# A phone (or a scanner) registering once with digest authentication (register.xml), with the
# User-Agent header it names — what Tollgate learns per phone, and what scanners announce
# (`friendly-scanner`, `sipvicious`, …). Prints register.xml's record: `registered <ext>` or
# `register-refused <ext> <code>`.
#   register.sh EXTENSION PASSWORD [USER_AGENT] [EXPIRES]
# USER_AGENT defaults to register.xml's own (tollgate-demo-phone); EXPIRES (seconds, default 60;
# 0 unregisters). PBX=host:port (default 127.0.0.1:5060), LOCAL_IP (default 127.0.0.1),
# LOCAL_PORT (default: any free port; a fixed one makes a refresh of the same contact).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ext=${1:?usage: register.sh EXTENSION PASSWORD [USER_AGENT] [EXPIRES]}
password=${2:?password}
user_agent=${3:-tollgate-demo-phone}
expires=${4:-60}
case "$expires" in *[!0-9]*|'') echo "register.sh: EXPIRES must be a number of seconds" >&2; exit 2;; esac
case "$user_agent" in *'|'*|*'\'*) echo "register.sh: USER_AGENT must not contain | or \\" >&2; exit 2;; esac
work=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-register.XXXXXX")
trap 'rm -rf "$work"' EXIT
sed -e "s|User-Agent: tollgate-demo-phone|User-Agent: $user_agent|" -e "s|Expires: 60|Expires: $expires|" "$here/register.xml" >"$work/register.xml"
local_ip=${LOCAL_IP:-127.0.0.1}
status=0
sipp "${PBX:-127.0.0.1:5060}" -sf "$work/register.xml" -i "$local_ip" -ci "$local_ip" -p "${LOCAL_PORT:-0}" -mp 0 -m 1 -s "$ext" -au "$ext" -ap "$password" \
  -trace_logs -log_file "$work/register.log" -trace_err -error_file "$work/errors.log" -nostdin -timeout 30s \
  >"$work/screen.log" 2>&1 || status=$?
cat "$work/register.log" 2>/dev/null || true
if [ "$status" != 0 ]; then
  echo "register.sh: sipp exited with $status" >&2
  tail -n 20 "$work/errors.log" >&2 2>/dev/null || true
fi
exit "$status"
