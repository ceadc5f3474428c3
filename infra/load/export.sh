#!/usr/bin/env bash
# The export benchmark: a synthetic legacy extract of N certifications imported (throughput and
# the importer's peak RSS), then one bulk extract of all of them as CSV by the SME Agency's
# client, end to end through the API (request → worker → file): seconds, rows, bytes and the
# worker's peak RSS. Runs inside `local-stack exec` (make bench-export N=…); prints one JSON line
# per size.
set -euo pipefail
# Sizes in increasing order (make bench-export N="20000 100000 200000"): the table grows from one to
# the next, each import adds the rows between, and one extract of everything follows each import.
sizes=(${1:-20000})
bin=${KEIRYOKU_BIN_DIR:?run through make bench-export}
file=$(mktemp --suffix=.csv)
slice=$(mktemp --suffix=.csv)
trap 'rm -f "$file" "$slice"' EXIT
"$bin/keiryoku-admin" legacy generate --rows "${sizes[-1]}" --out "$file"
token=$(curl -sf -u chusho-kikakuka:chusho-kikakuka-local-secret -d grant_type=client_credentials \
  "$KEIRYOKU_IDP_URL/oauth/token" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
moto=$(pgrep -f 'infra/moto/serve.py' | head -1)
done_rows=0
for n in "${sizes[@]}"; do
  # The header, then the rows after those already imported; the last step is the whole
  # generated file (what was imported before is skipped as already there).
  source=$slice
  if [ "$n" = "${sizes[-1]}" ]; then
    source=$file
  else
    { head -1 "$file"; sed -n "$((done_rows + 2)),$((n + 1))p" "$file"; } > "$slice"
  fi
  import=$(TABLE_NAME=$KEIRYOKU_TABLE "$bin/keiryoku-admin" legacy import "$source" | tail -1)
  done_rows=$n
  # The import's stream records are read by the local stream pollers through moto (one lock):
  # wait until moto is idle, so the extract is not measured behind that backlog (AWS filters
  # events in the event source mapping, without the function).
  if [ -n "$moto" ]; then
    ticks() { awk '{print $14 + $15}' "/proc/$moto/stat"; }
    hz=$(getconf CLK_TCK)
    while :; do
      before=$(ticks); sleep 5; after=$(ticks)
      # Below 20 % of one core over 5 s: the backlog is read.
      [ $(( (after - before) * 100 / (5 * hz) )) -lt 20 ] && break
    done
  fi
  workers=$(pgrep -f "$bin/export-worker" || true)
  # Each extract's own peak: the workers' peak RSS is reset (5 > clear_refs) before it.
  for pid in $workers; do echo 5 > "/proc/$pid/clear_refs" 2>/dev/null || true; done
  start=$(date +%s.%N)
  location=$(curl -sf -H "Authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"from": "2016-07", "to": "2026-12", "format": "csv"}' "$KEIRYOKU_API_URL/export/v1/extracts" \
    | python3 -c 'import json, sys; print("/export/v1/extracts/" + json.load(sys.stdin)["id"])')
  while :; do
    job=$(curl -sf -H "Authorization: Bearer $token" "$KEIRYOKU_API_URL$location")
    state=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["state"])' "$job")
    [ "$state" = done ] && break
    [ "$state" = failed ] && { echo "extract failed: $job" >&2; exit 1; }
    sleep 0.2
  done
  end=$(date +%s.%N)
  rss=$(for pid in $(pgrep -f "$bin/export-worker"); do grep VmHWM "/proc/$pid/status" | awk '{print $2}'; done | sort -n | tail -1)
  moto_rss=$(awk '/VmRSS/ {print $2}' "/proc/$moto/status" 2>/dev/null || echo 0)
  python3 - "$n" "$import" "$job" "$start" "$end" "${rss:-0}" "${moto_rss:-0}" <<'PY'
import datetime, json, sys
n, imported, job, start, end, rss, moto_rss = sys.argv[1:]
imported, job = json.loads(imported), json.loads(job)
def at(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
print(json.dumps({
    "records": int(n),
    "import_rows": imported["rows"],
    "import_written": imported["written"],
    "import_already_there": imported["already_there"],
    "import_rows_per_second": imported["rows_per_second"],
    "import_written_per_second": round(imported["written"] / max(imported["seconds"], 0.001)),
    "import_peak_rss_mb": imported["peak_rss_mb"],
    "extract_seconds": round(float(end) - float(start), 1),
    "worker_seconds": round(at(job["finished_at"]) - at(job["started_at"]), 1),
    "extract_rows": job["rows"],
    "extract_bytes": job["bytes"],
    "worker_peak_rss_mb": round(int(rss) / 1024, 1),
    "moto_rss_mb": round(int(moto_rss) / 1024),
}, ensure_ascii=False), flush=True)
PY
done
