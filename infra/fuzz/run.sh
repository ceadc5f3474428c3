#!/usr/bin/env bash
# A bounded schemathesis run over the API's own /openapi.json, as a logged-in applicant and as a
# reviewer (the local stack must be up: `make e2e` runs this after the suites; `make fuzz` alone).
# It passes when no answer is a 5xx, and when another company's applications are unchanged
# afterwards (fuzzing as one company must never reach another's data).
set -euo pipefail
base=${KEIRYOKU_API_URL:?run inside the local stack: make fuzz}
schemathesis=${SCHEMATHESIS:-.venv/bin/schemathesis}
examples=${FUZZ_EXAMPLES:-15}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A browser's cookie jar after logging in at $2 ($1 names the jar).
login() {
  curl -s -c "$work/$1" -b "$work/$1" -L -o /dev/null "$base$2"
}
cookie() {
  awk -v name="$2" '$6 == name { print $7 }' "$work/$1"
}
# Another company's applications (id and version) as its own member sees them.
snapshot() {
  curl -s -b "$work/osaka" "$base/applications?limit=100" |
    python3 -c 'import json, sys; print(json.dumps(sorted((a["id"], a["version"]) for a in json.load(sys.stdin)["items"])))'
}

login osaka "/auth/login?login_hint=applicant-osaka"
# Something of theirs to protect.
curl -s -b "$work/osaka" -H "X-CSRF-Token: $(cookie osaka csrf_token)" -H "Origin: $base" \
  -H 'Content-Type: application/json' -d '{"plan": {}}' -o /dev/null "$base/applications"
before=$(snapshot)

run_as() {
  login "$1" "$2"
  local session csrf
  session=$(cookie "$1" keiryoku_session)
  csrf=$(cookie "$1" csrf_token)
  echo "== fuzzing as $1 ($examples examples per operation)"
  "$schemathesis" run "$base/openapi.json" \
    -H "Cookie: keiryoku_session=$session; csrf_token=$csrf" \
    -H "X-CSRF-Token: $csrf" -H "Origin: $base" \
    --exclude-path /auth/logout \
    --checks not_a_server_error -n "$examples" --generation-deterministic \
    --request-timeout 10
}
run_as applicant "/auth/login?login_hint=applicant-tokyo"
run_as reviewer "/staff/login?login_hint=reviewer-kanto-meti"

after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "another company's applications changed during the fuzz run:"
  echo "before: $before"
  echo "after:  $after"
  exit 1
fi
echo "fuzz: no server error; another company's applications unchanged"
