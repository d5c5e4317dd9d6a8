#!/usr/bin/env bash
# otd against Debian's opentracker on this machine, measured with otbench, alternating tracker by
# tracker within each round so drift and noisy neighbours hit both alike. Writes every report,
# pooled reports per tracker (medians over rounds) and the ratio table with its chart.
#
#   packages/loadgen/scripts/side-by-side.sh            # from the repository root, after a build
#   ROUNDS=5 DURATION=10s OUT=bench/side-by-side/today packages/loadgen/scripts/side-by-side.sh
#
# Needs opentracker (apt-get install opentracker), taskset and 2+ CPUs: each tracker runs pinned to
# the last CPU and otbench to CPU 0. opentracker is the whitelist build, so it is given the
# benchmark's hashes (otbench hashes) with -w.
set -euo pipefail
cd "$(dirname "$0")/../../.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
OUT=${OUT:-bench/side-by-side/$(date +%F)}
OT_PORT=${OT_PORT:-16969}
NODE=${NODE:-node}
OTD=${OTD:-"$NODE packages/daemon/bin/otd.js -i 127.0.0.1 -p 0 -P 0"}
OTBENCH="$NODE packages/loadgen/bin/otbench.js"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
$OTBENCH hashes --torrents 100k --repro > "$OUT/whitelist.txt"
if [ "$(id -u)" = 0 ]; then
  # As root opentracker chroots into -d and drops to -u: the whitelist path is relative to -d.
  chmod a+rx "$OUT"; chmod a+r "$OUT/whitelist.txt"
  OT="opentracker -i 127.0.0.1 -p $OT_PORT -P $OT_PORT -d $OUT -u nobody -w whitelist.txt"
else
  OT="opentracker -i 127.0.0.1 -p $OT_PORT -P $OT_PORT -w $OUT/whitelist.txt"
fi
OT_TARGETS=(--target "udp://127.0.0.1:$OT_PORT" --target "http://127.0.0.1:$OT_PORT/announce")

for r in $(seq 1 "$ROUNDS"); do
  echo "round $r of $ROUNDS" >&2
  $OTBENCH suite --pin --runs 1 -d "$DURATION" --spawn "$OT" "${OT_TARGETS[@]}" --out "$OUT/opentracker-suite-$r.json" >/dev/null
  $OTBENCH suite --pin --runs 1 -d "$DURATION" --spawn "$OTD" --out "$OUT/otd-suite-$r.json" >/dev/null
  $OTBENCH repro-10k --pin --spawn "$OT" --target "http://127.0.0.1:$OT_PORT/announce" --out "$OUT/opentracker-repro-$r.json" >/dev/null || true
  $OTBENCH repro-10k --pin --spawn "$OTD" --out "$OUT/otd-repro-$r.json" >/dev/null || true
done

$OTBENCH merge "$OUT"/opentracker-*-*.json --out "$OUT/opentracker.json"
$OTBENCH merge "$OUT"/otd-*-*.json --out "$OUT/otd.json"
$OTBENCH compare "$OUT/opentracker.json" "$OUT/otd.json" --max-regression 100% || true
