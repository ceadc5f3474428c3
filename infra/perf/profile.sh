#!/usr/bin/env bash
# Where our CPU goes under the applicant mix (`make profile`): perf samples every function
# process during a `make load` run (infra/load/run.sh, LOAD_PROFILE, with DWARF call graphs),
# then prints the split of the samples by process and library, the top entries of the flame
# graph (time spent in a function and what it called, by process), and the self time by crate.
# The binaries must keep their symbols: make profile links the functions with `-C strip=none`.
# Runs inside `local-stack exec` (KEIRYOKU_BIN_DIR).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${PROFILE_OUT:-target/perf.data}
LOAD_PROFILE=$out bash infra/load/run.sh
report() { perf report -i "$out" --stdio -g none "$@" 2>/dev/null | grep -v '^#' | grep -v '^$' || true; }
echo
echo "== samples by process and library (all our function processes)"
report --no-children --sort comm,dso | head -25
echo
echo "== flame graph top entries: time in a function and its callees, by process"
# Leaving out the frames every async call passes through (futures, tokio, tracing wrappers).
report --children --sort comm,symbol --percent-limit 1 \
  | grep -v -E 'tokio::|futures_util|Instrumented|core::future|0xffff|Oneshot|MapIntoResponse|from_fn|\[k\]' \
  | sed -E 's/[[:space:]]+-[[:space:]]+-[[:space:]]*$//' | cut -c1-160 | head -60
echo
echo "== self time by crate (where the instructions ran), all our function processes"
report --no-children --sort dso,symbol | python3 -c '
import collections, re, sys
by = collections.Counter()
for line in sys.stdin:
    m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)", line)
    if not m:
        continue
    share, dso, kind, symbol = float(m.group(1)), m.group(2), m.group(3), m.group(4)
    if kind == "k":
        key = "kernel"
    elif dso.startswith("libc"):
        key = "libc (malloc, free)" if re.search(r"malloc|free|_int_|unlink_chunk|consolidate", symbol) else "libc (memmove, other)"
    else:
        key = re.split(r"::|<| as ", symbol.lstrip("<&").replace("mut ", ""))[0]
    by[key] += share
for key, share in by.most_common(25):
    print(f"{share:6.2f}%  {key}")
'
echo
echo "(full report: perf report -i $out)"
