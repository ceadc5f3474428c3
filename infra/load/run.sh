#!/usr/bin/env bash
# The load run (`make load`): wrk against the local stack with a realistic applicant mix
# (infra/load/mix.lua), reporting throughput, p50/p99 latency, the error count, and the CPU time
# per request of our own processes (local gateway + Lambda processes) next to moto's.
# Runs inside `local-stack exec`, which sets KEIRYOKU_API_URL.
set -euo pipefail
cd "$(dirname "$0")/../.."
API=${KEIRYOKU_API_URL:?run through make load}
THREADS=${LOAD_THREADS:-8}
DURATION=${LOAD_DURATION:-30s}
SUBMIT_DRAFTS=${LOAD_SUBMIT_DRAFTS:-60}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A complete plan whose dates are valid today (start next month, equipment two months later).
python3 - "$work/plan.json" <<'PY'
import json, sys, datetime
plan = json.load(open("shared/domain/tests/fixtures/complete_plan.json"))
today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=9))).date()
def month(offset):
    index = today.year * 12 + today.month - 1 + offset
    return f"{index // 12:04d}-{index % 12 + 1:02d}"
plan["period"]["start"] = month(1)
plan["equipment"][0]["acquisition_month"] = month(3)
json.dump({"plan": plan}, open(sys.argv[1], "w"), ensure_ascii=False)
PY

echo "preparing $THREADS sessions with 1 autosave draft and $SUBMIT_DRAFTS drafts to submit each…"
: > "$work/load.tsv"
for t in $(seq 1 "$THREADS"); do
  jar="$work/jar$t"
  curl -sf -c "$jar" -b "$jar" -L -o /dev/null "$API/auth/login?login_hint=applicant-tokyo"
  session=$(awk '$6=="keiryoku_session"{print $7}' "$jar")
  csrf=$(awk '$6=="csrf_token"{print $7}' "$jar")
  create() {
    curl -sf -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
      --data-binary @"$work/plan.json" "$API/applications" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
  }
  draft=$(create)
  pool=$(for _ in $(seq 1 "$SUBMIT_DRAFTS"); do create; done | paste -sd, -)
  printf 'keiryoku_session=%s; csrf_token=%s\t%s\t%s\t%s\n' "$session" "$csrf" "$csrf" "$draft" "$pool" >> "$work/load.tsv"
done

# CPU time (user + system, clock ticks) of a set of processes.
ticks() {
  local total=0
  for pid in "$@"; do
    if [[ -r /proc/$pid/stat ]]; then
      read -r -a f < <(sed 's/^.*) //' "/proc/$pid/stat")
      total=$((total + f[11] + f[12]))
    fi
  done
  echo "$total"
}
bin_dir=${KEIRYOKU_BIN_DIR:-target/debug}
pids() { pgrep -f "$bin_dir/($1)( |\$)" | tr '\n' ' '; }
functions=$(pids 'auth|applications|review|platform|reference|documents|effects|web|staff|export|export-worker')
gateway=$(pids 'local-stack')
moto=$(pgrep -f "infra/moto/serve.py" | tr '\n' ' ')
hz=$(getconf CLK_TCK)
before_functions=$(ticks $functions); before_gateway=$(ticks $gateway); before_moto=$(ticks $moto)
# The service calls each function makes, as moto counts them (infra/moto/iam.py).
calls() { curl -sf "${AWS_ENDPOINT_URL:?}/_keiryoku/calls" || echo '{}'; }
calls > "$work/calls-before.json"
# The invocations each function takes, as the local stack counts them (infra/local: /invocations).
invocations() { curl -sf "${KEIRYOKU_SCHEDULER_URL:?}/invocations" || echo '{}'; }
invocations > "$work/invocations-before.json"

# LOAD_PROFILE (infra/perf/profile.sh): a sampling profile of our function processes during the
# wrk run only, not during the preparation above.
profiler=
if [[ -n "${LOAD_PROFILE:-}" ]]; then
  # DWARF call graphs (the release binaries keep no frame pointers), so that the report can
  # say what each sample was called from, at a rate that keeps the file to tens of MB.
  perf record -q -F 499 --call-graph dwarf,32768 -o "$LOAD_PROFILE" -p "$(echo $functions | tr ' ' ',')" 2>/dev/null &
  profiler=$!
fi

echo "wrk -t$THREADS -c$THREADS -d$DURATION (one connection per thread, each on its own drafts)"
LOAD_FILE="$work/load.tsv" wrk -t"$THREADS" -c"$THREADS" -d"$DURATION" --timeout 10s --latency -s infra/load/mix.lua "$API" | tee "$work/wrk.txt"

if [[ -n "$profiler" ]]; then kill -INT "$profiler"; wait "$profiler" || true; fi
after_functions=$(ticks $functions); after_gateway=$(ticks $gateway); after_moto=$(ticks $moto)
calls > "$work/calls-after.json"
invocations > "$work/invocations-after.json"
requests=$(awk '/^requests /{print $2}' "$work/wrk.txt" | tr -d ,)
python3 - "$requests" "$((after_functions - before_functions))" "$((after_gateway - before_gateway))" "$((after_moto - before_moto))" "$hz" "$work" <<'PY'
import json, sys
requests, functions, gateway, moto, hz = (int(x) for x in sys.argv[1:6])
work = sys.argv[6]
ms = lambda ticks: ticks * 1000 / hz / max(requests, 1)
print(f"CPU per request: our Lambda functions {ms(functions):.2f} ms, local API gateway + runtime API {ms(gateway):.2f} ms, moto {ms(moto):.2f} ms")
print(f"moto / our functions = {moto / max(functions, 1):.1f}x")
before = json.load(open(f"{work}/calls-before.json"))
after = json.load(open(f"{work}/calls-after.json"))
made = {}
for function, operations in after.items():
    for op, count in operations.items():
        n = count - before.get(function, {}).get(op, 0)
        if n:
            made[(function, op)] = n
total = sum(made.values())
print(f"AWS calls per request: our functions {total / max(requests, 1):.2f}")
for (function, op), n in sorted(made.items(), key=lambda kv: -kv[1]):
    print(f"  {function:<16} {op:<24} {n / max(requests, 1):.3f}")
before = json.load(open(f"{work}/invocations-before.json"))
after = json.load(open(f"{work}/invocations-after.json"))
taken = {f: n - before.get(f, 0) for f, n in after.items() if n - before.get(f, 0)}
print(f"Lambda invocations per request: our functions {sum(taken.values()) / max(requests, 1):.2f}")
for function, n in sorted(taken.items(), key=lambda kv: -kv[1]):
    print(f"  {function:<16} {n / max(requests, 1):.3f}")
submissions = next((int(l.split()[1]) for l in open(f"{work}/wrk.txt") if l.startswith("submissions ")), 0)
print(f"submissions per request: {submissions / max(requests, 1):.3f} (each an application PDF rendered by effects)")
PY
status_errors=$(awk '/^requests /{print $NF}' "$work/wrk.txt")
if [[ "$status_errors" != "0" ]]; then
  echo "load run had $status_errors non-2xx answers" >&2
  exit 1
fi
