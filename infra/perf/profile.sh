#!/usr/bin/env bash
# Where our CPU goes under the applicant mix (`make profile`): perf samples every function
# process during a `make load` run (infra/load/run.sh, LOAD_PROFILE), then prints the hottest
# symbols of the applications function and the split of all samples by process and library.
# The binaries must keep their symbols: make profile links the functions with `-C strip=none`.
# Runs inside `local-stack exec` (KEIRYOKU_BIN_DIR).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${PROFILE_OUT:-target/perf.data}
LOAD_PROFILE=$out bash infra/load/run.sh
echo
echo "== samples by process binary and library (all our function processes)"
perf report -i "$out" --no-children --sort comm,dso --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -25
bin=${KEIRYOKU_BIN_DIR:?}
echo
echo "== hottest symbols, self time, all our function processes"
perf report -i "$out" --no-children --sort dso,symbol --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -45
echo
echo "(full report: perf report -i $out)"
