#!/usr/bin/env bash
# The npm package as a user gets it: `npm pack`, `npm install -g <tgz>` into a scratch prefix, then
# the installed `tollgate` bin: --help, classify, check on the shipped policies, and the demo.
# Run from .ci/compose (not npm test): the global install compiles better-sqlite3 (about a minute).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-pack.XXXXXX")
trap 'rm -rf "$work"' EXIT
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
check "the package holds dist/cli.js, policies/, config/rates.example.csv, demo/*.ami" \
  sh -c "grep -qx dist/cli.js '$work/files' && grep -q '^policies/lists/' '$work/files' && grep -qx config/rates.example.csv '$work/files' && grep -q '^demo/.*\.ami$' '$work/files'"
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
check "tollgate --help" sh -c "'$bin' --help | grep -q 'toll-fraud guard'"
check "tollgate classify +442079460123" sh -c "'$bin' classify +442079460123 | grep -q 'country GB'"
check "tollgate check <the installed policies>" "$bin" check "$prefix/lib/node_modules/tollgate/policies"
check "tollgate demo --speed max" sh -c "timeout 120 '$bin' demo --speed max > '$work/demo.out' 2>&1 && grep -qi 'hung up' '$work/demo.out' || { tail -20 '$work/demo.out'; exit 1; }"
cd "$root"
say "done"
echo "pack: $pass passed, $fail failed"
[ "$fail" = 0 ]
