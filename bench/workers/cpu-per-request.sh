#!/bin/sh
# CPU cost per request of `otd --workers 1` against `--workers 2` (docs/workers.md, "Measurements").
# Interleaved rounds (1, 2, 1, 2, ...) so that drift of the noisy VM hits both alike; prints each
# run and writes the otbench JSON reports to $OUT. Run from the repository root after `npx tsc -b`:
#   bench/workers/cpu-per-request.sh ROUNDS DURATION udp|http [more otbench flags]
set -eu
ROUNDS=${1:-5}
DURATION=${2:-10s}
CMD=${3:-udp}
shift 3 2>/dev/null || shift $#
OUT=${OUT:-/tmp/otd-workers-bench}
mkdir -p "$OUT"
for r in $(seq 1 "$ROUNDS"); do
  for w in 1 2; do
    f="$OUT/$CMD-w$w-r$r.json"
    npx node packages/loadgen/bin/otbench.js "$CMD" \
      --spawn "node packages/daemon/bin/otd.js -i 127.0.0.1 -p 0 -P 0 --workers $w" \
      --duration "$DURATION" --json "$@" > "$f" 2>/dev/null
    npx node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
      const f = r.figures.filter((x) => !x.info).map((x) => `${x.name}=${x.value}`).join(" ")
      console.log(`workers=${process.argv[2]} round=${process.argv[3]} ${f}`)' "$f" "$w" "$r" 2>/dev/null
  done
done
npx node -e '
  const fs = require("fs"); const dir = process.argv[1]; const cmd = process.argv[2]
  const med = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2 }
  const by = {}
  for (const f of fs.readdirSync(dir).filter((f) => f.startsWith(cmd + "-w"))) {
    const w = f.match(/-w(\d+)-/)[1]
    for (const x of JSON.parse(fs.readFileSync(dir + "/" + f, "utf8")).figures) ((by[x.name] ??= {})[w] ??= []).push(x.value)
  }
  for (const [name, ws] of Object.entries(by)) {
    const m1 = med(ws[1] ?? []), m2 = med(ws[2] ?? [])
    console.log(`${name}: median workers=1 ${m1} (n=${ws[1]?.length}), workers=2 ${m2} (n=${ws[2]?.length}), ratio 2/1 ${(m2 / m1).toFixed(3)}`)
  }' "$OUT" "$CMD" 2>/dev/null
