#!/usr/bin/env bash
# RSS of otd (1M peers preloaded) every 15 full scrapes (gzip, zstd, identity in turn): it levels off.
cd "$(dirname "$0")/../.."
N=${NODE:-$(pwd)/node_modules/node/bin/node}
PORT=16981
$N packages/daemon/bin/otd.js -i 127.0.0.1 -p $PORT -P $PORT > "${TMPDIR:-/tmp}/rss-otd.log" 2>&1 &
OTD=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/stats" && break; sleep 0.1; done
$N packages/loadgen/bin/otbench.js preload --target udp://127.0.0.1:$PORT --pid $OTD | grep "^preload"
for i in $(seq 1 12); do
  for k in 1 2 3 4 5; do for enc in gzip zstd identity; do curl -s -H "Accept-Encoding: $enc" -o /dev/null "http://127.0.0.1:$PORT/scrape"; done; done
  echo "after $((i*15)) scrapes: $(awk '/VmRSS/ {print $2}' /proc/$OTD/status) kB"
done
kill $OTD
