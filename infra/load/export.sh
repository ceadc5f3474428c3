#!/usr/bin/env bash
# The export benchmark: a synthetic legacy extract of N certifications imported (throughput and
# the importer's peak RSS), then one bulk extract of all of them as CSV by the SME Agency's
# client, end to end through the API (request → worker → file): seconds, rows, bytes and the
# worker's peak RSS. Runs inside `local-stack exec` (make bench-export N=…); prints one JSON line.
set -euo pipefail
n=${1:-20000}
bin=${KEIRYOKU_BIN_DIR:?run through make bench-export}
file=$(mktemp --suffix=.csv)
trap 'rm -f "$file"' EXIT
"$bin/keiryoku-admin" legacy generate --rows "$n" --out "$file"
import=$(TABLE_NAME=$KEIRYOKU_TABLE "$bin/keiryoku-admin" legacy import "$file" | tail -1)
token=$(curl -sf -u chusho-kikakuka:chusho-kikakuka-local-secret -d grant_type=client_credentials \
  "$KEIRYOKU_IDP_URL/oauth/token" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
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
python3 - "$n" "$import" "$job" "$start" "$end" "${rss:-0}" <<'PY'
import json, sys
n, imported, job, start, end, rss = sys.argv[1:]
imported, job = json.loads(imported), json.loads(job)
print(json.dumps({
    "records": int(n),
    "import_rows_per_second": imported["rows_per_second"],
    "import_peak_rss_mb": imported["peak_rss_mb"],
    "extract_seconds": round(float(end) - float(start), 1),
    "extract_rows": job["rows"],
    "extract_bytes": job["bytes"],
    "worker_peak_rss_mb": round(int(rss) / 1024, 1),
}, ensure_ascii=False))
PY
