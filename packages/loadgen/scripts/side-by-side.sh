#!/usr/bin/env bash
# otd against Debian's opentracker and against bittorrent-tracker from npm on this machine, measured
# with otbench, alternating tracker by tracker within each round so drift and noisy neighbours hit
# all of them alike. Writes every report, pooled reports per tracker (medians over rounds) and one
# ratio table (otd against each of the others) with a chart per pair.
#
#   packages/loadgen/scripts/side-by-side.sh            # from the repository root, after a build
#   ROUNDS=5 DURATION=10s OUT=bench/side-by-side/today packages/loadgen/scripts/side-by-side.sh
#   BTT=0 packages/loadgen/scripts/side-by-side.sh      # otd and opentracker only
#
# Needs opentracker (apt-get install opentracker), taskset and 2+ CPUs: each tracker runs pinned to
# the last CPU and otbench to CPU 0. opentracker is the whitelist build, so it is given the
# benchmark's hashes (otbench hashes) with -w.
#
# bittorrent-tracker (BTT=1, the default) is the npm package in node_modules (a devDependency of
# the daemon), started with $NODE like otd, HTTP and UDP only (no WebSocket tracker, no /stats page),
# on BTT_PORT (16970). HTTP listens on 127.0.0.1; its IPv4 UDP socket listens on 0.0.0.0 for the run,
# because its CLI's --udp-hostname never reaches the server (cmd.js passes `udp4`, Server.listen
# reads `udp`), and IPv6 UDP on ::1. It gets the same 1M-peer preload as the others (about 45 s and
# ~440 MB of RSS for it here); BTT_PEERS_PER_TORRENT=N (default 10, over the same 100k torrents) makes it
# smaller, and the output then says so. It gets no repro-10k run: testsuite.sh's requests carry no
# peer_id (and port 0 one time in 256), which bittorrent-tracker refuses ("invalid peer_id"), so
# every reply would be an error; its repro10k rows show '-'. A bittorrent-tracker suite that fails
# is reported and skipped, never the end of the script.
set -euo pipefail
cd "$(dirname "$0")/../../.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
OUT=${OUT:-bench/side-by-side/$(date +%F)}
OT_PORT=${OT_PORT:-16969}
NODE=${NODE:-node}
OTD=${OTD:-"$NODE packages/daemon/bin/otd.js -i 127.0.0.1 -p 0 -P 0"}
BTT=${BTT:-1}
BTT_PORT=${BTT_PORT:-16970}
BTT_PEERS_PER_TORRENT=${BTT_PEERS_PER_TORRENT:-10}
BTT_CMD=${BTT_CMD:-"$NODE node_modules/bittorrent-tracker/bin/cmd.js --port $BTT_PORT --http --udp --no-stats --quiet --http-hostname 127.0.0.1 --udp6-hostname ::1"}
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
BTT_TARGETS=(--target "udp://127.0.0.1:$BTT_PORT" --target "http://127.0.0.1:$BTT_PORT/announce")
if [ "$BTT" != 0 ] && [ ! -f node_modules/bittorrent-tracker/bin/cmd.js ]; then
  echo "bittorrent-tracker is not installed (npm ci); measuring without it" >&2
  BTT=0
fi

for r in $(seq 1 "$ROUNDS"); do
  echo "round $r of $ROUNDS" >&2
  $OTBENCH suite --pin --runs 1 -d "$DURATION" --spawn "$OT" "${OT_TARGETS[@]}" --out "$OUT/opentracker-suite-$r.json" >/dev/null
  $OTBENCH suite --pin --runs 1 -d "$DURATION" --spawn "$OTD" --out "$OUT/otd-suite-$r.json" >/dev/null
  if [ "$BTT" != 0 ]; then
    $OTBENCH suite --pin --runs 1 -d "$DURATION" --peers-per-torrent "$BTT_PEERS_PER_TORRENT" --spawn "$BTT_CMD" "${BTT_TARGETS[@]}" \
      --out "$OUT/bittorrent-tracker-suite-$r.json" >/dev/null || echo "round $r: bittorrent-tracker suite failed (exit $?), skipped" >&2
  fi
  $OTBENCH repro-10k --pin --spawn "$OT" --target "http://127.0.0.1:$OT_PORT/announce" --out "$OUT/opentracker-repro-$r.json" >/dev/null || true
  $OTBENCH repro-10k --pin --spawn "$OTD" --out "$OUT/otd-repro-$r.json" >/dev/null || true
done

$OTBENCH merge "$OUT"/opentracker-*-*.json --out "$OUT/opentracker.json"
$OTBENCH merge "$OUT"/otd-*-*.json --out "$OUT/otd.json"
BASES=("$OUT/opentracker.json")
if [ "$BTT" != 0 ]; then
  shopt -s nullglob
  BTT_REPORTS=("$OUT"/bittorrent-tracker-*-*.json)
  shopt -u nullglob
  if [ "${#BTT_REPORTS[@]}" -gt 0 ]; then
    $OTBENCH merge "${BTT_REPORTS[@]}" --out "$OUT/bittorrent-tracker.json"
    BASES+=("$OUT/bittorrent-tracker.json")
  else
    echo "no bittorrent-tracker report: every run failed" >&2
  fi
fi
# One table: a column per tracker, otd's ratio to opentracker and to bittorrent-tracker.
$OTBENCH compare "${BASES[@]}" "$OUT/otd.json" --max-regression 100% || true
if [ "${#BASES[@]}" -gt 1 ]; then
  echo "note: bittorrent-tracker has no repro-10k figures: it refuses testsuite.sh's requests (no peer_id)"
fi
if [ "${#BASES[@]}" -gt 1 ] && [ "$BTT_PEERS_PER_TORRENT" != 10 ]; then
  echo "note: bittorrent-tracker's preload was $BTT_PEERS_PER_TORRENT peers per torrent over the same 100k torrents, not 10 (1M peers) like the others: its preload.* figures are not like for like"
fi
