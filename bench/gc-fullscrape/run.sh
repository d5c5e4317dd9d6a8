#!/usr/bin/env bash
# Issue 7's memory and full-scrape targets, measured on one otd process:
#  - GC pauses (--trace-gc) while 1M peers in 100k torrents are held and announces continue;
#  - announce latency (otbench's p99) while full scrapes of those 100k torrents stream, gzip and
#    zstd back to back, against the same load without full scrapes.
#
#   bench/gc-fullscrape/run.sh [OUT_DIR]        # from the repository root, after `npx tsc -b`
#
# otd runs pinned to the last CPU, otbench and the full-scrape client on CPU 0. Fixed ports
# (UDP and HTTP 16979) so that otd's stdout can be the GC trace.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-${TMPDIR:-/tmp}/gc-fullscrape}
DURATION=${DURATION:-20s}
PORT=${PORT:-16979}
NODE=${NODE:-$(pwd)/node_modules/node/bin/node}
OTBENCH="$NODE packages/loadgen/bin/otbench.js"
LAST=$(( $(nproc) - 1 ))
mkdir -p "$OUT"

taskset -c "$LAST" "$NODE" --trace-gc packages/daemon/bin/otd.js -i 127.0.0.1 -p "$PORT" -P "$PORT" ${OTD_FLAGS:-} > "$OUT/otd-trace.log" 2>&1 &
OTD=$!
trap 'kill $OTD 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/stats" && break; sleep 0.1; done
PID=$(pgrep -P $OTD || echo $OTD)   # taskset execs node: the same pid

U=(--target "udp://127.0.0.1:$PORT" --pid "$OTD")
H=(--target "http://127.0.0.1:$PORT/announce" --pid "$OTD")
taskset -c 0 $OTBENCH preload "${U[@]}" --out "$OUT/preload.json" | tee "$OUT/preload.txt"
echo "--- preloaded; GC trace lines so far: $(grep -c 'ms: ' "$OUT/otd-trace.log")" | tee -a "$OUT/summary.txt"
MARK=$(wc -l < "$OUT/otd-trace.log")

# Announces alone (the baseline), then announces while full scrapes stream.
taskset -c 0 $OTBENCH udp "${U[@]}" -d "$DURATION" --out "$OUT/udp-alone.json" | grep '^udp' | tee -a "$OUT/summary.txt"
taskset -c 0 $OTBENCH http "${H[@]}" -d "$DURATION" --out "$OUT/http-alone.json" | grep '^http' | tee -a "$OUT/summary.txt"
scrapes () {
  local n=0 enc
  while [ ! -e "$OUT/stop" ]; do
    for enc in gzip zstd; do
      curl -s -H "Accept-Encoding: $enc" -o "$OUT/fullscrape.$enc" -w "$enc %{size_download} B %{time_total} s\n" "http://127.0.0.1:$PORT/scrape" >> "$OUT/fullscrapes.txt"
      n=$((n + 1))
    done
  done
}
rm -f "$OUT/stop" "$OUT/fullscrapes.txt"
taskset -c 0 bash -c "$(declare -f scrapes); OUT=$OUT PORT=$PORT scrapes" &
SCR=$!
taskset -c 0 $OTBENCH udp "${U[@]}" -d "$DURATION" --out "$OUT/udp-fullscrape.json" | grep '^udp' | sed 's/^/with full scrapes: /' | tee -a "$OUT/summary.txt"
taskset -c 0 $OTBENCH http "${H[@]}" -d "$DURATION" --out "$OUT/http-fullscrape.json" | grep '^http' | sed 's/^/with full scrapes: /' | tee -a "$OUT/summary.txt"
touch "$OUT/stop"; wait $SCR
echo "full scrapes during the runs: $(wc -l < "$OUT/fullscrapes.txt") ($(awk '{print $1}' "$OUT/fullscrapes.txt" | sort | uniq -c | tr '\n' ' ')); sizes and times:" | tee -a "$OUT/summary.txt"
sort -u -k1,1 "$OUT/fullscrapes.txt" | tee -a "$OUT/summary.txt"
awk '{print $1, $4}' "$OUT/fullscrapes.txt" | sort -k2 -n | tail -2 | sed 's/^/slowest: /' | tee -a "$OUT/summary.txt"
curl -s "http://127.0.0.1:$PORT/stats?mode=everything&format=json" > "$OUT/stats.json"

# GC pauses after the preload: V8's --trace-gc line gives "..., A / B ms" (pause / external).
tail -n +"$((MARK + 1))" "$OUT/otd-trace.log" | "$NODE" -e '
  let lines = require("fs").readFileSync(0, "utf8").split("\n").filter((l) => / ms: /.test(l))
  const kinds = {}
  for (const l of lines) {
    const m = l.match(/ms: ([A-Za-z-]+(?: \(reduce\))?)[^,]*,.*?([0-9.]+) \/ ([0-9.]+) ms/)
    if (!m) continue
    const k = m[1]; const p = Number(m[2])
    const e = kinds[k] ??= { n: 0, max: 0, sum: 0 }
    e.n++; e.sum += p; if (p > e.max) e.max = p
  }
  for (const [k, e] of Object.entries(kinds)) console.log(`GC ${k}: ${e.n} pauses, max ${e.max.toFixed(2)} ms, mean ${(e.sum / e.n).toFixed(2)} ms`)
' | tee -a "$OUT/summary.txt"
echo "RSS at the end: $(awk '/VmRSS/ {print $2, $3}' /proc/$OTD/status)" | tee -a "$OUT/summary.txt"
