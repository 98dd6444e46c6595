#!/bin/sh
# The demo's attacker (and its honest phone), run on demand:
#   docker compose run --rm attacker bruteforce   a REGISTER password scan on extension 1001 with a
#                                                 scanner's User-Agent (friendly-scanner); it "finds"
#                                                 the demo's guessable password after 13 wrong guesses
#   docker compose run --rm attacker fraud        the hijacked 1001 calls five premium/IRSF numbers
#                                                 at once (Cuba, Latvia premium, Somalia, +882, UK 09)
#   docker compose run --rm attacker legit        1002 makes two ordinary national calls, which must
#                                                 go through and be answered by the carrier
# Every call prints one line: "<scenario> <number>: registered … | answered | refused <code> | …".
# Settings (environment): PBX (127.0.0.1:5060), EXT/PASSWORD (fraud: 1001/1234, legit: 1002/1002pass),
# NUMBERS (space-separated, overrides the list), HOLD_MS (how long an answered call is held).
set -eu
SIPP=/opt/sipp

calls() { # scenario ext password hold numbers… — all at once, one result line per call
  scenario=$1 ext=$2 password=$3 hold=$4
  shift 4
  work=$(mktemp -d)
  for number in "$@"; do
    "$SIPP/call.sh" "$number" "$ext" "$password" "$hold" "$work/$number.log" >"$work/$number.out" 2>&1 &
  done
  wait
  answered=0 refused=0
  for number in "$@"; do
    result=$(tr '\n' ' ' <"$work/$number.log" 2>/dev/null | sed 's/ *$//')
    echo "$scenario $number: ${result:-no result}"
    # call.sh reports a failed sipp run (and sipp's last errors) on its stderr.
    [ -s "$work/$number.out" ] && sed "s/^/  $number: /" "$work/$number.out"
    case " $result " in *" answered "*) answered=$((answered + 1));; *" refused "*) refused=$((refused + 1));; esac
  done
  rm -rf "$work"
  echo "$scenario: $# calls, $answered answered, $refused refused"
}

case "${1:-help}" in
  bruteforce)
    shift
    echo "bruteforce: REGISTER scan of extension ${EXT:-1001} at ${PBX:-127.0.0.1:5060} (User-Agent: friendly-scanner)"
    exec "$SIPP/bruteforce.sh" "${EXT:-1001}" "$@"
    ;;
  fraud)
    # International premium / IRSF destinations and a UK premium-rate number, dialled as a phone in
    # the UK does (00 + country code; 09… national premium). Tollgate must hang every one up before
    # the carrier answers.
    calls fraud "${EXT:-1001}" "${PASSWORD:-1234}" "${HOLD_MS:-20000}" \
      ${NUMBERS:-005355512345 0037190123456 00252612345678 00882161234567 09098790000}
    ;;
  legit)
    # Ordinary national calls (London, Manchester) from the other phone: they must go through.
    calls legit "${EXT:-1002}" "${PASSWORD:-1002pass}" "${HOLD_MS:-3000}" \
      ${NUMBERS:-02079460123 01614960000}
    ;;
  help|-h|--help)
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    ;;
  *)
    exec "$@"
    ;;
esac
