#!/usr/bin/env bash
# The npm package as a user gets it: `npm pack`, `npm install -g <tgz>` into a scratch prefix, then
# the installed `tollgate` bin: --version, --help, classify, init + check, the demo, and real mail:
# `test-mail` and `demo --smtp` against a loopback SMTP server (test/compose/smtp-catcher.mjs, run
# from the repository's node_modules), and `test-mail` failing clearly when SMTP is down.
# Run from .ci/compose (not npm test): the global install compiles better-sqlite3 (about a minute).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-pack.XXXXXX")
smtp_pid=
trap '[ -n "$smtp_pid" ] && kill "$smtp_pid" 2>/dev/null; rm -rf "$work"' EXIT
started=$(date +%s)
pass=0 fail=0
say() { printf '[pack %3ss] %s\n' "$(($(date +%s) - started))" "$*"; }
check() { # name command… — passes when the command exits 0
  local name=$1; shift
  if "$@" >"$work/out" 2>&1; then echo "ok     $name"; pass=$((pass + 1)); else echo "FAIL   $name"; sed 's/^/    /' "$work/out" | tail -20; fail=$((fail + 1)); fi
}

cd "$root"
say "npm run build"
npm run --silent build
say "npm pack"
tgz=$(npm pack --silent --pack-destination "$work" | tail -1)
tar -tzf "$work/$tgz" | sed 's|^package/||' >"$work/files"
echo "    $tgz: $(wc -l <"$work/files") files, $(du -k "$work/$tgz" | cut -f1) kB"
check "the package holds dist/cli.js, policies/, config/rates.example.csv, demo/*.ami, tollgate.example.yaml" \
  sh -c "grep -qx dist/cli.js '$work/files' && grep -q '^policies/lists/' '$work/files' && grep -qx config/rates.example.csv '$work/files' && grep -q '^demo/.*\.ami$' '$work/files' && grep -qx tollgate.example.yaml '$work/files'"
check "the package holds no tests and no sources" sh -c "! grep -qE '^(test|src)/' '$work/files'"

say "npm install -g $tgz --prefix <scratch>"
prefix="$work/prefix"
if ! npm install -g "$work/$tgz" --prefix "$prefix" --no-audit --no-fund --loglevel=error >"$work/install.log" 2>&1; then
  echo "FAIL   npm install -g"; tail -30 "$work/install.log" | sed 's/^/    /'
  echo "pack: 0 passed, 1 failed"; exit 1
fi
say "installed"
bin="$prefix/bin/tollgate"
# Run from elsewhere, so nothing is found through the repository by accident.
cd "$work"
version=$(node -p "require('$root/package.json').version")
check "tollgate --version prints $version" sh -c "[ \"\$('$bin' --version)\" = '$version' ]"
check "tollgate --help" sh -c "'$bin' --help | grep -q 'toll-fraud guard'"
check "tollgate classify +442079460123" sh -c "'$bin' classify +442079460123 | grep -q 'country GB'"
check "tollgate check <the installed policies>" "$bin" check "$prefix/lib/node_modules/tollgate/policies"
check "tollgate demo --speed max" sh -c "timeout 120 '$bin' demo --speed max > '$work/demo.out' 2>&1 && grep -qi 'hung up' '$work/demo.out' || { tail -20 '$work/demo.out'; exit 1; }"
check "tollgate init writes a config that tollgate check accepts; a second init refuses" \
  sh -c "'$bin' init '$work/etc' >/dev/null && '$bin' check --config '$work/etc/tollgate.yaml' | grep -q 'configuration valid' && ! '$bin' init '$work/etc' 2>/dev/null"

# Real mail: a loopback SMTP server the installed CLI delivers to.
node "$root/test/compose/smtp-catcher.mjs" "$work/mails" >"$work/smtp.port" 2>"$work/smtp.err" &
smtp_pid=$!
for _ in $(seq 50); do [ -s "$work/smtp.port" ] && break; sleep 0.1; done
smtp_port=$(cat "$work/smtp.port")
say "loopback SMTP server on 127.0.0.1:$smtp_port"
check "tollgate test-mail --smtp: accepted, and in the mailbox" \
  sh -c "'$bin' test-mail --smtp smtp://127.0.0.1:$smtp_port --to admin@example.com | grep -q 'test mail accepted' && grep -q '^admin@example.com | \[Tollgate\] test mail' '$work/mails/mails.log'"
# The demo's attack is one mail thread: the scan opens it, the guessed password and the first call
# hung up follow as updates (the other calls are folded in).
check "tollgate demo --smtp: the incident mails arrive (one thread: scan, guessed password, call hung up)" \
  sh -c "timeout 120 '$bin' demo --speed max --smtp smtp://127.0.0.1:$smtp_port > '$work/demo-smtp.out' 2>&1 && grep -q 'mails delivered to the SMTP server' '$work/demo-smtp.out' \
    && grep -q '^pbx-admin@example.com | \[Tollgate\]\[HIGH\] brute force from 127.0.0.1' '$work/mails/mails.log' \
    && grep -q '^pbx-admin@example.com | \[Tollgate\]\[CRITICAL\]\[UPDATE\] password guessed on 1001' '$work/mails/mails.log' \
    && grep -q '^pbx-admin@example.com | \[Tollgate\]\[CRITICAL\]\[UPDATE\] 1001 → .* hung up' '$work/mails/mails.log' \
    || { tail -20 '$work/demo-smtp.out'; cat '$work/mails/mails.log'; exit 1; }"
kill "$smtp_pid"; wait "$smtp_pid" 2>/dev/null || true; smtp_pid=
check "tollgate test-mail with SMTP down: exit 1 and the reason" \
  sh -c "! '$bin' test-mail --smtp smtp://127.0.0.1:$smtp_port --to admin@example.com 2>'$work/down.err' && grep -q 'test mail NOT sent.*ECONNREFUSED' '$work/down.err'"
cd "$root"
say "done"
echo "pack: $pass passed, $fail failed"
[ "$fail" = 0 ]
