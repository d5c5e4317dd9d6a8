#!/bin/sh
# CPU cost per request of `otd --workers N` against `--workers 1` (docs/workers.md, "Measurements").
# Rounds are interleaved (1, 2, 1, 2, ...) so that the drift of a noisy VM hits every variant
# alike. Each run prints its figures; at the end, medians per worker count and their ratio to
# one worker. The otbench JSON reports stay in $OUT. Run from the repository root after
# `npx tsc -b`:
#   WORKERS="1 2" bench/workers/cpu-per-request.sh ROUNDS DURATION udp|http [more otbench flags]
# e.g. bench/workers/cpu-per-request.sh 7 10s udp --warmup 5s
set -eu
ROUNDS=${1:-5}
DURATION=${2:-10s}
CMD=${3:-udp}
shift 3 2>/dev/null || shift $#
WORKERS=${WORKERS:-1 2}
OUT=${OUT:-/tmp/otd-workers-bench}
TAG=${TAG:-$CMD}
# The pinned Node 24 (reusePort needs Node >= 22.12): otbench spawns `node` from PATH.
PATH="$(pwd)/node_modules/.bin:$PATH"
export PATH
mkdir -p "$OUT"
for r in $(seq 1 "$ROUNDS"); do
  for w in $WORKERS; do
    f="$OUT/$TAG-w$w-r$r.json"
    node packages/loadgen/bin/otbench.js "$CMD" \
      --spawn "node packages/daemon/bin/otd.js -i 127.0.0.1 -p 0 -P 0 --workers $w" \
      --duration "$DURATION" --json "$@" > "$f" 2>/dev/null
    node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
      const f = r.figures.map((x) => `${x.name}=${x.value}`).join(" ")
      console.log(`workers=${process.argv[2]} round=${process.argv[3]} ${f}`)' "$f" "$w" "$r"
  done
done
node -e '
  const fs = require("fs"); const [dir, tag] = process.argv.slice(1)
  const med = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2 }
  const by = {}
  for (const f of fs.readdirSync(dir).filter((f) => f.startsWith(tag + "-w"))) {
    const w = f.match(/-w(\d+)-r/)[1]
    for (const x of JSON.parse(fs.readFileSync(dir + "/" + f, "utf8")).figures) ((by[x.name] ??= {})[w] ??= []).push(x.value)
  }
  for (const [name, ws] of Object.entries(by)) {
    const one = med(ws[1] ?? [NaN])
    console.log(name + ": " + Object.entries(ws).map(([w, v]) => `workers=${w} median ${med(v)} (n=${v.length}, runs ${v.join(" ")})` + (w === "1" ? "" : `, ratio to 1: ${(med(v) / one).toFixed(3)}`)).join("; "))
  }' "$OUT" "$TAG"
