#!/usr/bin/env bash
# Node's built-in test runner over tests/js/*.test.mjs (the web clients' pure functions),
# held to the suite's rules: it fails when a test fails, when no file matches, when a file
# declares no test (Node reports such a file as one passing "test"), when nothing passed,
# and when a test is skipped or marked todo (a skipped test is not a pass).
set -uo pipefail
cd "$(dirname "$0")/../.."
tap=$(mktemp)
trap 'rm -f "$tap"' EXIT
node --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" tests/js/*.test.mjs
rc=$?
fail() { echo "tests/js: $1" >&2; exit 1; }
[ "$rc" -eq 0 ] || fail "node --test exited with $rc"
if grep -qE '^(not )?ok [0-9]+ - .*\.test\.mjs$' "$tap"; then
  fail "a test file declares no test: $(grep -oE '[^ /]+\.test\.mjs$' "$tap" | sort -u | tr '\n' ' ')"
fi
grep -qE '^# pass [1-9]' "$tap" || fail "no test passed"
grep -qE '^# skipped 0$' "$tap" || fail "skipped tests: $(grep '^# skipped' "$tap")"
grep -qE '^# todo 0$' "$tap" || fail "tests marked todo: $(grep '^# todo' "$tap")"
