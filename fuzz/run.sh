#!/usr/bin/env bash
# Runs the cargo-fuzz targets, two at a time, each for SECONDS (default 600), niced.
# Release build with debug assertions (-a), so integer overflow is a crash too.
# Works on the stable toolchain through RUSTC_BOOTSTRAP=1 (cargo-fuzz passes nightly-only flags).
# New inputs go to $FUZZ_WORK/<target> (default /tmp/cra-tui-fuzz); the saved corpus in
# fuzz/corpus/<target> is read as seeds, never written. Crashes land in fuzz/artifacts/<target>/.
#   usage: fuzz/run.sh [SECONDS] [TARGET...]     (extra libFuzzer flags: FUZZ_FLAGS="-fork=1 -ignore_crashes=1")
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-600}"; shift || true
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(kraken coinbase gemini capture)
work="${FUZZ_WORK:-/tmp/cra-tui-fuzz}"
export RUSTC_BOOTSTRAP=1
cargo fuzz build -s none -O -a
run() {
  local t="$1"; mkdir -p "$work/$t"
  nice cargo fuzz run -s none -O -a "$t" "$work/$t" "fuzz/corpus/$t" -- \
    -max_total_time="$secs" -max_len=32768 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 ${FUZZ_FLAGS:-} \
    >"$work/$t.log" 2>&1 || echo "$t: fuzzer exited non-zero (see $work/$t.log and fuzz/artifacts/$t)"
  # Plain mode ends with "Done N runs"; fork mode (-fork=1) prints "#N: cov: … crash: a/b/c" lines.
  { grep -E '^stat::number_of_executed_units|^Done' "$work/$t.log"; grep -E '^#[0-9]+: cov' "$work/$t.log" | tail -n 1; } |
    sed "s/^/$t: /" || true
}
i=0
for t in "${targets[@]}"; do
  run "$t" & i=$((i+1))
  if [ $((i % 2)) -eq 0 ]; then wait; fi
done
wait
