#!/usr/bin/env bash
# Soak: runs `cra-tui --demo --headless` (release build) with the simulated venues at a high update
# rate and samples its resident memory every 10 s, to show memory is flat after warm-up.
#   usage: scripts/soak.sh [MINUTES]            (default 30)
#   env:   RATE     simulated updates per second per venue (default 2000, i.e. 6000/s in total)
#          OUT      output directory (default /tmp/cra-tui-soak)
#          NO_BUILD=1 to skip `cargo build --release`
# Writes $OUT/rss.csv (elapsed_s,rss_kib), $OUT/headless.ndjson (one line a second) and prints the
# RSS at start, after warm-up (60 s), at the end, and the maximum after warm-up.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-30}"
rate="${RATE:-2000}"
out="${OUT:-/tmp/cra-tui-soak}"
warmup=60
mkdir -p "$out/logs"
[ "${NO_BUILD:-0}" = 1 ] || nice cargo build --release --quiet
bin=target/release/cra-tui
echo "elapsed_s,rss_kib" > "$out/rss.csv"
CRA_TUI_DEMO_RATE="$rate" nice "$bin" --demo --headless --interval-ms 1000 --log-dir "$out/logs" \
  > "$out/headless.ndjson" 2> "$out/stderr.txt" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
start=$(date +%s)
end=$((start + minutes * 60))
while :; do
  now=$(date +%s)
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  [ -n "$rss" ] || { echo "cra-tui exited early (see $out/stderr.txt)"; exit 1; }
  echo "$((now - start)),$rss" >> "$out/rss.csv"
  [ "$now" -lt "$end" ] || break
  sleep 10
done
kill -TERM "$pid"; wait "$pid" || true
trap - EXIT
lines=$(wc -l < "$out/headless.ndjson")
last=$(tail -n 1 "$out/headless.ndjson")
awk -F, -v w="$warmup" -v rate="$rate" -v lines="$lines" '
  NR == 1 { next }
  NR == 2 { first = $2 }
  $1 >= w && !warm { warm = $2; wt = $1 }
  $1 >= w { if ($2 > max) max = $2 }
  { lastv = $2; lt = $1 }
  END {
    printf "soak: %d s at %d updates/s per venue, %d headless lines\n", lt, rate, lines
    printf "RSS start %.1f MiB, after warm-up (%d s) %.1f MiB, end %.1f MiB, max after warm-up %.1f MiB, end - warm-up %+.1f MiB\n",
      first / 1024, wt, warm / 1024, lastv / 1024, max / 1024, (lastv - warm) / 1024
  }' "$out/rss.csv"
echo "last line: ${last:0:400}"
