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
# The import's stream records are read by the local stream pollers through moto (one lock): wait
# until moto is idle, so the extract is not measured behind that backlog (AWS filters events in
# the event source mapping, without the function).
moto=$(pgrep -f 'infra/moto/serve.py' | head -1)
if [ -n "$moto" ]; then
  ticks() { awk '{print $14 + $15}' "/proc/$moto/stat"; }
  hz=$(getconf CLK_TCK)
  while :; do
    before=$(ticks); sleep 5; after=$(ticks)
    # Below 20 % of one core over 5 s: the backlog is read.
    [ $(( (after - before) * 100 / (5 * hz) )) -lt 20 ] && break
  done
fi
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
import datetime, json, sys
n, imported, job, start, end, rss = sys.argv[1:]
imported, job = json.loads(imported), json.loads(job)
def at(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
print(json.dumps({
    "records": int(n),
    "import_rows_per_second": imported["rows_per_second"],
    "import_peak_rss_mb": imported["peak_rss_mb"],
    "extract_seconds": round(float(end) - float(start), 1),
    "worker_seconds": round(at(job["finished_at"]) - at(job["started_at"]), 1),
    "extract_rows": job["rows"],
    "extract_bytes": job["bytes"],
    "worker_peak_rss_mb": round(int(rss) / 1024, 1),
}, ensure_ascii=False))
PY
